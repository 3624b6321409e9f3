"""Counting parameters and multiply-adds, checked against real Keras layers and the real MobileNetV2."""
import keras
import numpy as np
import pytest

from lessons import convcost


def called(layer, input_shape):
    """``layer`` called on a symbolic input, so that it has weights and input/output shapes."""
    layer(keras.Input(input_shape))
    return layer


# (layer, input shape, our formula): square and non-square kernels, biases, strides.
CONV_CASES = [
    (lambda: keras.layers.Conv2D(128, 3, padding="same", use_bias=False), (56, 56, 64),
     lambda: convcost.standard_params(3, 64, 128)),
    (lambda: keras.layers.Conv2D(7, (3, 5), strides=2, use_bias=True), (15, 17, 4),
     lambda: convcost.standard_params((3, 5), 4, 7, bias=True)),
    (lambda: keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False), (56, 56, 64),
     lambda: convcost.depthwise_params(3, 64)),
    (lambda: keras.layers.DepthwiseConv2D(5, strides=2, use_bias=True), (11, 11, 6),
     lambda: convcost.depthwise_params(5, 6, bias=True)),
    (lambda: keras.layers.Conv2D(128, 1, use_bias=False), (56, 56, 64), lambda: convcost.pointwise_params(64, 128)),
    (lambda: keras.layers.Conv2D(3, 1), (4, 4, 5), lambda: convcost.pointwise_params(5, 3, bias=True)),
]


@pytest.mark.parametrize("make, shape, formula", CONV_CASES)
def test_the_parameter_formulas_match_keras(make, shape, formula):
    layer = called(make(), shape)
    assert formula() == layer.count_params() == convcost.layer_cost(layer).params


def test_the_classic_example():
    assert convcost.standard_params(3, 64, 128) == 73_728
    assert convcost.separable_params(3, 64, 128) == 8_768
    depthwise, pointwise = called(keras.layers.DepthwiseConv2D(3, use_bias=False), (56, 56, 64)), \
        called(keras.layers.Conv2D(128, 1, use_bias=False), (54, 54, 64))
    assert convcost.separable_params(3, 64, 128) == depthwise.count_params() + pointwise.count_params()
    assert round(convcost.standard_params(3, 64, 128) / convcost.separable_params(3, 64, 128), 1) == 8.4


@pytest.mark.parametrize("scale, center", [(True, True), (False, True), (True, False), (False, False)])
def test_batchnorm_params_match_keras(scale, center):
    layer = called(keras.layers.BatchNormalization(scale=scale, center=center), (5, 5, 12))
    assert convcost.batchnorm_params(12, scale, center) == layer.count_params() == convcost.layer_cost(layer).params
    assert convcost.layer_cost(layer).macs == 0


def test_dense_is_a_pointwise_conv_on_one_position():
    layer = called(keras.layers.Dense(10), (20,))
    assert convcost.layer_cost(layer) == (20 * 10 + 10, 20 * 10)
    assert convcost.layer_cost(layer).params == layer.count_params()


