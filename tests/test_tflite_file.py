"""lessons.tflite_file: a small conv + BatchNorm network through the real converter, read back tensor by tensor."""
import re
import sys

import numpy as np
import pytest

from lessons import export, tflite_file

SIZE = 16
# Each convolution and the BatchNorm after it, named as MobileNetV2 names them (Conv_1 ends in
# digits, as the last convolution of MobileNetV2 does); the dense head has none.
BATCHNORM_OF = {"stem": "stem_BN", "dw": "dw_BN", "Conv_1": "Conv_1_bn", "head": None}


@pytest.fixture(scope="module")
def network():
    """A stem convolution, a depthwise one with two filters per channel and a projection, each with its
    BatchNorm (and ReLU6 after the first two), then a dense head: MobileNetV2's pattern at 16 px.

    The projection has more than 1,024 weights, the others fewer: dynamic-range quantisation stores
    only the larger ones as int8. BatchNorm's statistics are far from 1 and 0, so folding shows.
    """
    import keras

    layers = keras.layers
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((SIZE, SIZE, 3)),
        layers.Conv2D(8, 3, use_bias=False, name="stem"), layers.BatchNormalization(name="stem_BN"),
        layers.ReLU(6.0, name="stem_relu"),
        layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False, name="dw"),
        layers.BatchNormalization(name="dw_BN"), layers.ReLU(6.0, name="dw_relu"),
        layers.Conv2D(96, 1, use_bias=False, name="Conv_1"), layers.BatchNormalization(name="Conv_1_bn"),
        layers.GlobalAveragePooling2D(), layers.Dense(3, name="head")])
    rng = np.random.default_rng(0)
    for name in filter(None, BATCHNORM_OF.values()):
        channels = model.get_layer(name).gamma.shape[0]
        model.get_layer(name).set_weights([rng.uniform(0.5, 2, channels), rng.normal(0, 0.5, channels),
                                           rng.normal(0, 0.5, channels), rng.uniform(0.2, 3, channels)])
    head = model.get_layer("head")
    head.bias.assign(rng.normal(0, 0.5, head.bias.shape))  # the converter drops a bias of zeros
    return model


@pytest.fixture(scope="module")
def exports(network):
    """{kind: .tflite bytes}, converted as the course converts (random pixels calibrate the INT8 one)."""
    calibration = np.random.default_rng(1).integers(0, 256, (16, SIZE, SIZE, 3), dtype=np.uint8)
    return {kind: export.convert(network, kind, calibration if kind == "int8" else None)
            for kind in ("fp32", "dynamic", "int8")}


@pytest.fixture(scope="module")
def int8(exports):
    return tflite_file.load(exports["int8"])


def tensors(exports, kind):
    return tflite_file.load(exports[kind]).get_tensor_details()


def weights_by_layer(interpreter, network):
    return {tflite_file.layer_of(t, network): t for t in tflite_file.weight_tensors(interpreter.get_tensor_details())}


def output_channels(network, name):
    return network.get_layer(name).output.shape[-1]


def batchnorm(network, name):
    return network.get_layer(BATCHNORM_OF[name]) if BATCHNORM_OF[name] else None


def scales_like(stored, tensor):
    """The tensor's per-channel scales, shaped to multiply ``stored`` (its integers) channel by channel."""
    axis = tensor["quantization_parameters"]["quantized_dimension"]  # 3 for the depthwise layer, else 0
    return np.expand_dims(tensor["quantization_parameters"]["scales"], [a for a in range(stored.ndim) if a != axis])


@pytest.mark.slow
def test_each_layer_has_an_int8_weight_tensor_with_one_scale_per_output_channel(network, int8):
    weights = weights_by_layer(int8, network)
    assert sorted(weights) == sorted(BATCHNORM_OF)
    for name, tensor in weights.items():
        stored = int8.get_tensor(tensor["index"])
        assert stored.dtype == tensor["dtype"] == np.int8 and stored.shape == tuple(tensor["shape"])
        assert stored.shape == tflite_file.folded_kernel(network.get_layer(name)).shape  # TFLite's layout
        assert len(tensor["quantization_parameters"]["scales"]) == output_channels(network, name)
        assert not tensor["quantization_parameters"]["zero_points"].any()
    biases = tflite_file.bias_tensors(int8.get_tensor_details())
    assert all(t["dtype"] == np.int32 for t in biases)
    assert sorted(len(t["quantization_parameters"]["scales"]) for t in biases) == sorted(
        output_channels(network, name) for name in BATCHNORM_OF)


@pytest.mark.slow
def test_int8_storage_counts_the_keras_weights_and_a_bias_and_two_parameters_per_channel(network, exports):
    channels = sum(output_channels(network, name) for name in BATCHNORM_OF)
    kernels = sum(int(np.prod(network.get_layer(name).kernel.shape)) for name in BATCHNORM_OF)
    assert tflite_file.int8_storage(tensors(exports, "int8")) == {
        "weights": kernels, "biases": 4 * channels,
        "quantisation": tflite_file.QUANTISATION_BYTES * 2 * channels}  # the weights' channels and the biases'


