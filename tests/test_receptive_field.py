"""The receptive-field walker: hand-checked models, brute-force gradients, the real MobileNetV2."""
import time

import keras
import numpy as np
import pytest

from lessons import mobilenetv2
from lessons import paths
from lessons import receptive_field as rf
from lessons.exercises import week3

L = keras.layers


def functional(size, *layers):
    """A one-channel-input model: the layers applied in a chain to a size x size input."""
    inputs = keras.Input((size, size, 1))
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x)


def last(model):
    return rf.walk(model)[-1]


def conv(kernel=3, stride=1, padding="valid", dilation=1, channels=2):
    return L.Conv2D(channels, kernel, strides=stride, padding=padding, dilation_rate=dilation)


# ---- hand-checkable models ---------------------------------------------------------------

@pytest.mark.parametrize("layers, size, jump, first, units", [
    ([conv()], 3, 1, 0, 8),                                           # one 3x3 conv
    ([conv(), conv(), conv()], 7, 1, 0, 4),                           # 3 + 2 + 2
    ([conv(stride=2), conv()], 7, 2, 0, 2),                           # 3, then 2 taps of jump 2
    ([conv(stride=2), conv(stride=2)], 7, 4, 0, 1),
    ([conv(dilation=2)], 5, 1, 0, 6),                                 # 3 taps spread over 5 pixels
    ([conv(dilation=2), conv(dilation=2)], 9, 1, 0, 2),
    ([conv(padding="same")], 3, 1, -1, 10),                           # one zero before each edge
    ([conv(5, padding="same")], 5, 1, -2, 10),
    ([conv(stride=2, padding="same")], 3, 2, 0, 5),                   # even size: TF pads (0, 1)
    ([L.ZeroPadding2D(((0, 1), (0, 1))), conv(stride=2)], 3, 2, 0, 5),  # MobileNetV2's stride-2 padding
    ([L.ZeroPadding2D(2), conv()], 3, 1, -2, 12),
    ([L.MaxPooling2D()], 2, 2, 0, 5),
    ([conv(), L.AveragePooling2D(3, strides=2, padding="same")], 5, 2, 0, 4),  # 8 units: pads (0, 1)
    ([L.Cropping2D(1), conv()], 3, 1, 1, 6),
    ([conv(), L.BatchNormalization(), L.ReLU(6.0), L.Dropout(0.5), conv(1)], 3, 1, 0, 8),  # pointwise
])
def test_hand_checked_fields(layers, size, jump, first, units):
    row = last(functional(10, *layers))
    assert (row.rows.size, row.rows.jump, row.rows.first, row.rows.length) == (size, jump, first, units)
    assert row.cols == row.rows
    assert row.offset == first + (size - 1) / 2


def test_odd_sizes_pad_on_both_sides():
    """'same' with stride 2 pads (1, 1) on an odd size and (0, 1) on an even one."""
    assert rf.same_padding(11, 3, 2) == (1, 1) and rf.same_padding(10, 3, 2) == (0, 1)
    assert last(functional(11, conv(stride=2, padding="same"))).rows.first == -1
    assert rf.same_padding(10, 3, 1, dilation=2) == (2, 2)


def test_asymmetric_padding_moves_rows_and_columns_apart():
    row = last(functional(10, L.ZeroPadding2D(((1, 2), (0, 0))), conv(stride=2)))
    assert (row.rows.first, row.cols.first) == (-1, 0)
    assert row.offset == (0.0, 1.0) and row.size == 3 and row.grid == (6, 4)


def two_branch_model(size=12):
    """A residual block: a 3x3 branch beside a 1x1 shortcut, added, then a 5x5 branch
    beside a 3x3 one after a stride, concatenated."""
    inputs = keras.Input((size, size, 1))
    x = L.Add()([conv(padding="same")(inputs), conv(1, padding="same")(inputs)])
    x = conv(stride=2, padding="same")(x)
    x = L.Concatenate()([conv(5, padding="same")(x), conv(3, padding="same")(x)])
    return keras.Model(inputs, x)


