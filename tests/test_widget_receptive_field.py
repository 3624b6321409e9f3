"""The receptive-field widget's functions (what the notebook's sliders and the Gradio app call)."""
import time

import matplotlib
import numpy as np
import pytest
from matplotlib.patches import Rectangle

from lessons import paths
from lessons import receptive_field as rf
from widgets import receptive_field as widget

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def photo():
    return widget.sample_photos()[0]


def test_the_choices_are_the_block_ends():
    choices = widget.layer_choices()
    assert len(choices) == 19 and choices[-1][1] == "out_relu" and choices[0][1] == "Conv1_relu"
    assert choices[14][0].startswith("block 13: block_13_project_BN (7×7 units, field 299 px)")


def test_the_sample_photos_are_real_files():
    photos = widget.sample_photos()
    assert len(photos) == 10 and all(p.is_file() and p.is_relative_to(paths.SAMPLE_DATA) for p in photos)


def test_unit_at_maps_positions_onto_the_grid():
    field = rf.field_of(widget.backbone()[2], "block_6_project_BN")  # 14 x 14
    assert widget.unit_at(field, (0, 1)) == (0, 13)
    assert widget.unit_at(field, (0.5, 0.5)) == field.centre_unit() == (7, 7)


def test_field_data_for_the_last_layer(photo):
    data = widget.field_data(photo)
    assert data["unit"] == (3, 3) and data["pixels"].shape == (224, 224, 3)
    assert data["heatmap"].shape == (224, 224) and data["heatmap"].sum() == pytest.approx(1)
    # 491 px around pixel 127: far beyond the 224-px image on every side, so clipped to all of it
    assert data["full_box"] == ((-118, 372), (-118, 372)) and data["box"] == ((0, 223), (0, 223))
    assert data["centre"] == (127, 127)
    assert 0 < data["effective_side"] < data["field"].size
    assert data["weights"].startswith("ImageNet weights")


def test_a_corner_unit_of_a_middle_layer(photo):
    data = widget.field_data(photo, "block_6_project_BN", (0, 13))
    assert data["full_box"] == ((-22, 52), (186, 260)) and data["box"] == ((0, 52), (186, 223))
    (top, bottom), (left, right) = data["box"]
    assert data["heatmap"][top:bottom + 1, left:right + 1].sum() == pytest.approx(1)  # nothing outside


def test_the_photo_can_be_an_array_or_bytes(photo):
    from_path = widget.field_data(photo, "block_2_add")["heatmap"]
    from_bytes = widget.field_data(photo.read_bytes(), "block_2_add")["heatmap"]
    np.testing.assert_allclose(from_bytes, from_path)


def test_a_unit_outside_the_grid_is_refused(photo):
    with pytest.raises(ValueError, match="outside"):
        widget.field_data(photo, "out_relu", (7, 0))


def test_the_figure_draws_the_clipped_field(photo):
    fig, data = widget.field_figure(photo, "block_13_project_BN", (0, 6))
    try:
        assert len(fig.axes) == 2 and "block_13_project_BN" in fig._suptitle.get_text()
        boxes = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
        field_box = boxes[0]  # first the theoretical field, then the effective square
        (top, bottom), (left, right) = data["box"]
        assert (field_box.get_x(), field_box.get_y()) == (left - 0.5, top - 0.5)
        assert (field_box.get_width(), field_box.get_height()) == (right - left + 1, bottom - top + 1)
        assert f"{data['effective_side']:g} px" in fig.axes[1].get_legend().get_texts()[1].get_text()
    finally:
        matplotlib.pyplot.close(fig)


def test_one_photo_takes_about_a_second_once_the_model_is_built(photo):
    widget.field_data(photo, "block_16_project_BN")  # builds that layer's sub-model
    start = time.perf_counter()
    widget.field_data(photo, "block_16_project_BN", (1, 2))
    assert time.perf_counter() - start < 5  # ~0.5 s on two busy CPU cores; a rebuilt model takes far longer


def test_show_receptive_field_builds_the_controls():
    controls = widget.show_receptive_field()
    names = [getattr(child, "description", "") for child in controls.children]
    assert names[:4] == ["layer", "photo", "unit row", "unit col"]
