"""What a convolution costs: parameters and multiply-adds, for one layer or a whole model.

Three convolutions, with a K×K kernel, C_in input and C_out output channels, on an
output feature map of H×W positions (no biases, as in MobileNetV2)::

    standard    K·K·C_in·C_out weights       H·W·K·K·C_in·C_out multiply-adds
    depthwise   K·K·C_in                     H·W·K·K·C_in      (one K×K filter per channel)
    pointwise   C_in·C_out  (a 1×1 conv)     H·W·C_in·C_out    (mixes the channels)

A depthwise separable convolution is a depthwise one followed by a pointwise one; it costs
1/C_out + 1/K² of the standard convolution it replaces, in weights and in multiply-adds.

A convolution without bias does one multiply-add per weight at every output position:
that is why the multiply-adds are the weights times H·W. Kernel and map sizes are an int
(square) or a (height, width) pair.

Public API: :data:`KINDS`, :class:`Cost`, :func:`standard_params`, :func:`depthwise_params`,
:func:`pointwise_params`, :func:`separable_params`, :func:`batchnorm_params`,
:func:`normalization_params`, :func:`standard_macs`, :func:`depthwise_macs`,
:func:`pointwise_macs`, :func:`separable_macs`, :func:`separable_ratio`, :func:`conv_costs`,
:func:`layer_kind`, :func:`layer_cost`, :func:`cost_by_kind`, :func:`model_cost`,
:func:`macs_by_running`, :func:`with_standard_convs`, :func:`mobilenetv2`,
:func:`width_resolution_table`, :data:`STAGE_LAYERS`, :func:`stage_widths`,
:func:`separable_as_standard_kernel`, :func:`separable_vs_standard`,
:func:`channel_slice_ranks`.
"""
from typing import NamedTuple

import numpy as np

# The kinds of layer with weights in MobileNetV2 ("standard" is its 3×3 stem). EfficientNet
# adds one more, "normalization": an input layer that holds a mean and a variance per colour.
KINDS = ("standard", "depthwise", "pointwise", "batchnorm", "dense")


class Cost(NamedTuple):
    params: int
    macs: int  # multiply-adds for one image

    def __add__(self, other):
        return Cost(self.params + other.params, self.macs + other.macs)


def _area(size):
    """K·K of a kernel, or H·W of a feature map: an int means a square."""
    height, width = (size, size) if isinstance(size, (int, np.integer)) else size
    return int(height) * int(width)


def standard_params(kernel_size, c_in, c_out, bias=False):
    # Every output channel has its own K×K filter over every input channel.
    return _area(kernel_size) * c_in * c_out + (c_out if bias else 0)


def depthwise_params(kernel_size, channels, bias=False):
    # One K×K filter per channel: no mixing between channels.
    return _area(kernel_size) * channels + (channels if bias else 0)


def pointwise_params(c_in, c_out, bias=False):
    return standard_params(1, c_in, c_out, bias)


def separable_params(kernel_size, c_in, c_out):
    return depthwise_params(kernel_size, c_in) + pointwise_params(c_in, c_out)


def batchnorm_params(channels, scale=True, center=True):
    # gamma and beta (when used) are trained; the moving mean and variance are counted by
    # Keras too (count_params), although no optimiser touches them.
    return (2 + scale + center) * channels


def normalization_params(channels):
    # A mean and a variance per channel, and the number of samples they were adapted on
    # (Keras counts all three, although none is trained).
    return 2 * channels + 1


def standard_macs(kernel_size, c_in, c_out, out_size):
    return _area(out_size) * standard_params(kernel_size, c_in, c_out)


def depthwise_macs(kernel_size, channels, out_size):
    return _area(out_size) * depthwise_params(kernel_size, channels)


def pointwise_macs(c_in, c_out, out_size):
    return _area(out_size) * pointwise_params(c_in, c_out)


def separable_macs(kernel_size, c_in, c_out, out_size):
    return depthwise_macs(kernel_size, c_in, out_size) + pointwise_macs(c_in, c_out, out_size)


def separable_ratio(kernel_size, c_out):
    """Cost of depthwise + pointwise over the standard conv: 1/C_out + 1/K² (any C_in, H, W)."""
    return 1 / c_out + 1 / _area(kernel_size)


