"""What one unit of a MobileNetV2 layer sees on a photo: its theoretical and effective field.

Choose a layer (the end of each block) and a unit: the left panel draws the unit's
theoretical field over the photo (clipped to it: the rest is padding), the right panel the
effective field, the |gradient| of that unit with respect to the photo, with the square
that holds 95 % of it. The numbers come from :mod:`lessons.receptive_field`.

The model (MobileNetV2 at 224 px with the course's ImageNet weights; every figure says
which weights) is built once and kept, and so is each layer's
sub-model, so one photo's field takes a fraction of a second on a CPU.
"""
import functools

import matplotlib.pyplot as plt
from matplotlib.colors import PowerNorm
from matplotlib.patches import Rectangle

from lessons import images, paths
from lessons import receptive_field as rf
from lessons.model import block_of, describe_weights
from widgets.controls import linked_figure

IMAGE_SIZE = 224
DEFAULT_LAYER = "out_relu"


@functools.lru_cache(maxsize=1)
def backbone():
    """(MobileNetV2 base at 224 px, a label saying which weights, its :func:`rf.walk` rows)."""
    from lessons.model import build_backbone

    base = build_backbone(IMAGE_SIZE)
    return base, describe_weights(), rf.walk(base)


@functools.lru_cache(maxsize=None)
def part_model(layer):
    """The base from its input up to ``layer``."""
    import keras

    base = backbone()[0]
    return keras.Model(base.input, base.get_layer(layer).output, name=f"up_to_{layer}")


def layer_choices():
    """(label, layer name) of the last layer of each part: stem, blocks 0-16, top."""
    return [(f"{_part(row.name)}: {row.name} ({row.grid[0]}×{row.grid[1]} units, field {row.size} px)",
             row.name) for row in rf.block_ends(backbone()[2])]


def _part(layer):
    part = block_of(layer)
    return f"block {part}" if isinstance(part, int) else part


def sample_photos():
    """The first sample photo of each class: what the widget offers by default."""
    return [sorted(folder.glob("*.jpg"))[0] for folder in sorted(paths.SAMPLE_DATA.iterdir()) if folder.is_dir()]


def unit_at(field, position):
    """The unit at a relative ``position`` (row, col), each 0 (top/left) .. 1 (bottom/right)."""
    return tuple(int(p * (n - 1) + 0.5) for p, n in zip(position, field.grid))


def field_data(photo, layer=DEFAULT_LAYER, unit=None):
    """Everything the figure shows, for ``photo`` (a path, upload bytes, PIL image or array).

    ``unit`` is (row, col) in the layer's grid; default: its centre unit.
    """
    pixels = images.load_pixels(photo, IMAGE_SIZE)
    _, weights, rows = backbone()
    field = rf.field_of(rows, layer)
    unit = field.centre_unit() if unit is None else tuple(unit)
    if not all(0 <= u < n for u, n in zip(unit, field.grid)):
        raise ValueError(f"unit {unit} is outside {layer}'s {field.grid[0]}×{field.grid[1]} grid")
    heatmap, _ = rf.effective_field(part_model(layer), pixels[None], unit)
    centre = (field.rows.centre(unit[0]), field.cols.centre(unit[1]))
    return {"pixels": pixels, "heatmap": heatmap, "layer": layer, "unit": unit, "field": field,
            "centre": centre, "box": field.box(unit, pixels.shape[:2]), "full_box": field.box(unit),
            "effective_side": rf.mass_square(heatmap, centre), "weights": weights}


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


def padding_figure(field, units, image_size=IMAGE_SIZE):
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


def field_figure(photo, layer=DEFAULT_LAYER, unit=None):
    """(Figure, data of :func:`field_data`) for one photo, layer and unit."""
    data = field_data(photo, layer, unit)
    fig = draw_field(data["pixels"], data["heatmap"], data["field"], data["unit"],
                     title=f"{layer}: {data['weights']}")
    return fig, data


def show_receptive_field(photos=None):
    """The interactive version, for Jupyter: a layer, a photo and the unit's position."""
    import ipywidgets as widgets

    photos = list(photos or sample_photos())

    def draw(layer, photo, row, col):
        field = rf.field_of(backbone()[2], layer)
        return field_figure(photo, layer, unit_at(field, (row, col)))

    def position(description):
        return widgets.FloatSlider(value=0.5, min=0, max=1, step=0.05, description=description,
                                   continuous_update=False)

    return linked_figure(draw, {
        "layer": widgets.Dropdown(options=layer_choices(), value=DEFAULT_LAYER, description="layer"),
        "photo": widgets.Dropdown(options=[(getattr(p, "name", f"photo {i}"), p) for i, p in enumerate(photos)],
                                  description="photo"),
        "row": position("unit row"), "col": position("unit col")})
