"""Week 3's picture of Grad-CAM maps: what the network computes, and what the app shows.

Public API: :func:`maps_figure`.
"""
import numpy as np

from lessons import gradcam


def maps_figure(photos, cams, titles=None, colormap="inferno"):
    """Each photo with its map twice: as computed, one square per cell of the last feature
    map (top row), and upsampled as :func:`lessons.gradcam.overlay` and the app draw it (bottom row).

    ``photos`` are uint8 pixels (h, w, 3) and ``cams`` their maps from :class:`lessons.gradcam.GradCam`.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(photos), figsize=(2.6 * len(photos), 5.6), squeeze=False)
    for column, (pixels, cam) in enumerate(zip(photos, cams)):
        height, width = pixels.shape[:2]
        cells, upsampled = axes[0, column], axes[1, column]
        cells.imshow(pixels)
        # The cells tile the photo edge to edge (imshow draws pixel i from i - 0.5 to i + 0.5),
        # where overlay()'s upsampling puts them too; "nearest" keeps each cell a flat square.
        cells.imshow(cam, cmap=colormap, alpha=0.6, interpolation="nearest",
                     extent=(-0.5, width - 0.5, height - 0.5, -0.5))
        upsampled.imshow(gradcam.overlay(pixels, cam, colormap=colormap))
        if titles is not None:
            cells.set_title(titles[column], fontsize=9)
        for ax in (cells, upsampled):
            ax.set_xticks([])
            ax.set_yticks([])
    rows, columns = np.shape(cams[0])
    axes[0, 0].set_ylabel(f"as computed: {rows}×{columns} cells")
    axes[1, 0].set_ylabel("upsampled (as the app shows it)")
    fig.tight_layout()
    return fig
