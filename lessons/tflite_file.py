"""Inside a ``.tflite`` file: its tensors, what each stores, and how a quantised one maps back to Keras.

The LiteRT interpreter lists every tensor of a file (name, shape, dtype, quantisation
parameters) as a dict; these functions read those lists. An 8-bit integer q stands for the
real number ``scale * (q - zero_point)``. In an INT8 file the weights of a convolution or
dense layer get one scale per output channel (zero point 0) and their biases are int32;
every activation gets one scale and zero point. On the way the converter folds each
BatchNormalization into the convolution before it, so the stored weights are the Keras
kernel times gamma / sqrt(variance + epsilon), channel by channel.

Public API:

* :func:`interpreter_class`, :func:`load`: open a file with LiteRT (TensorFlow's copy where
  LiteRT has no wheel);
* :func:`weight_tensors`, :func:`bias_tensors`, :func:`relu6_outputs`, :func:`find`,
  :func:`counterparts`, :func:`left_in_float`: pick tensors out of a file's list;
* :func:`nbytes`, :func:`int8_storage`, :func:`stored_range`: what they cost and cover;
* :func:`layer_of`, :func:`folded_kernel`, :func:`dequantise`, :func:`channel_peaks`,
  :func:`within_half_step`: compare a file's weights with the Keras model's.
"""
import re

import numpy as np

QUANTISATION_BYTES = 4 + 8  # a file stores each channel's scale as float32 and its zero point as int64
# The converter folds BatchNorm in its own order of operations: a hair of slack over half a step.
FOLDING_SLACK = 1.0001


def interpreter_class():
    """LiteRT's ``Interpreter`` class, or TensorFlow's own copy where LiteRT has no wheel (Windows)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tensorflow.lite.python.interpreter import Interpreter
        except ImportError:
            raise ImportError("Running a .tflite file needs LiteRT: `pip install ai-edge-litert` (or TensorFlow, "
                              "whose own copy serves where LiteRT has no wheel).") from None
    return Interpreter


def load(model):
    """An interpreter of ``model`` (a ``.tflite`` path, or the bytes of one), to read, not to run.

    Its constants (weights, biases) can be read with ``get_tensor`` already, and until
    ``allocate_tensors`` its tensor list is the file's own: allocating adds the runtime's scratch
    tensors (such as the int8 copies of activations that a dynamic-range file quantises on the fly).
    """
    source = {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
    return interpreter_class()(**source)


def per_channel(tensor):
    """True for a tensor quantised channel by channel: a weight or bias of an INT8 (or dynamic) file."""
    return len(tensor["quantization_parameters"]["scales"]) > 1


def weight_tensors(tensors):
    """The int8 weights of convolutions and dense layers among a file's ``tensors``."""
    return [t for t in tensors if per_channel(t) and t["dtype"] == np.int8]


def bias_tensors(tensors):
    """The int32 biases of those layers (BatchNorm's shift folded in)."""
    return [t for t in tensors if per_channel(t) and t["dtype"] == np.int32]


def relu6_outputs(tensors):
    """The activations that leave a ReLU6 (the converter fuses it into the convolution before it)."""
    return [t for t in tensors if not per_channel(t) and _first_name(t).endswith("Relu6")]


def find(tensors, *name_parts):
    """The first tensor whose name holds every one of ``name_parts``."""
    found = next((t for t in tensors if all(part in _first_name(t) for part in name_parts)), None)
    if found is None:
        raise KeyError(f"no tensor's name holds all of {name_parts}; list the names with "
                       "[t['name'] for t in interpreter.get_tensor_details()]")
    return found


def counterparts(tensors, other):
    """The tensors of another export of the same model (``other``, its tensor list) that hold the same
    numbers as ``tensors``, stored their own way (int8 or float32).

    Every export names a tensor after the same operations, but the converter may append a digit to make
    a name unique (MatMul1 in one file, MatMul in the other): the shape tells such names apart.
    """
    by_key = {_key(t): t for t in other}
    missing = [t["name"] for t in tensors if _key(t) not in by_key]
    if missing:
        raise KeyError(f"the other export has no tensor named and shaped like {missing[0]!r}: "
                       "are both files exports of the same model?")
    return [by_key[_key(t)] for t in tensors]


def left_in_float(weights, other):
    """The ``weights`` (of an INT8 file) that the export ``other`` does not store as int8.

    Dynamic-range quantisation leaves the smallest weight tensors in float32, where 8 bits would save
    almost nothing.
    """
    return [w for w, o in zip(weights, counterparts(weights, other)) if o["dtype"] != np.int8]


def nbytes(tensors):
    """How many bytes the numbers of ``tensors`` take (their shapes times their dtypes' sizes)."""
    return int(sum(np.prod(t["shape"]) * np.dtype(t["dtype"]).itemsize for t in tensors))