@pytest.mark.slow
def test_the_fp32_file_stores_the_same_weights_in_float32_batchnorm_folded(network, exports, int8):
    fp32 = tflite_file.load(exports["fp32"])
    weights = weights_by_layer(int8, network)
    same = dict(zip(weights, tflite_file.counterparts(list(weights.values()), fp32.get_tensor_details())))
    assert tflite_file.nbytes(same.values()) == 4 * tflite_file.nbytes(weights.values())
    for name, tensor in same.items():
        folded = tflite_file.folded_kernel(network.get_layer(name), batchnorm(network, name))
        np.testing.assert_allclose(fp32.get_tensor(tensor["index"]), folded, rtol=1e-5, atol=1e-7, err_msg=name)


@pytest.mark.slow
def test_the_int8_weights_are_the_folded_kernel_rounded_to_half_a_step(network, int8):
    for name, tensor in weights_by_layer(int8, network).items():
        layer, bn = network.get_layer(name), batchnorm(network, name)
        assert tflite_file.within_half_step(int8, tensor, tflite_file.folded_kernel(layer, bn)), name
        if bn is not None:  # the Keras kernel alone is not what the file stores
            assert not tflite_file.within_half_step(int8, tensor, tflite_file.folded_kernel(layer)), name


@pytest.mark.slow
def test_within_half_step_draws_the_line_at_half_a_step(network, int8):
    tensor = weights_by_layer(int8, network)["dw"]  # its channels on the last axis
    real = tflite_file.dequantise(int8, tensor)
    step = scales_like(real, tensor)
    assert tflite_file.within_half_step(int8, tensor, real - 0.49 * step)
    assert not tflite_file.within_half_step(int8, tensor, real - 0.51 * step)


@pytest.mark.slow
def test_a_channel_reaching_127_has_the_scale_largest_weight_over_127(network, int8):
    for name, tensor in weights_by_layer(int8, network).items():
        stored = int8.get_tensor(tensor["index"])
        scales = tensor["quantization_parameters"]["scales"]
        np.testing.assert_array_equal(tflite_file.dequantise(int8, tensor), stored * scales_like(stored, tensor))
        full = tflite_file.channel_peaks(stored, tensor) == 127
        assert full.shape == scales.shape and full.any(), name
        folded = tflite_file.folded_kernel(network.get_layer(name), batchnorm(network, name))
        largest = tflite_file.channel_peaks(folded, tensor)
        np.testing.assert_allclose(scales[full] * 127, largest[full], rtol=1e-4, err_msg=name)


@pytest.mark.slow
def test_dynamic_range_leaves_only_the_smallest_weights_and_every_activation_in_float(network, exports, int8):
    weights = tflite_file.weight_tensors(int8.get_tensor_details())
    dynamic = tensors(exports, "dynamic")
    left = tflite_file.left_in_float(weights, dynamic)
    kept = [t for t in weights if t["name"] not in {w["name"] for w in left}]
    assert left and kept, "the network should have weights on both sides of the converter's threshold"
    assert max(np.prod(t["shape"]) for t in left) < min(np.prod(t["shape"]) for t in kept)
    assert all(t["dtype"] == np.float32 for t in tflite_file.counterparts(left, dynamic))
    assert all(t["dtype"] != np.int8 for t in dynamic if not tflite_file.per_channel(t))


@pytest.mark.slow
def test_relu6_outputs_start_at_zero_and_end_at_six_at_most(exports):
    relu6 = tflite_file.relu6_outputs(tensors(exports, "int8"))
    assert len(relu6) == 2  # stem_relu and dw_relu
    for tensor in relu6:
        low, high = tflite_file.stored_range(tensor)
        assert tensor["quantization"][1] == -128 and low == 0 and 0 < high <= 6 * (1 + 1e-6)


@pytest.mark.slow
def test_the_uint8_pixels_are_stored_exactly(exports, int8):
    """Pixels 0..255 calibrate the input: scale 1, as uint8 (zero point 0) and as int8 (zero point -128)."""
    given = int8.get_input_details()[0]
    quantised = tflite_file.find(int8.get_tensor_details(), "tfl.quantize")
    assert given["dtype"] == np.uint8 and quantised["dtype"] == np.int8 and quantised["quantization"][1] == -128
    for tensor in (given, quantised):
        assert tflite_file.stored_range(tensor) == (0, 255)


@pytest.mark.slow
def test_find_names_what_it_could_not_find(exports):
    with pytest.raises(KeyError, match="no_such_layer"):
        tflite_file.find(tensors(exports, "int8"), "no_such_layer")


@pytest.mark.slow
def test_counterparts_name_a_tensor_the_other_export_lacks(exports, int8):
    weights = tflite_file.weight_tensors(int8.get_tensor_details())
    with pytest.raises(KeyError, match=re.escape(weights[0]["name"])):
        tflite_file.counterparts(weights, [t for t in tensors(exports, "fp32") if t["name"] != weights[0]["name"]])


@pytest.mark.slow
def test_layer_of_is_none_for_a_tensor_of_no_kernel(network, int8):
    assert tflite_file.layer_of(int8.get_input_details()[0], network) is None


def test_interpreter_class_falls_back_to_tensorflow_and_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # None: importing it fails
    assert tflite_file.interpreter_class().__module__ == "tensorflow.lite.python.interpreter"
    monkeypatch.setitem(sys.modules, "tensorflow.lite.python.interpreter", None)
    with pytest.raises(ImportError, match="pip install ai-edge-litert"):
        tflite_file.interpreter_class()