def test_normalization_is_counted_like_keras():
    layer = called(keras.layers.Normalization(), (5, 5, 3))  # EfficientNet's input layer
    assert convcost.layer_kind(layer) == "normalization"
    assert convcost.layer_cost(layer) == (convcost.normalization_params(3), 0) == (layer.count_params(), 0) == (7, 0)
    assert convcost.layer_kind(called(keras.layers.Normalization(mean=0.5, variance=0.25), (5, 5, 3))) is None
    inputs = keras.Input((5, 5, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(4, 1)(layer(inputs)))
    assert convcost.cost_by_kind(model)["normalization"] == (7, 0)


def test_multiply_adds_by_hand():
    # 3×3 conv, 2 -> 4 channels, 7×7 input, stride 2, no padding: a 3×3 output map, and each
    # of its 3·3·4 values is a sum of 3·3·2 products.
    layer = called(keras.layers.Conv2D(4, 3, strides=2, use_bias=False), (7, 7, 2))
    assert layer.output.shape[1:3] == (3, 3)
    assert convcost.standard_macs(3, 2, 4, 3) == (3 * 3 * 4) * (3 * 3 * 2) == 648
    assert convcost.layer_cost(layer).macs == 648
    # Depthwise 3×3 on 5×5×2, no padding: 3×3×2 outputs of 9 products each.
    assert convcost.depthwise_macs(3, 2, 3) == 3 * 3 * 2 * 9 == 162
    # Pointwise 3 -> 5 channels on a 4×2 map: 4·2·5 outputs of 3 products each.
    assert convcost.pointwise_macs(3, 5, (4, 2)) == 4 * 2 * 5 * 3 == 120
    assert convcost.separable_macs(3, 2, 4, 3) == 162 + (3 * 3 * 4) * 2
    assert convcost.standard_macs((3, 5), 2, 4, (6, 1)) == 6 * 1 * 15 * 2 * 4


@pytest.mark.parametrize("make, shape", [
    (lambda: keras.layers.Conv2D(4, 3, strides=2, use_bias=False), (7, 7, 2)),
    (lambda: keras.layers.Conv2D(5, (3, 2), use_bias=True), (9, 6, 3)),
    (lambda: keras.layers.DepthwiseConv2D(3, use_bias=False), (58, 58, 64)),
    (lambda: keras.layers.DepthwiseConv2D(3, strides=2, depth_multiplier=2), (9, 9, 3)),
    (lambda: keras.layers.Conv2D(128, 1, use_bias=False), (56, 56, 64)),
    (lambda: keras.layers.Dense(10), (20,)),
])
def test_running_a_layer_counts_the_same_multiply_adds(make, shape):
    layer = called(make(), shape)
    assert convcost.layer_cost(layer).params == layer.count_params()
    assert convcost.macs_by_running(layer, shape) == convcost.layer_cost(layer).macs > 0


def test_the_classic_example_multiply_adds_by_running_real_layers():
    costs = convcost.conv_costs(3, 64, 128, 56)
    assert convcost.macs_by_running(keras.layers.Conv2D(128, 3, use_bias=False), (58, 58, 64)) \
        == costs["standard"].macs == 231_211_008
    assert convcost.macs_by_running(keras.layers.DepthwiseConv2D(3, use_bias=False), (58, 58, 64)) \
        == costs["depthwise"].macs
    assert convcost.macs_by_running(keras.layers.Conv2D(128, 1, use_bias=False), (56, 56, 64)) \
        == costs["pointwise"].macs
    assert costs["separable"] == costs["depthwise"] + costs["pointwise"] == (8_768, 27_496_448)


def test_running_refuses_padded_layers():
    with pytest.raises(ValueError, match="valid"):
        convcost.macs_by_running(keras.layers.Conv2D(4, 3, padding="same"), (5, 5, 2))


@pytest.mark.parametrize("k, c_in, c_out, size", [(3, 64, 128, 56), (5, 3, 7, 9), (7, 960, 320, 7), (1, 8, 8, 4)])
def test_the_ratio_is_one_over_c_out_plus_one_over_k_squared(k, c_in, c_out, size):
    costs = convcost.conv_costs(k, c_in, c_out, size)
    assert costs["ratio"] == pytest.approx(costs["separable"].params / costs["standard"].params)
    assert costs["ratio"] == pytest.approx(costs["separable"].macs / costs["standard"].macs)
    assert costs["times_fewer"] == pytest.approx(1 / costs["ratio"])
    assert convcost.separable_ratio(k, c_out) == pytest.approx(1 / c_out + 1 / k**2)


def test_layers_without_weights_cost_nothing_and_unknown_ones_are_refused():
    assert convcost.layer_cost(called(keras.layers.ReLU(6.0), (4, 4, 3))) == (0, 0)
    assert convcost.layer_kind(called(keras.layers.ZeroPadding2D(1), (4, 4, 3))) is None
    with pytest.raises(ValueError, match="does not count"):
        convcost.layer_cost(called(keras.layers.SeparableConv2D(4, 3), (6, 6, 3)))
    with pytest.raises(ValueError, match="grouped"):
        convcost.layer_cost(called(keras.layers.Conv2D(4, 3, groups=2), (6, 6, 2)))


@pytest.fixture(scope="module")
def mobilenet():
    return {top: convcost.mobilenetv2(alpha=1.0, image_size=224, include_top=top) for top in (True, False)}


def test_every_layer_of_the_real_mobilenetv2_is_counted_like_keras(mobilenet):
    for model in mobilenet.values():
        for layer in model.layers:
            assert convcost.layer_cost(layer).params == layer.count_params(), layer.name


def test_the_real_mobilenetv2_totals(mobilenet):
    with_top, no_top = convcost.model_cost(mobilenet[True]), convcost.model_cost(mobilenet[False])
    assert with_top.params == mobilenet[True].count_params() == 3_538_984
    assert no_top.params == mobilenet[False].count_params() == 2_257_984
    assert with_top.macs == 300_774_272  # "300.8 M"
    assert round(with_top.macs / 1e6, 1) == 300.8
    assert with_top.macs - no_top.macs == 1280 * 1000  # the classifier's multiply-adds


def test_the_real_mobilenetv2_by_kind(mobilenet):
    kinds = convcost.cost_by_kind(mobilenet[True])
    assert set(kinds) == set(convcost.KINDS)
    assert kinds["standard"] == (3 * 3 * 3 * 32, 112 * 112 * 3 * 3 * 3 * 32)  # the stem is the only one
    assert kinds["dense"] == (1280 * 1000 + 1000, 1280 * 1000)
    assert kinds["batchnorm"].macs == 0
    assert kinds["pointwise"].macs > 0.85 * convcost.model_cost(mobilenet[True]).macs
    assert sum(kinds.values(), convcost.Cost(0, 0)) == convcost.model_cost(mobilenet[True])


def test_with_standard_convs_replaces_each_pair_by_hand():
    inputs = keras.Input((10, 10, 8))
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False, name="b_depthwise")(inputs)
    x = keras.layers.Conv2D(16, 1, use_bias=False, name="b_project")(x)
    model = keras.Model(inputs, x)
    assert convcost.with_standard_convs(model) == (3 * 3 * 8 * 16, 5 * 5 * 3 * 3 * 8 * 16)