def test_branches_merge_into_the_union_of_their_fields():
    rows = rf.walk(two_branch_model())
    add = rf.field_of(rows, rows[[r.layer for r in rows].index("Add")].name)
    assert (add.rows.size, add.rows.first) == (3, -1)  # the 1x1 shortcut lies inside the 3x3 branch
    merged = rows[-1]
    assert merged.layer == "Concatenate"
    # after the stride (field 3 + 2 = 5, jump 2), the 5x5 branch adds 4 jumps: 13 px
    assert (merged.rows.size, merged.rows.jump, merged.rows.first) == (13, 2, -5)


def test_merge_refuses_fields_that_step_differently():
    with pytest.raises(ValueError, match="jumps"):
        rf.merge_axes([rf.Axis(3, 1, 0, 8), rf.Axis(3, 2, 0, 8)])
    # different starts are fine: the union covers both
    assert rf.merge_axes([rf.Axis(3, 2, 0, 4), rf.Axis(1, 2, 4, 4)]) == rf.Axis(5, 2, 0, 4)


def test_global_pooling_sees_the_whole_input_and_dense_keeps_it():
    row = last(functional(10, conv(stride=2), L.GlobalAveragePooling2D(), L.Dense(3)))
    assert row.grid == (1, 1) and (row.rows.size, row.rows.first) == (3 + 3 * 2, 0)  # 4 units, 2 apart


def test_unknown_layers_and_free_sizes_are_refused_clearly():
    with pytest.raises(TypeError, match="UpSampling2D"):
        rf.walk(functional(8, L.UpSampling2D()))
    inputs = keras.Input((None, None, 3))
    with pytest.raises(ValueError, match="fixed input size"):
        rf.walk(keras.Model(inputs, conv()(inputs)))


def test_a_nested_model_is_walked_inside():
    classifier = mobilenetv2.build_classifier(10, image_size=96, weights="none")
    rows = rf.walk(classifier)
    base_rows = rf.walk(mobilenetv2.base_of(classifier))
    inner = [r for r in rows if r.name.startswith(f"{mobilenetv2.BASE_NAME}/")]
    assert [r.name.split("/")[1] for r in inner] == [r.name for r in base_rows[1:]]
    assert [(r.rows, r.cols) for r in inner] == [(r.rows, r.cols) for r in base_rows[1:]]
    assert rf.field_of(rows, "out_relu").size == rf.field_of(base_rows, "out_relu").size
    assert rf.field_of(rows, "pool").size == 491 + (3 - 1) * 32  # 3x3 units at 96 px


def test_sequential_models_work_too():
    model = keras.Sequential([keras.Input((10, 10, 1)), conv(), L.MaxPooling2D(), conv()])
    assert (last(model).size, last(model).jump) == (3 + 1 + 2 * 2, 2)


# ---- brute force: the gradient's support is the field -------------------------------------

def positive_inputs(model, count=1, seed=0):
    """Inputs in (0, 1e-3): with positive weights every ReLU stays linear (see set_positive_weights)."""
    shape = (count, *model.input.shape[1:])
    return np.random.default_rng(seed).uniform(0.1, 1.0, shape).astype("float32") * 1e-3


def units_to_try(row):
    height, width = row.grid
    return sorted({(0, 0), row.centre_unit(), (height - 1, width - 1), (0, width - 1)})


def assert_support_is_the_field(model, layer=None, count=1, holes=False):
    part = model if layer is None else keras.Model(model.input, model.get_layer(layer).output)
    row = rf.field_of(rf.walk(model), layer) if layer else last(model)
    image = model.input.shape[1:3]
    for unit in units_to_try(row):
        gradient = rf.input_gradient(part, positive_inputs(model, count), unit).sum(axis=0)
        box = row.box(unit, image)
        assert rf.support_box(gradient) == box, (layer, unit)
        if not holes:  # every pixel of the field counts, none outside it
            (top, bottom), (left, right) = box
            assert (gradient[top:bottom + 1, left:right + 1] > 0).all(), (layer, unit)


@pytest.mark.parametrize("size, layers", [
    (12, [conv(), conv(), conv()]),
    (13, [conv(stride=2, padding="same"), conv(padding="same"), conv(stride=2, padding="same")]),
    (12, [conv(stride=2, padding="same"), conv(5, padding="same")]),
    (12, [L.ZeroPadding2D(((0, 1), (0, 1))), conv(stride=2), L.ZeroPadding2D(((1, 2), (2, 0))), conv(stride=2)]),
    (14, [conv(padding="same"), L.AveragePooling2D(2), conv(padding="same"), L.ReLU(6.0), conv(stride=2)]),
    (12, [L.Cropping2D(((1, 0), (0, 2))), conv(stride=2)]),
])
def test_the_field_matches_the_gradient_support(size, layers):
    assert_support_is_the_field(rf.set_positive_weights(functional(size, *layers)))


