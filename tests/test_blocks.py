"""The inverted residual block written from primitives equals the real MobileNetV2's blocks."""
import keras
import numpy as np
import pytest

from lessons import architecture, block_memory, blocks, real_blocks, relatives, relu6
from lessons.exercises import week2

SMALL = 96  # the real graph, fewer pixels
ODD = 104  # 104 px gives blocks 6 and 13 odd input sizes (13 and 7): the other padding case


@pytest.fixture(scope="module")
def small_base():
    base = keras.applications.MobileNetV2(input_shape=(SMALL, SMALL, 3), include_top=False, weights=None)
    return real_blocks.randomise(base)


@pytest.fixture(scope="module")
def base_224():
    return keras.applications.MobileNetV2(input_shape=(224, 224, 3), include_top=False, weights=None)


def images(size, count=2, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, (count, size, size, 3)).astype("float32")


@pytest.mark.parametrize("k", [0, 1, 2, 3, 6, 13, 14, 16])
def test_our_block_equals_the_real_block(small_base, k):
    x = real_blocks.block_input(small_base, k, images(SMALL))
    assert float(np.std(x)) > 0.01  # a real signal reaches the block
    assert real_blocks.compare_with_real(small_base, k, x) < 1e-4


def test_our_block_has_the_real_layers_in_the_real_order(small_base):
    for k in real_blocks.block_numbers(small_base):
        ours = real_blocks.build_block(real_blocks.read_block(small_base, k))
        real = real_blocks.block_layers(small_base, k)
        assert [layer.name for layer in ours.layers[1:]] == [layer.name for layer in real]


def test_the_comparison_catches_a_wrong_padding(small_base, monkeypatch):
    x = real_blocks.block_input(small_base, 3, images(SMALL))
    monkeypatch.setattr(blocks, "stride2_padding", lambda height, width: ((1, 1), (1, 1)))
    assert real_blocks.compare_with_real(small_base, 3, x) > 1e-2


def test_odd_sizes_are_padded_like_keras():
    base = keras.applications.MobileNetV2(input_shape=(ODD, ODD, 3), include_top=False, weights=None)
    real_blocks.randomise(base, seed=2)
    for k in (6, 13):
        spec = real_blocks.read_block(base, k)
        assert spec.s == 2 and spec.input_shape[0] % 2 == 1
        assert base.get_layer(blocks.prefix(k) + "pad").padding == blocks.stride2_padding(*spec.input_shape[:2])
        assert real_blocks.compare_with_real(base, k, real_blocks.block_input(base, k, images(ODD))) < 1e-4


def test_with_imagenet_weights_on_real_photos(imagenet_weights):
    from lessons import mobilenetv2

    base = mobilenetv2.build_backbone(SMALL, weights=imagenet_weights)
    photos = real_blocks.sample_batch(SMALL, count=2)
    for k in (0, 2, 3):
        assert real_blocks.compare_with_real(base, k, real_blocks.block_input(base, k, photos)) < 1e-4


def test_table2_read_from_the_model_matches_the_paper(base_224):
    rows = architecture.read_table2(base_224)
    assert rows == architecture.PAPER_TABLE2[:len(rows)]
    assert len(rows) == 9  # stem, 7 bottleneck rows, last 1×1 conv
    text = architecture.format_table2(rows)
    assert text.count("yes") == 9 and "(not in the no-top base)" in text


def test_table2_reader_really_reads(base_224):
    # An alpha-0.5 model has other channels: the reader must follow it, not the paper.
    half = keras.applications.MobileNetV2(input_shape=(224, 224, 3), alpha=0.5, include_top=False, weights=None)
    channels = [row[3] for row in architecture.read_table2(half)]
    assert channels == [16, 8, 16, 16, 32, 48, 80, 160, 1280]


def test_the_counts_behind_nineteen(base_224):
    counts = architecture.count_layers(base_224)
    assert counts["bottleneck blocks"] == 17
    assert sum(row[4] for row in architecture.PAPER_TABLE2 if row[1] == "bottleneck") == 17
    assert counts["blocks with a residual add"] == sum(layer.name.endswith("_add") for layer in base_224.layers) == 10
    assert counts["outside"] == ["Conv1", "Conv_1"]
    together = counts["bottleneck blocks"] + counts["convolutions outside the blocks"]
    assert together == architecture.PAPER_BOTTLENECK_COUNT
    assert counts["convolution layers in all"] == 1 + 2 + 16 * 3 + 1  # stem, block 0, blocks 1-16, last conv


def test_relu6_never_follows_a_projection(base_224):
    follows = relu6.what_relu6_follows(base_224)
    assert follows == {"bn_Conv1": 1, "expand_BN": 16, "depthwise_BN": 17, "Conv_1_bn": 1}


