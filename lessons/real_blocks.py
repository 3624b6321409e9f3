"""The real model's blocks: read from ``keras.applications.MobileNetV2``, cut out, compared with ours.

:func:`read_block` reads t, c, s and the input shape of block ``k`` from the real model's
layers (a :class:`BlockSpec`); :func:`build_block` builds the same block with
:func:`lessons.blocks.inverted_residual_block` (or a student's block) and
:func:`compare_with_real` copies the real block's weights in, layer by layer in order (so
that a block written with other names compares too), and measures the largest difference
between the two outputs. :func:`randomise` gives a block random weights and BatchNorm
statistics, so that no layer is nearly an identity and a wrong block cannot hide.

Public API: :class:`BlockSpec`, :func:`block_numbers`, :func:`block_layers`, :func:`read_block`,
:func:`build_block`, :func:`real_block`, :func:`weighted_layers`, :func:`copy_weights`,
:func:`randomise`, :func:`block_input`, :func:`sample_batch`, :func:`compare_with_real`.
"""
from dataclasses import dataclass

from lessons import blocks, mobilenetv2, paths


@dataclass(frozen=True)
class BlockSpec:
    """What the paper's Table 2 says about one block, plus the shape it receives."""
    k: int
    input_shape: tuple  # (height, width, channels)
    t: int  # expansion factor
    c: int  # output channels
    s: int  # stride

    @property
    def residual(self):
        return blocks.has_residual(self.s, self.input_shape[-1], self.c)


def block_numbers(base):
    """The bottleneck blocks of a MobileNetV2 base, found by reading its layer names."""
    parts = {mobilenetv2.block_of(layer.name) for layer in base.layers}
    return sorted(part for part in parts if isinstance(part, int))


def block_layers(base, k):
    return [layer for layer in base.layers if mobilenetv2.block_of(layer.name) == k]


def read_block(base, k):
    """t, c, s and the input shape of block ``k``, read from the real model's layers."""
    first = block_layers(base, k)[0]
    input_shape = tuple(first.input.shape[1:])
    names = {layer.name for layer in block_layers(base, k)}
    expand = base.get_layer(blocks.prefix(k) + "expand") if blocks.prefix(k) + "expand" in names else None
    return BlockSpec(k=k, input_shape=input_shape,
                     t=expand.filters // input_shape[-1] if expand else 1,
                     c=base.get_layer(blocks.prefix(k) + "project").filters,
                     s=base.get_layer(blocks.prefix(k) + "depthwise").strides[0])


def build_block(spec, block=blocks.inverted_residual_block):
    """Our block shaped like the real model's block ``spec.k``, its layers named like the real ones."""
    return blocks.build(block, spec.input_shape, spec.t, spec.c, spec.s, blocks.prefix(spec.k), f"our_block_{spec.k}")


def real_block(base, k):
    """Block ``k`` cut out of the real model: from its input tensor to its output tensor."""
    import keras

    layers = block_layers(base, k)
    return keras.Model(layers[0].input, layers[-1].output, name=f"real_block_{k}")


def weighted_layers(layers):
    """The layers that hold weights (convolutions, BatchNorm...), in order; a model or a list of layers."""
    return [layer for layer in getattr(layers, "layers", layers) if layer.weights]


def copy_weights(source, target):
    """Copy the weights of ``source``'s weighted layers into ``target``'s, one by one in order.

    By order, not by name: a block written by someone else may name its layers as it likes,
    as long as it has the same weighted layers in the same order.
    """
    sources, targets = weighted_layers(source), weighted_layers(target)
    if len(sources) != len(targets):
        raise ValueError(f"{len(targets)} layers with weights to fill from {len(sources)}.")
    for real, ours in zip(sources, targets):
        ours.set_weights(real.get_weights())


def randomise(model, seed=0):
    """Random weights in every layer of ``model``, BatchNorm statistics included, so that no layer is an
    identity (ImageNet's or Keras's initial weights leave some nearly so) and a wrong block cannot hide."""
    import keras
    import numpy as np

    rng = np.random.default_rng(seed)
    for layer in weighted_layers(model):
        values = [rng.normal(0, 0.3, w.shape).astype("float32") for w in layer.get_weights()]
        if isinstance(layer, keras.layers.BatchNormalization):  # gamma, beta, mean, variance > 0
            values[3] = rng.uniform(0.5, 2.0, values[3].shape).astype("float32")
        layer.set_weights(values)
    return model


def block_input(base, k, images):
    """What reaches block ``k`` when ``images`` (already scaled to [-1, 1]) go through the real model."""
    import keras

    return keras.Model(base.input, block_layers(base, k)[0].input)(images)


def sample_batch(image_size, count=2):
    """``count`` photos of data/sample (one per class, in class order), scaled to [-1, 1] as the model expects."""
    import numpy as np

    from lessons import images

    photos = paths.sample_photo_per_class()[:count]
    return np.stack([images.load_pixels(photo, image_size) for photo in photos]).astype("float32") / 127.5 - 1


def compare_with_real(base, k, x, block=blocks.inverted_residual_block):
    """Largest |difference| between a block built by ``block`` (the real block ``k``'s weights copied
    in) and the real block ``k``, on the input ``x``."""
    import numpy as np

    ours = build_block(read_block(base, k), block)
    copy_weights(block_layers(base, k), ours)
    theirs = real_block(base, k)
    return float(np.max(np.abs(np.asarray(ours(x)) - np.asarray(theirs(x)))))