def test_dilated_fields_have_holes_but_the_same_extent():
    model = rf.set_positive_weights(functional(16, conv(dilation=2, padding="same"), conv(dilation=3)))
    assert_support_is_the_field(model, holes=True)


def test_max_pooling_over_many_random_inputs():
    """Max pooling sends the gradient to one pixel per window: summed over random inputs,
    every pixel of the field is the maximum at least once."""
    model = rf.set_positive_weights(functional(12, conv(padding="same"), L.MaxPooling2D(), conv()))
    assert_support_is_the_field(model, count=64)


def test_branches_match_the_gradient_support():
    assert_support_is_the_field(rf.set_positive_weights(two_branch_model(13)))


@pytest.fixture(scope="module")
def positive_mobilenet():
    return rf.set_positive_weights(mobilenetv2.build_backbone(96, weights="none"))


@pytest.mark.parametrize("layer", ["Conv1_relu", "block_1_depthwise", "block_2_add", "block_3_depthwise_relu",
                                   "block_6_project_BN", "block_9_add"])
def test_real_mobilenetv2_parts_match_the_gradient_support(positive_mobilenet, layer):
    assert_support_is_the_field(positive_mobilenet, layer)


def test_the_whole_491_px_field_is_measured_on_a_large_input():
    """At 576 px the centre unit's field fits inside the image: the gradient spans all 491 px."""
    model = rf.set_positive_weights(mobilenetv2.build_backbone(576, weights="none"))
    row = last(model)
    gradient = rf.input_gradient(model, positive_inputs(model), row.centre_unit())[0]
    (top, bottom), (left, right) = rf.support_box(gradient)
    assert bottom - top + 1 == right - left + 1 == row.size == 491
    assert rf.support_box(gradient) == row.box(row.centre_unit(), (576, 576))


def test_random_weights_never_reach_beyond_the_field():
    """Real (random) weights and ReLU6: the support can only shrink inside the theoretical field."""
    model = mobilenetv2.build_backbone(96, weights="none")
    part = keras.Model(model.input, model.get_layer("block_5_add").output)
    row = rf.field_of(rf.walk(model), "block_5_add")
    images = np.random.default_rng(1).uniform(-1, 1, (4, 96, 96, 3))
    gradient = rf.input_gradient(part, images, (0, 0)).sum(axis=0)
    (top, bottom), (left, right) = row.box((0, 0), (96, 96))
    outside = np.ones_like(gradient, dtype=bool)
    outside[top:bottom + 1, left:right + 1] = False
    assert gradient.sum() > 0 and not gradient[outside].any()


# ---- the real MobileNetV2 at 224 px -------------------------------------------------------

@pytest.fixture(scope="module")
def mobilenet_rows():
    return rf.walk(mobilenetv2.build_backbone(224, weights="none"))


def test_mobilenetv2_sees_491_px_with_a_stride_of_32(mobilenet_rows):
    top = mobilenet_rows[-1]
    assert top.name == "out_relu" and top.grid == (7, 7)
    assert (top.size, top.jump, top.offset) == (491, 32, 31)
    assert len(mobilenet_rows) == 154


def test_the_block_table(mobilenet_rows):
    ends = rf.block_ends(mobilenet_rows)
    assert [r.name for r in ends][:3] == ["Conv1_relu", "expanded_conv_project_BN", "block_1_project_BN"]
    assert len(ends) == len(mobilenetv2.BLOCKS)
    assert [r.size for r in ends] == [3, 7, 11, 19, 27, 43, 59, 75, 107, 139, 171, 203, 235, 267, 299, 363, 427,
                                      491, 491]
    assert [r.jump for r in ends] == [2, 2, 4, 4, 8, 8, 8, 16, 16, 16, 16, 16, 16, 16, 32, 32, 32, 32, 32]
    assert all(a.size <= b.size for a, b in zip(mobilenet_rows, mobilenet_rows[1:]))
    table = rf.format_table(ends)
    assert "block_16_project_BN" in table and table.splitlines()[-1].split()[-3:] == ["491", "32", "31"]


