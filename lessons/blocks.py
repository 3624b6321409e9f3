"""The inverted residual block, written out layer by layer.

MobileNetV2 is a stem convolution, 17 of these blocks and a last 1×1 convolution. One block
(the paper's Table 1) takes a narrow tensor of ``k`` channels and returns ``c`` channels::

    x  --1×1 conv to t·k channels, BN, ReLU6-->          "expand"   (absent when t == 1)
       --3×3 depthwise conv, stride s, BN, ReLU6-->       "depthwise"
       --1×1 conv to c channels, BN, NO activation-->     "project"  (the linear bottleneck)
       --+ x, when s == 1 and k == c-->                   "add"      (the inverted residual)

The layers carry the names of ``keras.applications.MobileNetV2``'s own layers, so that the
two can be read side by side (:mod:`lessons.real_blocks` compares them number for number).
Around the block: what it costs (:mod:`lessons.block_memory`), the paper's Table 2 read from
the real model (:mod:`lessons.architecture`), its ReLU6 (:mod:`lessons.relu6`) and its
relatives in MobileNet v1 and EfficientNet (:mod:`lessons.relatives`).

Public API: :func:`inverted_residual_block`, :func:`classic_bottleneck` (ResNet's, for
contrast), :func:`build` (one block as a Keras model), :func:`prefix`, :func:`has_residual`,
:func:`stride2_padding`, :func:`shapes_through_block`; :data:`BN_EPSILON`, :data:`BN_MOMENTUM`.
Its figures are in :mod:`lessons.figures.blocks`.
"""
# keras.applications.MobileNetV2's BatchNormalization settings (the TF-slim defaults).
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.999


def prefix(k):
    """Layer-name prefix of block ``k``: Keras calls the first block 'expanded_conv'."""
    return "expanded_conv_" if k == 0 else f"block_{k}_"


def has_residual(stride, in_channels, out_channels):
    """x can only be added to the block's output when both have the same shape."""
    return stride == 1 and in_channels == out_channels


def stride2_padding(height, width):
    """The zeros Keras adds before a stride-2 3×3 depthwise conv: ((top, bottom), (left, right)).

    A stride-2 'same' convolution on an even size would pad one pixel at the bottom/right
    only; TF-slim's checkpoint was trained that way, so Keras pads explicitly (and then
    convolves with 'valid') to reproduce it exactly: one pixel bottom/right for an even
    size, one on each side for an odd size.
    """
    return tuple((size % 2, 1) for size in (height, width))


def inverted_residual_block(x, expansion, out_channels, stride, name):
    """MobileNetV2's bottleneck block on the Keras tensor ``x``; returns the output tensor.

    expansion: t, out_channels: c, stride: s of the depthwise conv; ``name`` prefixes every
    layer's name (``prefix(k)`` gives the real model's names, so the two line up).
    """
    from keras import layers

    inputs, in_channels = x, x.shape[-1]
    if expansion != 1:  # block 0 has t = 1: its depthwise conv works on the stem's channels directly
        x = layers.Conv2D(expansion * in_channels, 1, use_bias=False, name=name + "expand")(x)
        x = layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name + "expand_BN")(x)
        x = layers.ReLU(6.0, name=name + "expand_relu")(x)
    if stride == 2:
        x = layers.ZeroPadding2D(stride2_padding(*x.shape[1:3]), name=name + "pad")(x)
    x = layers.DepthwiseConv2D(3, strides=stride, padding="same" if stride == 1 else "valid", use_bias=False,
                               name=name + "depthwise")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name + "depthwise_BN")(x)
    x = layers.ReLU(6.0, name=name + "depthwise_relu")(x)
    x = layers.Conv2D(out_channels, 1, use_bias=False, name=name + "project")(x)
    # No ReLU here: a ReLU on the narrow output would destroy information (lessons.manifold).
    x = layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name + "project_BN")(x)
    if has_residual(stride, in_channels, out_channels):
        x = layers.Add(name=name + "add")([inputs, x])
    return x


def classic_bottleneck(x, narrow, name="resnet"):
    """A ResNet bottleneck for contrast: wide -> 1×1 to narrow -> 3×3 conv -> 1×1 back to wide, + x."""
    from keras import layers

    wide = x.shape[-1]
    y = x
    for step, (channels, size) in enumerate([(narrow, 1), (narrow, 3), (wide, 1)], start=1):
        y = layers.Conv2D(channels, size, padding="same", use_bias=False, name=f"{name}_{step}_conv")(y)
        y = layers.BatchNormalization(name=f"{name}_{step}_bn")(y)
        if step < 3:
            y = layers.ReLU(name=f"{name}_{step}_relu")(y)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([x, y]))


def build(block, input_shape, t, c, s, name, model_name=None):
    """A stand-alone Keras model of one block: ``block(x, t, c, s, name)`` on an input of ``input_shape``.

    ``block`` is any function with the signature of :func:`inverted_residual_block` (a student's too).
    """
    import keras

    inputs = keras.Input(input_shape, name=name + "input")
    return keras.Model(inputs, block(inputs, t, c, s, name), name=model_name or name.rstrip("_"))


def shapes_through_block(height, width, channels, t, c, s):
    """[expanded, after depthwise, output] shapes (h, w, channels) of a block, read from the Keras block."""
    import keras

    inputs = keras.Input((height, width, channels))
    block = keras.Model(inputs, inverted_residual_block(inputs, t, c, s, prefix(1)))
    depthwise = block.get_layer(prefix(1) + "depthwise_relu").output.shape[1:]
    expanded = block.get_layer(prefix(1) + "expand_relu").output.shape[1:] if t != 1 else (height, width, channels)
    return [tuple(expanded), tuple(depthwise), tuple(block.output.shape[1:])]