def test_with_standard_convs_on_the_real_mobilenetv2(mobilenet):
    real, standard = convcost.model_cost(mobilenet[True]), convcost.with_standard_convs(mobilenet[True])
    assert standard.macs > 3 * real.macs and standard.params > 2 * real.params


def test_width_multiplier_and_resolution():
    table = convcost.width_resolution_table((0.35, 1.4), (96, 128))
    assert [(row["alpha"], row["size"]) for row in table] == [(0.35, 96), (0.35, 128), (1.4, 96), (1.4, 128)]
    small, wide = table[0], table[2]
    assert small["params"] == table[1]["params"] and small["macs"] < table[1]["macs"]  # size: MACs only
    assert small["params"] - small["params_without_top"] == 1280 * 1000 + 1000  # 1280 kept for alpha < 1
    assert small["macs"] - small["macs_without_top"] == 1280 * 1000
    assert wide["params"] - wide["params_without_top"] == 1792 * 1000 + 1000  # widened for alpha > 1
    no_top = convcost.mobilenetv2(0.35, 96, include_top=False)
    assert small["params_without_top"] == no_top.count_params()
    batchnorm = sum(layer.count_params() for layer in no_top.layers if convcost.layer_kind(layer) == "batchnorm")
    assert small["params"] - small["params_without_bn"] == batchnorm
    widths = convcost.stage_widths(no_top)
    assert widths == small["widths"] == table[1]["widths"]  # the classifier and the size change no width
    assert list(widths) == list(convcost.STAGE_LAYERS)
    assert widths["Conv1"] == 16 and widths["Conv_1"] == 1280  # 32 × 0.35 = 11.2 rounds up to 16
    assert all(width % 8 == 0 for width in widths.values())


@pytest.mark.parametrize("k, c_in, c_out, size", [(3, 8, 16, 12), (5, 3, 4, 9), (1, 6, 2, 5)])
def test_depthwise_then_pointwise_is_a_standard_conv_with_the_built_kernel(k, c_in, c_out, size):
    separable, standard = convcost.separable_vs_standard(k, c_in, c_out, size, seed=k)
    assert separable.shape == standard.shape == (1, size, size, c_out)
    np.testing.assert_allclose(separable, standard, atol=1e-5)
    assert np.abs(separable).max() > 0.1  # not trivially equal


def test_the_built_kernel_and_its_restriction():
    rng = np.random.default_rng(1)
    depthwise, pointwise = rng.normal(size=(3, 3, 4, 1)), rng.normal(size=(1, 1, 4, 6))
    kernel = convcost.separable_as_standard_kernel(depthwise, pointwise)
    assert kernel.shape == (3, 3, 4, 6)
    assert kernel[2, 1, 3, 5] == pytest.approx(depthwise[2, 1, 3, 0] * pointwise[0, 0, 3, 5])
    assert convcost.channel_slice_ranks(kernel) == [1] * 4
    assert convcost.channel_slice_ranks(rng.normal(size=(3, 3, 4, 6))) == [6] * 4
    assert convcost.channel_slice_ranks(rng.normal(size=(3, 3, 2, 16))) == [9] * 2