def test_the_last_layers_field_is_mostly_padding(mobilenet_rows):
    top = mobilenet_rows[-1]
    assert top.box((0, 0)) == ((-214, 276), (-214, 276))
    assert top.box((0, 0), (224, 224)) == ((0, 223), (0, 223))
    assert top.on_image((3, 3), (224, 224)) == pytest.approx((224 / 491) ** 2)


# ---- the effective field ------------------------------------------------------------------

def test_mass_square():
    delta = np.zeros((9, 9))
    delta[4, 4] = 1
    assert rf.mass_square(delta, (4, 4)) == 1
    flat = np.zeros((9, 9))
    flat[2:7, 2:7] = 1
    assert rf.mass_square(flat, (4, 4)) == 5 and rf.mass_square(flat, (4, 4), 0.3) == 3
    assert rf.mass_square(flat, (2, 2)) == 9  # off-centre: the square must reach the far corner


def test_the_effective_field_is_a_normalised_map_inside_the_field():
    model = mobilenetv2.build_backbone(96, weights="none")
    part = keras.Model(model.input, model.get_layer("block_6_project_BN").output)
    photos = np.random.default_rng(2).integers(0, 256, (2, 96, 96, 3)).astype("uint8")
    heatmap, unit = rf.effective_field(part, photos)
    row = rf.field_of(rf.walk(model), "block_6_project_BN")
    assert unit == row.centre_unit() == (3, 3) and heatmap.shape == (96, 96)
    assert heatmap.sum() == pytest.approx(1) and heatmap.min() >= 0
    (top, bottom), (left, right) = row.box(unit, (96, 96))
    assert heatmap[top:bottom + 1, left:right + 1].sum() == pytest.approx(1)
    sizes = rf.effective_sizes(model, photos, ["block_2_add", "block_6_project_BN"])
    assert [s[:2] for s in sizes] == [("block_2_add", 19), ("block_6_project_BN", 75)]
    assert all(0 < effective <= 2 * 96 for _, _, effective in sizes)


# ---- chains of windows, and the lecture notes' 61 px ------------------------------------------

@pytest.mark.parametrize("layers", [[(3, 1)], [(3, 2), (3, 1)], [(3, 1), (2, 2)] * 4, [(7, 2), (3, 2), (1, 1)]])
def test_chain_field_agrees_with_the_walker(layers):
    model = functional(64, *[L.MaxPooling2D(k, s) if k == 2 else conv(k, s) for k, s in layers])
    row = last(model)
    assert rf.chain_field(layers) == (row.size, row.jump)


def test_the_notes_61_px_is_the_j_out_mistake_on_four_conv_pool_stages():
    four_stages = [(3, 1), (2, 2)] * 4
    assert rf.chain_field(four_stages) == (46, 16)
    assert week3.stack_field_with_j_out(four_stages) == (61, 16)
    assert rf.chain_field([]) == (1, 1)


def test_the_week4_baseline_sees_89_px_on_mobilenetv2s_grid(mobilenet_rows):
    """Week 3 walks the very network week 4 trains from scratch: its last map and MobileNetV2's."""
    from lessons import baseline

    rows = rf.walk(baseline.build_baseline(10, 224))
    last_map = rf.field_of(rows, f"stage{len(baseline.WIDTHS)}_pool")
    assert (last_map.size, last_map.jump, last_map.grid) == (89, 32, (7, 7))
    assert last_map.grid == mobilenet_rows[-1].grid and last_map.jump == mobilenet_rows[-1].jump
    assert rows[-1].name == "predictions" and rows[-1].size == 89 + 6 * 32  # pooling sees the whole grid


# ---- objects smaller than the field ---------------------------------------------------------