def conv_costs(kernel_size, c_in, c_out, out_size):
    """The three convolutions of one layer side by side, and the separable saving."""
    standard = Cost(standard_params(kernel_size, c_in, c_out), standard_macs(kernel_size, c_in, c_out, out_size))
    depthwise = Cost(depthwise_params(kernel_size, c_in), depthwise_macs(kernel_size, c_in, out_size))
    pointwise = Cost(pointwise_params(c_in, c_out), pointwise_macs(c_in, c_out, out_size))
    separable = depthwise + pointwise
    return {"standard": standard, "depthwise": depthwise, "pointwise": pointwise, "separable": separable,
            "ratio": separable_ratio(kernel_size, c_out), "times_fewer": standard.macs / separable.macs}


def layer_kind(layer):
    """'standard', 'depthwise', 'pointwise' (a 1×1 Conv2D), 'batchnorm', 'dense',
    'normalization' (EfficientNet's input layer), or None for a layer without weights (ReLU,
    swish, Add, Multiply, padding, pooling, rescaling...)."""
    import keras

    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return "depthwise"
    if isinstance(layer, keras.layers.Conv2D):
        return "pointwise" if _area(layer.kernel_size) == 1 else "standard"
    if isinstance(layer, keras.layers.BatchNormalization):
        return "batchnorm"
    if isinstance(layer, keras.layers.Dense):
        return "dense"
    if isinstance(layer, keras.layers.Normalization) and layer.weights:  # no weights when given constants
        return "normalization"
    if layer.weights:
        raise ValueError(f"Layer {layer.name} ({type(layer).__name__}) has weights this course does not count.")
    return None


def layer_cost(layer):
    """Parameters and multiply-adds of a Keras layer that has been called on an input.

    Read from the layer's settings and its input and output shapes, not from its weights,
    so that comparing with ``layer.count_params()`` checks the formulas.
    """
    kind = layer_kind(layer)
    if kind is None:
        # ReLU6, swish, Add, Multiply and pooling do no multiply-adds worth counting next to
        # the convolutions; like the papers, we count only those of convolutions and dense layers.
        return Cost(0, 0)
    c_in, c_out = layer.input.shape[-1], layer.output.shape[-1]
    if kind == "normalization":
        # Zero multiply-adds: like BatchNorm, it folds into the first convolution.
        return Cost(normalization_params(c_out), 0)
    if kind == "batchnorm":
        # Zero multiply-adds: at inference BatchNorm folds into the convolution before it.
        return Cost(batchnorm_params(c_out, layer.scale, layer.center), 0)
    if kind == "dense":
        # A dense layer is a pointwise convolution on a 1×1 map.
        return Cost(pointwise_params(c_in, c_out, layer.use_bias), pointwise_macs(c_in, c_out, 1))
    if kind != "depthwise" and layer.groups != 1:
        raise ValueError(f"Layer {layer.name} is a grouped convolution, which this course does not count.")
    out_size = layer.output.shape[1:3]
    if kind == "depthwise":
        # With a depth multiplier m each input channel gets m filters: count the output channels.
        return Cost(depthwise_params(layer.kernel_size, c_out, layer.use_bias),
                    depthwise_macs(layer.kernel_size, c_out, out_size))
    return Cost(standard_params(layer.kernel_size, c_in, c_out, layer.use_bias),
                standard_macs(layer.kernel_size, c_in, c_out, out_size))


def cost_by_kind(model):
    """Walk the model's layers: total parameters and multiply-adds of each kind of layer
    (every kind of :data:`KINDS`, and "normalization" only in a model that has one)."""
    totals = {kind: Cost(0, 0) for kind in KINDS}
    for layer in model.layers:
        kind = layer_kind(layer)
        if kind is not None:
            totals[kind] = totals.get(kind, Cost(0, 0)) + layer_cost(layer)
    return totals


def model_cost(model):
    """Parameters and multiply-adds of a whole model, summed layer by layer."""
    return sum(cost_by_kind(model).values(), Cost(0, 0))


def macs_by_running(layer, input_shape):
    """Count a layer's multiply-adds by running it, to check the formulas.

    With every input and every weight equal to 1 (biases 0), each multiply-add adds exactly
    1 to the outputs: their sum is the count. Overwrites the layer's weights. Only for
    padding='valid': the zeros that 'same' padding multiplies would add nothing to the sum.
    """
    if getattr(layer, "padding", "valid") != "valid":
        raise ValueError(f"{layer.name} pads its input: use padding='valid' to count by running it.")
    ones = np.ones((1, *input_shape), "float32")
    if not layer.built:
        layer.build(ones.shape)
    layer.kernel.assign(np.ones(layer.kernel.shape, "float32"))
    if layer.use_bias:
        layer.bias.assign(np.zeros(layer.bias.shape, "float32"))
    import keras

    # Summed in float64: float32 would round totals above 2**24.
    return int(np.sum(keras.ops.convert_to_numpy(layer(ones)), dtype=np.float64))


