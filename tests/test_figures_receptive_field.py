"""Week 3's figures draw the fields of lessons.receptive_field."""
import numpy as np
from matplotlib.patches import Rectangle

from lessons import mobilenetv2
from lessons import paths
from lessons import receptive_field as rf
from lessons.figures import receptive_field as figures



def corners(box):
    """(x, y, width, height) of the rectangle that covers a ((top, bottom), (left, right)) pixel box."""
    (top, bottom), (left, right) = box
    return left - 0.5, top - 0.5, right - left + 1, bottom - top + 1


def rectangle(patch):
    return patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height()


def test_the_figure_draws_the_clipped_field():
    fig, data = figures.field_figure(paths.sample_photo_per_class()[0], "block_13_project_BN", (0, 6))
    photo_ax, heatmap_ax = fig.axes
    np.testing.assert_array_equal(photo_ax.images[0].get_array(), data["pixels"])
    np.testing.assert_array_equal(heatmap_ax.images[0].get_array(), data["heatmap"])
    for ax in fig.axes:  # first the theoretical field, then the effective square
        field_box, effective = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert rectangle(field_box) == corners(data["box"])
        assert rectangle(effective)[2:] == (data["effective_side"], data["effective_side"])
    assert f"{data['effective_side']:g} px" in heatmap_ax.get_legend().get_texts()[1].get_text()
    assert "block_13_project_BN" in fig.get_suptitle() and data["weights"] in fig.get_suptitle()


def test_the_padding_figure_draws_each_unit_to_scale():
    field = rf.field_of(rf.walk(mobilenetv2.build_backbone(96, weights="none")), "block_6_project_BN")
    units = [(0, 0), (2, 3), (5, 5)]
    fig = figures.padding_figure(field, units, image_size=96)
    image, *boxes = fig.axes[0].patches
    assert rectangle(image) == (-0.5, -0.5, 96, 96)
    assert [rectangle(box) for box in boxes] == [corners(field.box(unit)) for unit in units]
    assert f"the fields of {len(units)} units" in fig.axes[0].get_title()
