"""The inverted residual block, written out layer by layer, and read back from the real model.

MobileNetV2 is a stem convolution, 17 of these blocks and a last 1×1 convolution. One block
(the paper's Table 1) takes a narrow tensor of ``k`` channels and returns ``c`` channels::

    x  --1×1 conv to t·k channels, BN, ReLU6-->          "expand"   (absent when t == 1)
       --3×3 depthwise conv, stride s, BN, ReLU6-->       "depthwise"
       --1×1 conv to c channels, BN, NO activation-->     "project"  (the linear bottleneck)
       --+ x, when s == 1 and k == c-->                   "add"      (the inverted residual)

The layers carry the names of ``keras.applications.MobileNetV2``'s own layers, so the two can
be read side by side; the real model's weights are copied in layer by layer (in order, so that
a block written with other names compares too) and the outputs compared number for number.
The same module reads the block's relatives: MobileNet v1's block and EfficientNet's MBConv.
"""
from dataclasses import dataclass

from lessons import model, paths

# keras.applications.MobileNetV2's BatchNormalization settings (the TF-slim defaults).
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.999
BYTES_PER_FLOAT = 4  # float32, as Keras computes
PAPER_BYTES_PER_ACTIVATION = 2  # the paper's memory table assumes 16-bit activations


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
        return has_residual(self.s, self.input_shape[-1], self.c)


def block_numbers(base):
    """The bottleneck blocks of a MobileNetV2 base, found by reading its layer names."""
    parts = {model.block_of(layer.name) for layer in base.layers}
    return sorted(part for part in parts if isinstance(part, int))


def block_layers(base, k):
    return [layer for layer in base.layers if model.block_of(layer.name) == k]


def read_block(base, k):
    """t, c, s and the input shape of block ``k``, read from the real model's layers."""
    first = block_layers(base, k)[0]
    input_shape = tuple(first.input.shape[1:])
    names = {layer.name for layer in block_layers(base, k)}
    expand = base.get_layer(prefix(k) + "expand") if prefix(k) + "expand" in names else None
    return BlockSpec(k=k, input_shape=input_shape,
                     t=expand.filters // input_shape[-1] if expand else 1,
                     c=base.get_layer(prefix(k) + "project").filters,
                     s=base.get_layer(prefix(k) + "depthwise").strides[0])


def build(block, input_shape, t, c, s, name, model_name=None):
    """A stand-alone Keras model of one block: ``block(x, t, c, s, name)`` on an input of ``input_shape``.

    ``block`` is any function with the signature of :func:`inverted_residual_block` (a student's too).
    """
    import keras

    inputs = keras.Input(input_shape, name=name + "input")
    return keras.Model(inputs, block(inputs, t, c, s, name), name=model_name or name.rstrip("_"))


def build_block(spec, block=inverted_residual_block):
    """Our block shaped like the real model's block ``spec.k``, its layers named like the real ones."""
    return build(block, spec.input_shape, spec.t, spec.c, spec.s, prefix(spec.k), f"our_block_{spec.k}")


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

    classes = sorted(path for path in paths.SAMPLE_DATA.iterdir() if path.is_dir())
    photos = [sorted(folder.glob("*.jpg"))[0] for folder in classes[:count]]
    return np.stack([images.load_pixels(photo, image_size) for photo in photos]).astype("float32") / 127.5 - 1


def compare_with_real(base, k, x, block=inverted_residual_block):
    """Largest |difference| between a block built by ``block`` (the real block ``k``'s weights copied
    in) and the real block ``k``, on the input ``x``."""
    import numpy as np

    ours = build_block(read_block(base, k), block)
    copy_weights(block_layers(base, k), ours)
    theirs = real_block(base, k)
    return float(np.max(np.abs(np.asarray(ours(x)) - np.asarray(theirs(x)))))


def load_real_model(image_size=224):
    """(the real MobileNetV2 base with the course's ImageNet weights, a sentence saying so)."""
    return model.build_backbone(image_size), model.describe_weights()


def shapes_through_block(height, width, channels, t, c, s):
    """[expanded, after depthwise, output] shapes (h, w, channels) of a block, read from the Keras block."""
    import keras

    inputs = keras.Input((height, width, channels))
    block = keras.Model(inputs, inverted_residual_block(inputs, t, c, s, prefix(1)))
    depthwise = block.get_layer(prefix(1) + "depthwise_relu").output.shape[1:]
    expanded = block.get_layer(prefix(1) + "expand_relu").output.shape[1:] if t != 1 else (height, width, channels)
    return [tuple(expanded), tuple(depthwise), tuple(block.output.shape[1:])]