def with_standard_convs(model):
    """What a Keras MobileNetV2 would cost if each depthwise conv and the 1×1 projection after
    it were one standard conv (same kernel, same channels in and out)."""
    total = model_cost(model)
    for depthwise in (layer for layer in model.layers if layer_kind(layer) == "depthwise"):
        project = model.get_layer(depthwise.name.replace("_depthwise", "_project"))
        k, c_in, c_out = depthwise.kernel_size, depthwise.input.shape[-1], project.filters
        standard = Cost(standard_params(k, c_in, c_out), standard_macs(k, c_in, c_out, project.output.shape[1:3]))
        pair = layer_cost(depthwise) + layer_cost(project)
        total = Cost(total.params - pair.params + standard.params, total.macs - pair.macs + standard.macs)
    return total


def mobilenetv2(alpha=1.0, image_size=224, include_top=True):
    """The real ``keras.applications.MobileNetV2`` with random weights: counting needs no download."""
    import keras

    return keras.applications.MobileNetV2(input_shape=(image_size, image_size, 3), alpha=alpha,
                                          include_top=include_top, weights=None)


def width_resolution_table(alphas, sizes):
    """The real MobileNetV2 (with its 1000-class classifier) for every width multiplier and
    image size: one row each, with the parameters with and without BatchNorm and the top, the
    multiply-adds with and without the top, and the :func:`stage_widths`."""
    rows = []
    for alpha in alphas:
        for size in sizes:
            model = mobilenetv2(alpha, size, include_top=True)
            kinds = cost_by_kind(model)
            total = sum(kinds.values(), Cost(0, 0))
            rows.append({"alpha": alpha, "size": size, "params": total.params, "macs": total.macs,
                         "params_without_bn": total.params - kinds["batchnorm"].params,
                         "params_without_top": total.params - kinds["dense"].params,
                         "macs_without_top": total.macs - kinds["dense"].macs, "widths": stage_widths(model)})
    return rows


# The layers whose outputs set each stage's width: stem, the 7 stages' projections, last conv.
STAGE_LAYERS = ("Conv1", "expanded_conv_project", "block_2_project", "block_5_project", "block_9_project",
                "block_12_project", "block_15_project", "block_16_project", "Conv_1")


def stage_widths(model):
    """Channels out of the stem, of each stage of bottlenecks, and of the last 1×1 conv."""
    return {name: model.get_layer(name).filters for name in STAGE_LAYERS}


def separable_as_standard_kernel(depthwise_kernel, pointwise_kernel):
    """The standard kernel that does what depthwise then pointwise do:
    kernel[i, j, c, o] = depthwise[i, j, c] · pointwise[c, o].

    Keras shapes: depthwise (K, K, C_in, 1), pointwise (1, 1, C_in, C_out) -> (K, K, C_in, C_out).
    """
    return np.einsum("ijc,co->ijco", depthwise_kernel[..., 0], pointwise_kernel[0, 0])


def separable_vs_standard(kernel_size=3, c_in=8, c_out=16, size=12, seed=0):
    """Run a random depthwise + pointwise pair and the standard Conv2D built from
    :func:`separable_as_standard_kernel` on the same random input: both outputs."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = np.random.default_rng(seed).normal(size=(1, size, size, c_in)).astype("float32")
    depthwise = keras.layers.DepthwiseConv2D(kernel_size, padding="same", use_bias=False)
    pointwise = keras.layers.Conv2D(c_out, 1, use_bias=False)
    separable_out = pointwise(depthwise(inputs))
    standard = keras.layers.Conv2D(c_out, kernel_size, padding="same", use_bias=False)
    standard.build(inputs.shape)
    standard.set_weights([separable_as_standard_kernel(depthwise.get_weights()[0], pointwise.get_weights()[0])])
    return keras.ops.convert_to_numpy(separable_out), keras.ops.convert_to_numpy(standard(inputs))


def channel_slice_ranks(kernel):
    """Rank of each input channel's (K·K) × C_out slice of a standard kernel.

    A kernel built from depthwise + pointwise has rank 1 in every slice (an outer product);
    a freely trained kernel generally has rank min(K·K, C_out): that is the restriction.
    """
    k_h, k_w, c_in, c_out = kernel.shape
    slices = np.moveaxis(np.asarray(kernel), 2, 0).reshape(c_in, k_h * k_w, c_out)
    return [int(np.linalg.matrix_rank(s)) for s in slices]