def int8_storage(tensors):
    """{"weights", "biases", "quantisation"}: the bytes an INT8 file spends on each.

    "quantisation" is a scale and a zero point for every channel of every weight and bias tensor.
    """
    weights, biases = weight_tensors(tensors), bias_tensors(tensors)
    channels = sum(len(t["quantization_parameters"]["scales"]) for t in weights + biases)
    return {"weights": nbytes(weights), "biases": nbytes(biases), "quantisation": QUANTISATION_BYTES * channels}


def stored_range(tensor):
    """(lowest, highest) real value a tensor of one scale can hold: its dtype's integer range, dequantised."""
    scale, zero_point = tensor["quantization"]
    integers = np.iinfo(tensor["dtype"])
    return scale * (integers.min - zero_point), scale * (integers.max - zero_point)


def layer_of(tensor, model):
    """The name of the layer of ``model`` (a Keras model; nested models searched) whose kernel a weight
    tensor stores, or None.

    The converter names a fused tensor after one of the layers it fused: the convolution, or its
    BatchNorm or ReLU, which MobileNetV2 names after the convolution plus _BN or _relu; and tracing
    adds _1 (or _2, ...) to every name scope.
    """
    names = {layer.name for layer in _kernel_layers(model)}
    for scope in _first_name(tensor).split("/"):
        for name in (scope, re.sub(r"_\d+$", "", scope)):
            stem = re.sub(r"_(BN|relu)$", "", name)
            if stem in names:
                return stem
    return None


def folded_kernel(layer, batchnorm=None):
    """The weights the converter stores for a Keras Conv2D, DepthwiseConv2D or Dense ``layer``, with the
    BatchNormalization that follows it (``batchnorm``) folded in, in TFLite's layout.

    Folding scales each output channel by gamma / sqrt(variance + epsilon): at inference BatchNorm is
    that scaling plus a shift, which goes into the bias.
    """
    import keras

    kernel = np.asarray(layer.kernel)  # conv (h, w, in, out), depthwise (h, w, in, multiplier), dense (in, out)
    depthwise = isinstance(layer, keras.layers.DepthwiseConv2D)
    if batchnorm is not None:
        variance = np.asarray(batchnorm.moving_variance)
        gamma = np.asarray(batchnorm.gamma) if batchnorm.scale else np.ones_like(variance)
        # A depthwise layer's output channel c * multiplier + m comes from input channel c.
        channels = kernel.shape[2:] if depthwise else (-1,)
        kernel = kernel * gamma.reshape(channels) / np.sqrt(variance + batchnorm.epsilon).reshape(channels)
    if depthwise:
        return kernel.reshape(*kernel.shape[:2], -1)[None]  # (1, h, w, out)
    if kernel.ndim == 2:
        return kernel.T  # (out, in)
    return kernel.transpose(3, 0, 1, 2)  # (out, h, w, in)


def dequantise(interpreter, tensor):
    """The real numbers a per-channel tensor of ``interpreter`` stands for: scale * (q - zero point)."""
    scales, zero_points = _per_channel_parameters(tensor)
    stored = interpreter.get_tensor(tensor["index"])
    return (stored - zero_points).astype(np.float32) * scales


def channel_peaks(values, tensor):
    """The largest absolute value in each channel of ``values``: an array shaped like the per-channel ``tensor``
    (its integers, or a kernel from :func:`folded_kernel`)."""
    axis = tensor["quantization_parameters"]["quantized_dimension"]
    return np.abs(values).max(axis=tuple(a for a in range(np.ndim(values)) if a != axis))


def within_half_step(interpreter, tensor, kernel):
    """True when every stored weight is within half a step of ``kernel`` (see :func:`folded_kernel`):
    the file holds that kernel, rounded to the nearest step of each channel's grid.

    With the Keras kernel left unfolded this fails wherever BatchNorm scaled a channel.
    """
    scales, _ = _per_channel_parameters(tensor)
    error = np.abs(dequantise(interpreter, tensor) - kernel)
    return bool(np.all(error <= scales / 2 * FOLDING_SLACK))


def _per_channel_parameters(tensor):
    """(scales, zero points), shaped to broadcast along the tensor's quantised axis."""
    parameters = tensor["quantization_parameters"]
    shape = [1] * len(tensor["shape"])
    shape[parameters["quantized_dimension"]] = -1
    return parameters["scales"].reshape(shape), parameters["zero_points"].reshape(shape)


def _key(tensor):
    """What identifies a tensor across exports: its name without a trailing digit, and its shape."""
    return re.sub(r"\d+$", "", tensor["name"]), tuple(tensor["shape"])


def _first_name(tensor):
    # A fused tensor's name lists every operation it stands for, separated by ';': the first is its own.
    return tensor["name"].split(";")[0]


def _kernel_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers"):
            yield from _kernel_layers(layer)
        elif hasattr(layer, "kernel"):
            yield layer