def test_on_canvas_shrinks_the_photo_onto_grey():
    from lessons.images import LETTERBOX_FILL

    photo = np.zeros((224, 224, 3), np.uint8)
    centred = rf.on_canvas(photo, 64)
    assert centred.shape == photo.shape and centred.dtype == np.uint8
    dark = np.argwhere(centred.sum(axis=-1) == 0)
    assert (dark.min(axis=0) == (80, 80)).all() and (dark.max(axis=0) == (143, 143)).all()
    assert (centred[0, 0] == LETTERBOX_FILL).all()
    cornered = rf.on_canvas(photo, 32, corner=(192, 0))
    dark = np.argwhere(cornered.sum(axis=-1) == 0)
    assert (dark.min(axis=0) == (192, 0)).all() and (dark.max(axis=0) == (223, 31)).all()
    assert (rf.on_canvas(photo, 224) == photo).all()
    with pytest.raises(ValueError, match="does not fit"):
        rf.on_canvas(photo, 225)


def test_accuracy_by_side_with_a_classifier_that_needs_big_objects():
    """A fake classifier: right when the dark object covers more than 1/16 of the canvas."""
    photos = np.zeros((3, 64, 64, 3), np.uint8)
    labels = [0, 1, 0]

    def predict(batch):
        big = (batch.sum(axis=-1) == 0).mean(axis=(1, 2)) > 1 / 16
        return np.eye(2)[np.where(big, labels, 1 - np.array(labels))]

    assert rf.accuracy_by_side(predict, photos, labels, (64, 32, 16)) == [(64, 1.0), (32, 1.0), (16, 0.0)]


# ---- one unit of the course's MobileNetV2 on a photo (week 3's figures and widget) -------

@pytest.fixture(scope="module")
def sample_photo():
    return paths.sample_photo_per_class()[0]


def test_the_choices_are_the_block_ends():
    choices = rf.layer_choices()
    assert len(choices) == 19 and choices[-1][1] == rf.DEFAULT_LAYER == "out_relu" and choices[0][1] == "Conv1_relu"
    assert choices[14][0].startswith("block 13: block_13_project_BN (7×7 units, field 299 px)")


def test_unit_at_maps_positions_onto_the_grid():
    field = rf.field_of(rf.field_backbone().rows, "block_6_project_BN")  # 14 x 14
    assert rf.unit_at(field, (0, 1)) == (0, 13)
    assert rf.unit_at(field, (0.5, 0.5)) == field.centre_unit() == (7, 7)


def test_field_data_for_the_last_layer(sample_photo):
    data = rf.field_data(sample_photo)
    assert data["unit"] == (3, 3) and data["pixels"].shape == (rf.IMAGE_SIZE, rf.IMAGE_SIZE, 3)
    assert data["heatmap"].shape == (224, 224) and data["heatmap"].sum() == pytest.approx(1)
    # 491 px around pixel 127: far beyond the 224-px image on every side, so clipped to all of it
    assert data["full_box"] == ((-118, 372), (-118, 372)) and data["box"] == ((0, 223), (0, 223))
    assert data["centre"] == (127, 127)
    assert 0 < data["effective_side"] < data["field"].size
    assert data["weights"].startswith("ImageNet weights")


def test_a_corner_unit_of_a_middle_layer(sample_photo):
    data = rf.field_data(sample_photo, "block_6_project_BN", (0, 13))
    assert data["full_box"] == ((-22, 52), (186, 260)) and data["box"] == ((0, 52), (186, 223))
    (top, bottom), (left, right) = data["box"]
    assert data["heatmap"][top:bottom + 1, left:right + 1].sum() == pytest.approx(1)  # nothing outside


def test_the_photo_can_be_a_path_or_bytes(sample_photo):
    from_path = rf.field_data(sample_photo, "block_2_add")["heatmap"]
    from_bytes = rf.field_data(sample_photo.read_bytes(), "block_2_add")["heatmap"]
    np.testing.assert_allclose(from_bytes, from_path)


def test_a_unit_outside_the_grid_is_refused(sample_photo):
    with pytest.raises(ValueError, match="outside"):
        rf.field_data(sample_photo, "out_relu", (7, 0))


def test_one_photo_takes_about_a_second_once_the_model_is_built(sample_photo):
    rf.field_data(sample_photo, "block_16_project_BN")  # builds that layer's sub-model
    start = time.perf_counter()
    rf.field_data(sample_photo, "block_16_project_BN", (1, 2))
    assert time.perf_counter() - start < 5  # ~0.5 s on two busy CPU cores; a rebuilt model takes far longer
