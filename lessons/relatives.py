"""The inverted residual block's relatives: MobileNet v1's block before it, EfficientNet's MBConv after it.

Their blocks are found in the ``keras.applications`` models by layer name
(:func:`v1_block_layers`, :func:`layers_named`) and described in a few words each
(:func:`describe_layer`, :func:`block_summary`: layers, convolutions, parameters,
multiply-adds, residual add), the same way for MobileNetV2's own blocks.

Public API: :func:`v1_block_layers`, :func:`layers_named`, :func:`describe_layer`,
:func:`block_summary`, :data:`ACTIVATION_NAMES`.
"""


def v1_block_layers(v1, k):
    """Block ``k`` (1..13) of ``keras.applications.MobileNet``: a 3×3 depthwise conv and a 1×1
    pointwise conv, each with BatchNorm and ReLU6 (and the padding of a stride-2 block)."""
    import re

    return [layer for layer in v1.layers if re.fullmatch(rf"conv_(pad|dw|pw)_{k}(_bn|_relu)?", layer.name)]


def layers_named(model, start):
    """The layers of ``model`` whose names start with ``start`` (EfficientNet's block 'block2b_')."""
    return [layer for layer in model.layers if layer.name.startswith(start)]


# Keras calls swish "silu" (the same function, x·sigmoid(x)); we use the EfficientNet paper's name.
ACTIVATION_NAMES = {"silu": "swish"}


def describe_layer(layer):
    """A few words for one layer: 'conv 1×1 → 144', 'depthwise 3×3 /2', 'BN', 'ReLU6', 'add'..."""
    import keras

    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", "linear")
    then = "" if name == "linear" else f" + {ACTIVATION_NAMES.get(name, name)}"
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        stride = f" /{layer.strides[0]}" if layer.strides[0] != 1 else ""
        return f"depthwise {layer.kernel_size[0]}×{layer.kernel_size[1]}{stride}{then}"
    if isinstance(layer, keras.layers.Conv2D):
        return f"conv {layer.kernel_size[0]}×{layer.kernel_size[1]} → {layer.filters}{then}"
    if isinstance(layer, keras.layers.ReLU):
        return "ReLU" if layer.max_value is None else f"ReLU{float(layer.max_value):g}"
    if isinstance(layer, keras.layers.Activation):
        return ACTIVATION_NAMES.get(name, name)
    words = {"BatchNormalization": "BN", "Add": "add", "Multiply": "multiply", "ZeroPadding2D": "pad",
             "GlobalAveragePooling2D": "global average", "Reshape": "reshape", "Dropout": "dropout"}
    return words.get(type(layer).__name__, type(layer).__name__)


def block_summary(layers):
    """One block, from its list of layers: the layers in words, how many convolutions, parameters
    (as Keras counts them, BatchNorm included), multiply-adds, and whether it adds its input."""
    import keras

    from lessons import convcost

    return {"layers": [describe_layer(layer) for layer in layers],
            "convolutions": sum(isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D))
                                for layer in layers),
            "params": sum(layer.count_params() for layer in layers),
            "macs": sum(convcost.layer_cost(layer).macs for layer in layers),
            "residual add": any(isinstance(layer, keras.layers.Add) for layer in layers),
            "input": tuple(layers[0].input.shape[1:]), "output": tuple(layers[-1].output.shape[1:])}
