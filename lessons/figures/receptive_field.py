"""Week 3's pictures: what one unit of a MobileNetV2 layer sees on a photo.

:func:`field_figure` draws, for a layer and a unit, the unit's theoretical field over the
photo (clipped to it: the rest is padding) and its effective field, the |gradient| of that
unit with respect to the photo, with the square that holds 95 % of it; every figure says
which weights the model has. :func:`padding_figure` draws the fields of a few units to
scale around the image. The numbers come from :mod:`lessons.receptive_field`.

Public API: :func:`draw_field`, :func:`padding_figure`, :func:`field_figure`.
"""
import matplotlib.pyplot as plt
from matplotlib.colors import PowerNorm
from matplotlib.patches import Rectangle

from lessons import receptive_field as rf


def _draw_box(ax, box, **style):
    (top, bottom), (left, right) = box
    # Pixel i covers [i - 0.5, i + 0.5] in imshow's coordinates.
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left + 1, bottom - top + 1, fill=False, **style))


def _square(centre, side):
    half = (side - 1) / 2
    return tuple((round(c - half), round(c + half)) for c in centre)


def draw_field(pixels, heatmap, field, unit, title=""):
    """Two panels: the photo with the unit's theoretical field, and its effective field.

    ``heatmap`` is an (h, w) map summing to 1, e.g. from :func:`rf.effective_field`.
    """
    centre = (field.rows.centre(unit[0]), field.cols.centre(unit[1]))
    side = rf.mass_square(heatmap, centre)
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2))
    axes[0].imshow(pixels)
    # A square-root scale: the gradient is so peaked that a linear one shows a dot on black.
    axes[1].imshow(heatmap, cmap="magma", norm=PowerNorm(0.5))
    for ax in axes:
        _draw_box(ax, field.box(unit, heatmap.shape), edgecolor="deepskyblue", linewidth=2.5,
                  label=f"theoretical field {field.size} px (clipped)")
        _draw_box(ax, _square(centre, side), edgecolor="lime", linewidth=1.5, linestyle="--",
                  label=f"{rf.MASS_FRACTION:.0%} of |gradient|: {side:g} px")
        ax.plot(centre[1], centre[0], "+", color="white", markersize=12, markeredgewidth=2)
        ax.set_xlim(-0.5, heatmap.shape[1] - 0.5)
        ax.set_ylim(heatmap.shape[0] - 0.5, -0.5)
        ax.axis("off")
    axes[0].set_title("theoretical field over the photo")
    axes[1].set_title("effective field: |d unit / d pixel| (square-root scale)")
    axes[1].legend(loc="lower center", bbox_to_anchor=(0.5, -0.16), fontsize=9)
    (top, bottom), (left, right) = field.box(unit)
    fig.suptitle(f"{title}\nunit {unit} of {field.grid[0]}×{field.grid[1]}: field rows {top}..{bottom}, "
                 f"cols {left}..{right} (the image is 0..{heatmap.shape[0] - 1})", fontsize=10)
    fig.tight_layout()
    return fig


def padding_figure(field, units, image_size=rf.IMAGE_SIZE):
    """The fields of a few ``units`` of one layer drawn to scale around the image (grey square)."""
    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    ax.add_patch(Rectangle((-0.5, -0.5), image_size, image_size, color="0.85", label=f"the {image_size}-px image"))
    for unit, color in zip(units, plt.cm.tab10.colors):
        _draw_box(ax, field.box(unit), edgecolor=color, linewidth=2, label=f"unit {unit}: field {field.size} px")
        ax.plot(field.cols.centre(unit[1]), field.rows.centre(unit[0]), "+", color=color, markersize=12)
    centres = [field.cols.centre(u) for u in range(field.cols.length)]
    ax.plot(centres, [-0.5] * len(centres), "k|", markersize=14, label="unit centres (top edge)")
    (top, _), (left, _) = field.box((0, 0))
    (_, bottom), (_, right) = field.box((field.rows.length - 1, field.cols.length - 1))
    ax.set_xlim(left - 10, right + 10)
    ax.set_ylim(bottom + 10, top - 10)
    ax.set_aspect("equal")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(f"{field.name}: the fields of {len(units)} units, to scale with the image")
    fig.tight_layout()
    return fig


def field_figure(photo, layer=rf.DEFAULT_LAYER, unit=None):
    """(Figure, data of :func:`lessons.receptive_field.field_data`) for one photo, layer and unit."""
    data = rf.field_data(photo, layer, unit)
    fig = draw_field(data["pixels"], data["heatmap"], data["field"], data["unit"],
                     title=f"{layer}: {data['weights']}")
    return fig, data