def test_memory_per_block(base_224):
    rows = block_memory.block_memory(base_224)
    assert len(rows) == 17
    assert rows[0]["input"] == 112 * 112 * 32 and rows[0]["output"] == 112 * 112 * 16
    assert rows[1]["expanded"] == 112 * 112 * 96 and rows[1]["depthwise"] == 56 * 56 * 96
    # block 2 (residual): x must live through the depthwise step: x + expanded + depthwise.
    assert rows[2]["layer_by_layer"] == 56 * 56 * (24 + 144 + 144)
    assert rows[2]["streamed"] == 56 * 56 * (24 + 24 + 2)
    assert all(r["streamed"] < r["layer_by_layer"] for r in rows)
    # block 1 (no residual) peaks in its depthwise step: the whole expanded tensor and the conv's output.
    assert max(r["layer_by_layer"] for r in rows) == rows[1]["layer_by_layer"] == 112 * 112 * 96 + 56 * 56 * 96
    # The largest tensor passed between blocks, in the paper's 16-bit floats: its Table 3's "400K".
    assert max(r["output"] for r in rows) * block_memory.PAPER_BYTES_PER_ACTIVATION == 401_408


def test_narrow_wide_narrow_against_wide_narrow_wide():
    inputs = keras.Input((56, 56, 24))
    ours = keras.Model(inputs, blocks.inverted_residual_block(inputs, 6, 24, 1, "block_2_"))
    wide = keras.Input((56, 56, 144))
    resnet = keras.Model(wide, blocks.classic_bottleneck(wide, 24))
    assert [shape[-1] for _, shape, _ in block_memory.tensor_sizes(ours)] == [24, 144, 144, 24, 24]
    assert [shape[-1] for _, shape, _ in block_memory.tensor_sizes(resnet)] == [144, 24, 24, 144, 144]