def shapes_table(base):
    """Per block of ``base``: t, c, s and the shapes in, expanded and out, as table rows."""
    rows = []
    for k in block_numbers(base):
        spec = read_block(base, k)
        expanded, _, output = shapes_through_block(*spec.input_shape, spec.t, spec.c, spec.s)
        rows.append({"block": k, "t": spec.t, "c": spec.c, "s": spec.s, "input": "×".join(map(str, spec.input_shape)),
                     "expanded": "×".join(map(str, expanded)), "output": "×".join(map(str, output)),
                     "residual": "yes" if spec.residual else "no"})
    return rows


# ---------------------------------------------------------------------------------------
# The paper's Table 2, rebuilt from the model's layers

# Quoted from Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
# Table 2 (input, operator, t, c, n, s); None where the paper prints "-". The last two rows
# (pooling and the 1000-class classifier) are not part of the no-top base the course uses.
PAPER_TABLE2 = [
    ("224²×3", "conv2d", None, 32, 1, 2),
    ("112²×32", "bottleneck", 1, 16, 1, 1),
    ("112²×16", "bottleneck", 6, 24, 2, 2),
    ("56²×24", "bottleneck", 6, 32, 3, 2),
    ("28²×32", "bottleneck", 6, 64, 4, 2),
    ("14²×64", "bottleneck", 6, 96, 3, 1),
    ("14²×96", "bottleneck", 6, 160, 3, 2),
    ("7²×160", "bottleneck", 6, 320, 1, 1),
    ("7²×320", "conv2d 1x1", None, 1280, 1, 1),
    ("7²×1280", "avgpool 7x7", None, None, 1, None),
    ("1×1×1280", "conv2d 1x1", None, "k", None, None),
]
# The paper's text (Section 4): "the initial fully convolution layer with 32 filters,
# followed by 19 residual bottleneck layers described in the Table 2".
PAPER_BOTTLENECK_COUNT = 19
# The paper's Table 3 ("the max number of channels/memory (in Kb) that needs to be
# materialized", 16-bit activations), MobileNetV2's column: 16 channels at 112×112, "400K".
PAPER_TABLE3_LARGEST = {"size": (112, 112), "channels": 16, "kilobytes": 400}


def _shape_text(shape):
    height, width, channels = shape
    return f"{height}²×{channels}" if height == width else f"{height}×{width}×{channels}"


def read_table2(base):
    """Table 2's rows (input, operator, t, c, n, s) rebuilt from the layers of a MobileNetV2 base.

    Consecutive blocks with the same t and c form one row: n counts them, s is the first
    one's stride (the paper's convention; the others have stride 1).
    """
    stem, top = base.get_layer("Conv1"), base.get_layer("Conv_1")
    rows = [(_shape_text(base.input.shape[1:]), "conv2d", None, stem.filters, 1, stem.strides[0])]
    groups = []
    for spec in (read_block(base, k) for k in block_numbers(base)):
        if groups and (groups[-1][0].t, groups[-1][0].c) == (spec.t, spec.c) and spec.s == 1:
            groups[-1].append(spec)
        else:
            groups.append([spec])
    for group in groups:
        first = group[0]
        rows.append((_shape_text(first.input_shape), "bottleneck", first.t, first.c, len(group), first.s))
    kernel = "x".join(map(str, top.kernel_size))
    rows.append((_shape_text(top.input.shape[1:]), f"conv2d {kernel}", None, top.filters, 1, top.strides[0]))
    return rows


def format_table2(rows, paper=PAPER_TABLE2):
    """The model's table beside the paper's, with a column saying where they agree."""
    def cells(row):
        return [("-" if value is None else str(value)) for value in row]

    header = ["input", "operator", "t", "c", "n", "s"]
    widths = [10, 12, 3, 6, 3, 3]

    def line(values):
        return "".join(f"{v:>{w}}" if i >= 2 else f"{v:<{w}}" for i, (v, w) in enumerate(zip(values, widths)))

    title = f"{'the real model (read from its layers)':<37}  |  the paper's Table 2 (quoted)"
    out = [title, f"{line(header)}  |  {line(header)}  same?"]
    for i in range(max(len(rows), len(paper))):
        ours = line(cells(rows[i])) if i < len(rows) else f"{'(not in the no-top base)':<{sum(widths)}}"
        theirs = cells(paper[i]) if i < len(paper) else [""] * 6
        same = "yes" if i < len(rows) and cells(rows[i]) == theirs else "-"
        out.append(f"{ours}  |  {line(theirs)}  {same}")
    return "\n".join(out)


def count_layers(base):
    """The counts behind the paper's "19": bottleneck blocks, residual adds, convs outside the blocks."""
    import keras

    blocks = block_numbers(base)
    outside = [layer.name for layer in base.layers
               if isinstance(layer, keras.layers.Conv2D) and not isinstance(model.block_of(layer.name), int)]
    convolutions = [layer for layer in base.layers
                    if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D))]
    return {"bottleneck blocks": len(blocks),
            "blocks with a residual add": sum(read_block(base, k).residual for k in blocks),
            "convolutions outside the blocks": len(outside),
            "outside": outside,
            "convolution layers in all": len(convolutions)}


