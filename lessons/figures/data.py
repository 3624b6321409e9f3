"""Pictures of the data before training, each a matplotlib Figure.

How many photos each class has (:func:`class_counts_figure`), what they look like
(:func:`photo_grid_figure`) and what augmentation does to one (:func:`augmentation_figure`,
and :func:`preview_figure` for the colour augmentations of week 4).
Photos are shown as the model sees them, letterboxed to a square by
:func:`lessons.images.load_pixels`.

Public API: :func:`class_counts_figure`, :func:`photo_grid_figure`, :func:`augmentation_figure`,
:func:`preview_figure`.
"""
import numpy as np

from lessons import images


def class_counts_figure(counts_by_part, title="Photos per class"):
    """Stacked bars: ``{part: {class: photos}}``, e.g. the train / val / test counts."""
    import matplotlib.pyplot as plt

    parts = list(counts_by_part)
    classes = list(counts_by_part[parts[0]])
    fig, ax = plt.subplots(figsize=(1.5 + 0.7 * len(classes), 3.8))
    bottom = np.zeros(len(classes))
    for part in parts:
        values = np.array([counts_by_part[part][name] for name in classes])
        ax.bar(classes, values, bottom=bottom, label=f"{part} ({values.sum()})")
        bottom += values
    for x, total in enumerate(bottom):
        ax.text(x, total, f"{total:.0f}", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("photos")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def photo_grid_figure(dataset, per_class=4, image_size=96):
    """One row per class of ``dataset`` (a :class:`lessons.data.Dataset`), its first photos."""
    import matplotlib.pyplot as plt

    rows = len(dataset.class_names)
    fig, axes = plt.subplots(rows, per_class, figsize=(1.3 * per_class + 1, 1.3 * rows), squeeze=False)
    for label, name in enumerate(dataset.class_names):
        chosen = np.flatnonzero(dataset.labels == label)[:per_class]
        for column, ax in enumerate(axes[label]):
            if column < len(chosen):
                ax.imshow(images.load_pixels(dataset.paths([chosen[column]])[0], image_size))
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(False)
        axes[label, 0].set_ylabel(name, rotation=0, ha="right", va="center")
    fig.suptitle(f"The first {per_class} photos of each class")
    fig.tight_layout()
    return fig


def augmentation_figure(pixels, augment, copies=7):
    """One photo (size x size x 3, 0..255) and ``copies`` random augmentations of it."""
    import matplotlib.pyplot as plt

    batch = np.repeat(pixels[None].astype("float32"), copies, axis=0)
    augmented = np.clip(np.asarray(augment(batch, training=True)), 0, 255).astype("uint8")
    columns = 4
    rows = -(-(copies + 1) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.3 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i <= copies:
            ax.imshow(pixels if i == 0 else augmented[i - 1])
            ax.set_title("original" if i == 0 else f"augmented {i}", fontsize=9)
    fig.suptitle("What the network sees of one photo, epoch after epoch")
    fig.tight_layout()
    return fig


def preview_figure(photo, augmenters, copies=5):
    """One row per ``{name: layer}``: the photo (h, w, 3; 0..255), then ``copies`` outputs
    of the layer called with ``training=True``."""
    import matplotlib.pyplot as plt

    batch = np.repeat(np.asarray(photo, dtype="float32")[None], copies, axis=0)
    fig, axes = plt.subplots(len(augmenters), copies + 1, figsize=(1.7 * (copies + 1), 1.9 * len(augmenters)),
                             squeeze=False)
    for row, (name, layer) in zip(axes, augmenters.items()):
        shifted = np.clip(np.asarray(layer(batch, training=True)), 0, 255).astype("uint8")
        for column, ax in enumerate(row):
            ax.imshow(photo if column == 0 else shifted[column - 1])
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(name, fontsize=9)
    axes[0, 0].set_title("original", fontsize=9)
    fig.tight_layout()
    return fig
