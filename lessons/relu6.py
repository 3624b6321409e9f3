"""MobileNetV2's ReLU6: which layers it follows, and what it does to the numbers that reach it.

:func:`what_relu6_follows` shows that no ReLU6 reads a block's projection (the linear
bottleneck); :func:`relu6_statistics` measures, per ReLU6 layer, how large its inputs get,
how many it zeroes and how many it caps at 6; :func:`fixed_point_step` is the resolution
left when a range is stored in few bits, the reason to cap activations at all.

Public API: :func:`what_relu6_follows`, :func:`relu6_statistics`, :func:`fixed_point_step`.
"""
from lessons import blocks, keras_graph, mobilenetv2


def what_relu6_follows(base):
    """{the layer a ReLU6 reads, without its block prefix: how many ReLU6 layers read one like it}."""
    import collections

    import keras

    kinds = collections.Counter()
    for layer in base.layers:
        if isinstance(layer, keras.layers.ReLU):
            source = keras_graph.producer(layer.input).name  # the layer whose output it reads
            part = mobilenetv2.block_of(source)
            kinds[source.removeprefix(blocks.prefix(part)) if isinstance(part, int) else source] += 1
    return dict(kinds)


def relu6_statistics(base, images):
    """Per ReLU6 layer of ``base``: what reaches it when ``images`` go through the model.

    largest: the largest input (the range a plain ReLU's output would need);
    zeroed: the share of inputs <= 0, which the ReLU6 sets to 0;
    clipped: the share of inputs > 6, which the ReLU6 caps.
    """
    import keras
    import numpy as np

    relus = [layer for layer in base.layers if isinstance(layer, keras.layers.ReLU)]
    inputs = keras.Model(base.input, [layer.input for layer in relus])(images)
    return [{"layer": layer.name, "largest": float(np.max(values)), "zeroed": float(np.mean(values <= 0)),
             "clipped": float(np.mean(values > 6))} for layer, values in zip(relus, map(np.asarray, inputs))]


def fixed_point_step(high, bits=8):
    """The gap between neighbouring stored values when [0, high] is stored in ``bits`` bits (2**bits levels)."""
    return high / (2 ** bits - 1)