def what_relu6_follows(base):
    """{the layer a ReLU6 reads, without its block prefix: how many ReLU6 layers read one like it}."""
    import collections

    import keras

    kinds = collections.Counter()
    for layer in base.layers:
        if isinstance(layer, keras.layers.ReLU):
            source = layer.input._keras_history.operation.name  # the layer whose output it reads
            part = model.block_of(source)
            kinds[source.removeprefix(prefix(part)) if isinstance(part, int) else source] += 1
    return dict(kinds)


def layer_counts(model):
    """What "N layers" can mean for a Keras model: every Keras layer, or only the convolution and
    dense layers, the ones that hold the model's weights and run one after another (the
    BatchNorm after each convolution folds into it at inference)."""
    import collections

    kinds = collections.Counter(type(layer).__name__ for layer in model.layers)
    convolutions = kinds["Conv2D"] + kinds["DepthwiseConv2D"]
    return {"keras layers": len(model.layers), "by kind": dict(kinds), "convolutions": convolutions,
            "convolution and dense layers": convolutions + kinds["Dense"]}


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


# ---------------------------------------------------------------------------------------
# The block's family: MobileNet v1 before it, EfficientNet's MBConv after it

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


# ---------------------------------------------------------------------------------------
# Memory: which tensors must exist at the same time

def _floats(shape):
    size = 1
    for dim in shape:
        size *= int(dim)
    return size


def tensor_sizes(block):
    """(layer name, output shape, floats) of the input and every conv/add of a Keras block model."""
    import keras

    kept = (keras.layers.InputLayer, keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Add)
    return [(layer.name, tuple(layer.output.shape[1:]), _floats(layer.output.shape[1:]))
            for layer in block.layers if isinstance(layer, kept)]


def peak_memory(input_shape, expanded_shape, depthwise_shape, output_shape, residual):
    """Tensor sizes (floats) of one block and the peak memory of two ways of running it.

    ``expanded_shape`` is None for a block without expansion (t = 1).

    layer by layer: every conv's whole input and output exist at once (BN and ReLU6 work in
        place), and x stays alive until the residual add;
    streamed (the paper's Section 5.1): expand, depthwise and project are computed one
        expanded channel at a time, the projection accumulating into the output, so only
        x, the output and one channel of the expanded and depthwise tensors ever exist.
    """
    x, depthwise, y = _floats(input_shape), _floats(depthwise_shape), _floats(output_shape)
    expanded = x if expanded_shape is None else _floats(expanded_shape)
    keep_x = x if residual else 0
    steps = [0 if expanded_shape is None else x + expanded, expanded + depthwise + keep_x, depthwise + y + keep_x]
    one_channel = _floats(input_shape[:2]) + _floats(depthwise_shape[:2])
    return {"input": x, "expanded": expanded, "depthwise": depthwise, "output": y,
            "layer_by_layer": max(steps), "streamed": x + y + one_channel}


def block_memory(base):
    """Per block of the real model: :func:`peak_memory`, from its layers' shapes."""
    rows = []
    for k in block_numbers(base):
        spec, name = read_block(base, k), prefix(k)
        expanded = base.get_layer(name + "expand_relu").output.shape[1:] if spec.t != 1 else None
        rows.append({"block": k, **peak_memory(spec.input_shape, expanded,
                                               base.get_layer(name + "depthwise_relu").output.shape[1:],
                                               base.get_layer(name + "project_BN").output.shape[1:], spec.residual)})
    return rows


def block_costs(block):
    """Parameters, multiply-adds, largest tensor (floats) and :func:`peak_memory` of a block model.

    The tensors are found by layer type, not by name, so any block that passes the week's
    check can be measured: the 1×1 conv before the depthwise conv expands, the one after projects.
    """
    import keras

    from lessons import convcost

    kinds = [layer for layer in block.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D))]
    depthwise = next(i for i, layer in enumerate(kinds) if isinstance(layer, keras.layers.DepthwiseConv2D))
    expanded = kinds[0].output.shape[1:] if depthwise > 0 else None
    residual = any(isinstance(layer, keras.layers.Add) for layer in block.layers)
    cost = convcost.model_cost(block)
    return {"params": cost.params, "macs": cost.macs, "largest tensor": max(size for _, _, size in tensor_sizes(block)),
            **peak_memory(block.inputs[0].shape[1:], expanded, kinds[depthwise].output.shape[1:],
                          block.output.shape[1:], residual)}


def expansion_costs(block, input_shape, c, s, expansions):
    """:func:`block_costs` of the block ``block`` builds for each expansion rate t in ``expansions``."""
    return [{"t": t, **block_costs(build(block, input_shape, t, c, s, f"t{t}_"))} for t in expansions]