@pytest.mark.parametrize("case", week2.SHAPE_CASES)
def test_shapes_through_block(case):
    height, width, channels, t, c, s = case
    after = (-(-height // s), -(-width // s))  # a stride-s conv rounds up
    assert blocks.shapes_through_block(*case) == [(height, width, t * channels), (*after, t * channels), (*after, c)]


def test_residual_rule():
    assert blocks.has_residual(1, 24, 24)
    assert not blocks.has_residual(2, 24, 24) and not blocks.has_residual(1, 24, 32)


def test_residual_rule_against_keras_own_builder():
    """Keras's block builder (the code behind keras.applications.MobileNetV2) adds x only at stride 1 with
    unchanged channels: a stride-2 block that keeps its channels has no Add layer."""
    from keras.src.applications.mobilenet_v2 import _inverted_res_block

    for stride, channels_in, channels_out in [(1, 24, 24), (2, 24, 24), (1, 24, 32), (2, 24, 32)]:
        inputs = keras.Input((14, 14, channels_in))
        made = keras.Model(inputs, _inverted_res_block(inputs, 6, stride, 1.0, channels_out, block_id=1))
        adds = any(isinstance(layer, keras.layers.Add) for layer in made.layers)
        assert adds == blocks.has_residual(stride, channels_in, channels_out)


# --- any block function, weights copied by order --------------------------------------------

def renamed_block(x, expansion, out_channels, stride, name):
    """The course's block with other layer names (as a student may write it)."""
    return blocks.inverted_residual_block(x, expansion, out_channels, stride, "mine_" + name.replace("_", "") + "_")


def test_build_names_the_model_and_its_layers():
    ours = blocks.build(blocks.inverted_residual_block, (28, 28, 32), 6, 64, 2, "wide_")
    assert ours.name == "wide" and ours.output.shape[1:] == (14, 14, 64)
    assert [layer.name for layer in ours.layers][:3] == ["wide_input", "wide_expand", "wide_expand_BN"]
    assert real_blocks.build_block(real_blocks.BlockSpec(0, (112, 112, 32), 1, 16, 1)).name == "our_block_0"


def test_a_block_with_other_names_is_compared_by_layer_order(small_base):
    for k in (0, 2, 3):
        x = real_blocks.block_input(small_base, k, images(SMALL))
        assert real_blocks.compare_with_real(small_base, k, x, renamed_block) < 1e-4


def test_copy_weights_refuses_blocks_that_do_not_match(small_base):
    spec = real_blocks.read_block(small_base, 2)
    fewer = blocks.build(blocks.inverted_residual_block, spec.input_shape, 1, spec.c, spec.s, "t1_")  # no expansion
    with pytest.raises(ValueError, match="layers with weights"):
        real_blocks.copy_weights(real_blocks.block_layers(small_base, 2), fewer)


# --- what a block costs, for any expansion rate -----------------------------------------------

def test_block_costs_agree_with_the_real_model(base_224):
    memory = {row["block"]: row for row in block_memory.block_memory(base_224)}
    for k in (0, 1, 2, 13):
        costs = block_memory.block_costs(real_blocks.build_block(real_blocks.read_block(base_224, k)))
        assert {key: costs[key] for key in memory[k] if key != "block"} == {
            key: value for key, value in memory[k].items() if key != "block"}
        real = relatives.block_summary(real_blocks.block_layers(base_224, k))
        assert (costs["params"], costs["macs"]) == (real["params"], real["macs"])


def test_expansion_costs_grow_linearly_and_streaming_does_not():
    rows = block_memory.expansion_costs(blocks.inverted_residual_block, (56, 56, 24), 24, 1, range(2, 11))
    assert [row["t"] for row in rows] == list(range(2, 11))
    six = rows[4]
    # 1×1 expand 24 -> 144, 3×3 depthwise on 144, 1×1 project 144 -> 24, and 4 BatchNorm numbers per channel.
    assert six["params"] == 24 * 144 + 9 * 144 + 144 * 24 + 4 * (144 + 144 + 24)
    assert six["macs"] == 56 * 56 * (24 * 144 + 9 * 144 + 144 * 24)
    assert six["largest tensor"] == six["expanded"] == 56 * 56 * 144
    assert six["layer_by_layer"] == 56 * 56 * (24 + 144 + 144)  # x kept for the add, expanded, depthwise output
    for key in ("params", "macs", "layer_by_layer"):
        assert len({b[key] - a[key] for a, b in zip(rows, rows[1:])}) == 1
    assert {row["streamed"] for row in rows} == {56 * 56 * (24 + 24 + 2)}


def test_peak_memory_without_expansion_or_residual():
    row = block_memory.peak_memory((112, 112, 32), None, (112, 112, 32), (112, 112, 16), residual=False)
    assert row["expanded"] == row["input"] == 112 * 112 * 32
    assert row["layer_by_layer"] == 112 * 112 * (32 + 32)  # the depthwise conv's input and output
    assert row["streamed"] == 112 * 112 * (32 + 16 + 2)


# --- what "N layers" means, and the block's family ------------------------------------------

def test_layer_counts_give_the_notes_53_and_the_v1_papers_28():
    v2 = keras.applications.MobileNetV2(weights=None)
    counts = architecture.layer_counts(v2)
    assert counts["keras layers"] == 156 and counts["convolutions"] == 52
    assert counts["convolution and dense layers"] == 53
    v1 = keras.applications.MobileNet(weights=None)
    counts = architecture.layer_counts(v1)
    assert counts["by kind"]["DepthwiseConv2D"] == 13 and "Add" not in counts["by kind"]
    assert counts["convolution and dense layers"] == 28  # the classifier of Keras's v1 is a 1×1 Conv2D


def test_a_v1_block_is_two_convolutions_with_relu6():
    v1 = keras.applications.MobileNet(input_shape=(224, 224, 3), include_top=False, weights=None)
    for k in range(1, 14):
        summary = relatives.block_summary(relatives.v1_block_layers(v1, k))
        assert summary["convolutions"] == 2 and not summary["residual add"]
        assert [word for word in summary["layers"] if word != "pad"][1:3] == ["BN", "ReLU6"]
        assert summary["layers"][-2:] == ["BN", "ReLU6"]
    block3 = relatives.block_summary(relatives.v1_block_layers(v1, 3))
    assert block3["params"] == 9 * 128 + 128 * 128 + 4 * (128 + 128)
    assert block3["macs"] == 56 * 56 * (9 * 128 + 128 * 128)
    assert relatives.v1_block_layers(v1, 2)[0].name == "conv_pad_2"


def test_describe_layer_and_an_efficientnet_mbconv():
    effnet = keras.applications.EfficientNetB0(input_shape=(224, 224, 3), include_top=False, weights=None)
    words = relatives.block_summary(relatives.layers_named(effnet, "block2b_"))["layers"]
    assert words == ["conv 1×1 → 144", "BN", "swish", "depthwise 3×3", "BN", "swish", "global average", "reshape",
                     "conv 1×1 → 6 + swish", "conv 1×1 → 144 + sigmoid", "multiply", "conv 1×1 → 24", "BN", "dropout",
                     "add"]
    assert relatives.describe_layer(keras.layers.ReLU()) == "ReLU"
    assert relatives.describe_layer(keras.layers.DepthwiseConv2D(3, strides=2)) == "depthwise 3×3 /2"


def test_relu6_statistics_and_the_fixed_point_step(small_base):
    stats = relu6.relu6_statistics(small_base, images(SMALL))
    assert len(stats) == 35 and stats[0]["layer"] == "Conv1_relu"
    for row in stats:
        assert 0 <= row["clipped"] <= 1 - row["zeroed"] and row["largest"] > 0
        assert (row["clipped"] > 0) == (row["largest"] > 6)
    assert relu6.fixed_point_step(6) == pytest.approx(6 / 255)
    assert relu6.fixed_point_step(1, bits=4) == pytest.approx(1 / 15)
