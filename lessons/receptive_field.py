"""Receptive fields: which input pixels one unit of a layer can see, and which it really uses.

The *theoretical* field follows from the layers alone. Along one axis, a layer with kernel
``k`` (extent ``d*(k-1)+1`` with dilation ``d``), stride ``s`` and ``p`` zeros of padding
before the input turns the field of its input (size ``r``, jump ``j``, first pixel ``f``)
into::

    r_out = r + (d*(k-1)) * j        each unit sees d*(k-1) more input units, j pixels apart
    j_out = j * s                    neighbouring units are s input units apart
    f_out = f - p * j                the window of unit 0 starts p units into the padding

:func:`walk` applies this to every layer of any Keras functional model, following the
graph itself (branches, residual adds, nested models), not just the list of layers.

The *effective* field is measured: the gradient of one unit with respect to the input
photo says how much each pixel actually moves it (:func:`effective_field`).
:func:`set_positive_weights` gives a network in which no gradient cancels or is clipped, so
that the gradient's support is exactly the theoretical field: the tests' brute-force check.

:func:`field_data` measures both for one unit of the course's MobileNetV2 on a photo: what
week 3's figures and widget show.

:func:`on_canvas` and :func:`accuracy_by_side` shrink the object instead: how small can it get,
inside fields and a grid that stay the same, before a classifier loses it?

Public API: :data:`IMAGE_SIZE`, :class:`Axis`, :func:`input_axis`, :func:`conv_axis`,
:func:`chain_field`, :func:`same_padding`, :class:`LayerField`, :func:`walk`, :func:`field_of`,
:func:`merge_axes`, :func:`block_ends`, :func:`format_table`, :func:`input_gradient`,
:func:`support_box`, :func:`set_positive_weights`, :func:`effective_field`, :func:`mass_square`,
:func:`mass_inside`, :func:`effective_sizes`, :class:`FieldBackbone`, :func:`field_backbone`,
:func:`part_model`, :func:`layer_choices`, :func:`unit_at`, :func:`field_data`,
:func:`on_canvas`, :func:`accuracy_by_side`.
"""
import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from lessons import keras_graph
from lessons.text_table import text_table

# The square the effective field is measured with: the one holding this share of |gradient|.
MASS_FRACTION = 0.95
# The model week 3 reads one unit of on a photo: MobileNetV2 at 224 px, the course's weights.
IMAGE_SIZE = 224
DEFAULT_LAYER = "out_relu"


@dataclass(frozen=True)
class Axis:
    """The receptive field along one spatial axis (rows or columns), in input pixels.

    Input pixel ``i`` is the square centred at coordinate ``i`` (0-based).
    """
    size: int    # r: how many input pixels one unit sees, padding included
    jump: int    # j: input pixels between two neighbouring units (the effective stride)
    first: int   # the first input pixel of unit 0's field; negative when it starts in the padding
    length: int  # how many units the layer has along this axis

    @property
    def offset(self):
        """The centre of unit 0's field, in input pixels."""
        return self.first + (self.size - 1) / 2

    def span(self, unit):
        """First and last input pixel (inclusive) of ``unit``'s field, padding included."""
        start = self.first + unit * self.jump
        return start, start + self.size - 1

    def centre(self, unit):
        return self.offset + unit * self.jump


def input_axis(length):
    """An input pixel sees itself."""
    return Axis(size=1, jump=1, first=0, length=length)


def conv_axis(axis, kernel, stride=1, dilation=1, padding=(0, 0)):
    """The field after a convolution or pooling window, along one axis.

    ``padding`` is (before, after) in the layer's input units; negative values crop.
    """
    extent = dilation * (kernel - 1) + 1  # the window's width, holes of a dilated kernel included
    before, after = padding
    return Axis(size=axis.size + (extent - 1) * axis.jump,
                jump=axis.jump * stride,
                first=axis.first - before * axis.jump,
                length=(axis.length + before + after - extent) // stride + 1)


def chain_field(layers):
    """(size, jump) in input pixels after a chain of ``(kernel, stride)`` windows.

    Padding and dilation are left out: padding moves where a field starts, not its size.
    """
    axis = input_axis(1)
    for kernel, stride in layers:
        axis = conv_axis(axis, kernel, stride)
    return axis.size, axis.jump


def same_padding(length, kernel, stride=1, dilation=1):
    """(before, after): the zeros that padding='same' adds, as TensorFlow does it.

    The output has ceil(length / stride) units; when the padding needed for that is odd,
    the extra zero goes *after* the input. So a stride-2 layer on an even size pads
    (0, 1) for a 3-wide kernel: the first window is centred on pixel 1, not pixel 0.
    """
    extent = dilation * (kernel - 1) + 1
    outputs = -(-length // stride)
    total = max((outputs - 1) * stride + extent - length, 0)
    return total // 2, total - total // 2


@dataclass(frozen=True)
class LayerField:
    """One row of :func:`walk`: a layer's output and the receptive field of its units."""
    name: str
    layer: str   # the layer's class, e.g. 'DepthwiseConv2D'
    rows: Axis
    cols: Axis

    @property
    def size(self):
        """The field's side in pixels (one number for a square field, else (rows, cols))."""
        return _one_or_two(self.rows.size, self.cols.size)

    @property
    def jump(self):
        return _one_or_two(self.rows.jump, self.cols.jump)

    @property
    def offset(self):
        return _one_or_two(self.rows.offset, self.cols.offset)

    @property
    def grid(self):
        """The layer's output units: (height, width)."""
        return self.rows.length, self.cols.length

    def box(self, unit, image_shape=None):
        """((top, bottom), (left, right)) pixels of ``unit``'s field, inclusive.

        With ``image_shape`` (height, width) the box is clipped to the image; without, it
        reaches into the padding.
        """
        spans = [axis.span(u) for axis, u in zip((self.rows, self.cols), unit)]
        if image_shape is None:
            return tuple(spans)
        return tuple((max(lo, 0), min(hi, n - 1)) for (lo, hi), n in zip(spans, image_shape))

    def on_image(self, unit, image_shape):
        """The share of ``unit``'s field (its area) that lies on the image, not in the padding."""
        (top, bottom), (left, right) = self.box(unit, image_shape)
        area = max(bottom - top + 1, 0) * max(right - left + 1, 0)
        return area / (self.rows.size * self.cols.size)

    def centre_unit(self):
        return self.rows.length // 2, self.cols.length // 2


def _one_or_two(a, b):
    return a if a == b else (a, b)


# Layers that work on each position on its own: the field goes through unchanged.
def _pointwise_layers():
    import keras

    L = keras.layers
    return (L.BatchNormalization, L.LayerNormalization, L.UnitNormalization,
            L.Activation, L.ReLU, L.LeakyReLU, L.PReLU, L.ELU, L.Softmax, L.Rescaling, L.Normalization,
            L.Dropout, L.SpatialDropout2D, L.GaussianNoise, L.GaussianDropout, L.AlphaDropout,
            L.ActivityRegularization, L.Identity, L.Dense)


# Layers that combine tensors position by position: a unit sees what any of its inputs saw.
def _merge_layers():
    import keras

    L = keras.layers
    return L.Add, L.Subtract, L.Multiply, L.Average, L.Maximum, L.Minimum, L.Concatenate


def walk(model):
    """The receptive field of every layer of a Keras functional (or Sequential) model.

    Follows the graph from the inputs through each layer's inbound tensors, so branches and
    residual adds are handled; a model used as a layer is walked inside, its layers' names
    prefixed with its own ('mobilenetv2/block_1_add'). Returns :class:`LayerField` rows, each
    layer after its inputs; fields are measured in input pixels.
    """
    inputs = {id(tensor): _input_fields(tensor) for tensor in model.inputs}
    rows, _ = _walk_graph(model, inputs, prefix="")
    return rows


def field_of(model_or_rows, name):
    """The :class:`LayerField` of the layer called ``name`` (a model, or the rows of :func:`walk`)."""
    rows = model_or_rows if isinstance(model_or_rows, list) else walk(model_or_rows)
    matches = [row for row in rows if row.name == name or row.name.rsplit("/", 1)[-1] == name]
    if not matches:
        raise KeyError(f"no layer named {name!r} in the model")
    return matches[-1]


def _input_fields(tensor):
    height, width = tensor.shape[1:3]
    if height is None or width is None:
        raise ValueError("give the model a fixed input size (e.g. input_shape=(224, 224, 3)): the padding "
                         "that 'same' adds, and so where each field starts, depends on it")
    return input_axis(height), input_axis(width)


def _walk_graph(model, fields, prefix):
    """Rows of the layers between ``model``'s inputs (fields given) and its outputs."""
    rows = []
    for tensor in model.inputs:
        rows.append(LayerField(prefix + keras_graph.producer(tensor).name, "InputLayer", *fields[id(tensor)]))
    for node in _nodes_in_order(model.outputs):
        if node.is_input:
            continue
        layer = node.operation
        in_fields = [fields[id(tensor)] for tensor in node.input_tensors]
        if _is_model(layer):  # a nested model: walk its own graph, from this call's inputs
            inner = {id(t): f for t, f in zip(layer.inputs, in_fields)}
            inner_rows, out_fields = _walk_graph(layer, inner, prefix=f"{prefix}{layer.name}/")
            rows += inner_rows[len(layer.inputs):]  # its input rows would repeat this call's inputs
        else:
            field = _layer_field(layer, in_fields, node.outputs[0])
            rows.append(LayerField(prefix + layer.name, type(layer).__name__, *field))
            out_fields = [field] * len(node.outputs)
        fields.update((id(tensor), f) for tensor, f in zip(node.outputs, out_fields))
    return rows, [fields[id(tensor)] for tensor in model.outputs]


def _is_model(layer):
    import keras

    return isinstance(layer, keras.Model)


def _nodes_in_order(outputs):
    """Every layer call that ``outputs`` depend on, each after the calls that feed it.

    An explicit stack rather than recursion: a deep network would exceed Python's limit.
    """
    order, done = [], set()
    stack = [keras_graph.node_of(tensor) for tensor in outputs]
    while stack:
        node = stack[-1]
        if id(node) in done:
            stack.pop()
            continue
        waiting = [parent for parent in map(keras_graph.node_of, node.input_tensors) if id(parent) not in done]
        if waiting:
            stack += waiting
        else:
            stack.pop()
            done.add(id(node))
            order.append(node)
    return order


def _layer_field(layer, in_fields, output):
    """(rows, cols) of ``layer``'s output, from its inputs' fields; checked against Keras' shape."""
    import keras

    L = keras.layers
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise ValueError(f"{layer.name}: only channels_last layers are supported")
    if isinstance(layer, _merge_layers()):
        if isinstance(layer, L.Concatenate) and layer.axis not in (-1, len(output.shape) - 1):
            raise ValueError(f"{layer.name} concatenates along a spatial axis: its units have no single field")
        field = tuple(merge_axes([f[axis] for f in in_fields]) for axis in (0, 1))
    elif len(in_fields) != 1:
        raise ValueError(f"{layer.name} ({type(layer).__name__}) has {len(in_fields)} inputs; "
                         "only merge layers (Add, Concatenate, ...) are expected to")
    elif isinstance(layer, _pointwise_layers()):
        field = in_fields[0]
    else:
        field = tuple(conv_axis(axis, **window)
                      for axis, window in zip(in_fields[0], _windows(layer, in_fields[0])))
    if len(output.shape) == 4 and tuple(output.shape[1:3]) != (field[0].length, field[1].length):
        raise AssertionError(f"{layer.name}: computed {field[0].length}x{field[1].length} units, "
                             f"Keras says {tuple(output.shape[1:3])}: its padding was misread")
    return field


def _windows(layer, fields):
    """The (kernel, stride, dilation, padding) of ``layer`` along rows and columns."""
    import keras

    L = keras.layers
    lengths = [axis.length for axis in fields]
    if isinstance(layer, (L.Conv2D, L.DepthwiseConv2D, L.SeparableConv2D)):
        return _sliding(layer.kernel_size, layer.strides, layer.dilation_rate, layer.padding, lengths)
    if isinstance(layer, (L.MaxPooling2D, L.AveragePooling2D)):
        return _sliding(layer.pool_size, layer.strides, (1, 1), layer.padding, lengths)
    if isinstance(layer, L.ZeroPadding2D):
        # A 1x1 window over the padded input. The added units are constant zeros: their
        # "field" is only where they sit; what counts is the next layer's window over them.
        return [{"kernel": 1, "padding": tuple(pad)} for pad in layer.padding]
    if isinstance(layer, L.Cropping2D):  # cropping is negative padding
        return [{"kernel": 1, "padding": (-crop[0], -crop[1])} for crop in layer.cropping]
    if isinstance(layer, (L.GlobalAveragePooling2D, L.GlobalMaxPooling2D, L.Flatten)):
        # One window over everything: each output sees the whole input.
        return [{"kernel": n, "stride": n} for n in lengths]
    raise TypeError(f"{layer.name}: no receptive-field rule for {type(layer).__name__} layers "
                    "(add one to lessons/receptive_field.py)")


def _sliding(kernels, strides, dilations, padding, lengths):
    windows = []
    for kernel, stride, dilation, length in zip(kernels, strides, dilations, lengths):
        if padding == "same":
            pad = same_padding(length, kernel, stride, dilation)
        elif padding == "valid":
            pad = (0, 0)
        else:
            raise ValueError(f"padding={padding!r} is not supported")
        windows.append({"kernel": kernel, "stride": stride, "dilation": dilation, "padding": pad})
    return windows


def merge_axes(axes):
    """The field of a merge (Add, Concatenate): the union of its inputs' fields.

    All inputs must step through the image with the same jump, or the union would differ
    from one unit to the next; their fields may start at different pixels (a 1x1 shortcut
    beside a 3x3 branch), and the union covers both.
    """
    if len({(axis.jump, axis.length) for axis in axes}) != 1:
        raise ValueError(f"cannot merge fields with different jumps or lengths: {axes}")
    first = min(axis.first for axis in axes)
    last = max(axis.first + axis.size - 1 for axis in axes)
    return Axis(size=last - first + 1, jump=axes[0].jump, first=first, length=axes[0].length)


# ---- MobileNetV2, block by block -------------------------------------------------------

def block_ends(rows):
    """The last layer of each part of MobileNetV2 (stem, blocks 0-16, top) from :func:`walk`."""
    from lessons.mobilenetv2 import block_of

    ends = {}
    for row in rows:
        ends[block_of(row.name.rsplit("/", 1)[-1])] = row
    return list(ends.values())


def format_table(rows):
    """Rows of :func:`walk` as aligned text: units, field size, jump and offset."""
    return text_table([{"layer": row.name.rsplit("/", 1)[-1], "class": row.layer, "units": "x".join(map(str, row.grid)),
                        "field px": row.size, "jump px": row.jump, "offset px": row.offset} for row in rows],
                      {"field px": _text, "jump px": _text, "offset px": _text})


def _text(value):
    return "x".join(f"{v:g}" for v in value) if isinstance(value, tuple) else f"{value:g}"


# ---- brute force: the gradient of one unit ----------------------------------------------

def input_gradient(model, images, unit):
    """|d(unit's channels summed) / d(input)| summed over colour channels: (n, height, width).

    ``model`` maps images to a feature map (n, h, w, c); ``unit`` is (row, col) in it. The
    images are independent (inference mode), so one pass gives every image's own gradient.
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(np.asarray(images, dtype=np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        target = tf.reduce_sum(model(x, training=False)[:, unit[0], unit[1], :])
    return np.abs(tape.gradient(target, x).numpy()).sum(axis=-1)


def support_box(gradient):
    """((top, bottom), (left, right)) of the pixels where ``gradient`` (h, w) is not zero."""
    rows, cols = np.nonzero(gradient)
    if rows.size == 0:
        raise ValueError("the gradient is zero everywhere")
    return (int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max()))


def set_positive_weights(model):
    """Weights under which no gradient cancels or is clipped (in place; returns ``model``).

    Every kernel becomes an average (positive, its weights summing to 1 per output), every
    bias zero and every BatchNormalization the identity. On inputs in (0, 1e-3) every ReLU
    (and ReLU6) then works in its linear part, so each unit's gradient is positive exactly
    on the input pixels it can see: the measured support *is* the theoretical field.
    """
    import keras

    for layer in model.layers:
        if _is_model(layer):
            set_positive_weights(layer)
        elif isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([np.full(w.shape, value, w.dtype) for w, value in
                               zip(layer.get_weights(), _bn_identity(layer))])
        elif layer.weights:
            layer.set_weights([_average(layer, variable) for variable in layer.weights])
    return model


def _bn_identity(layer):
    """gamma, beta, moving mean, moving variance (whichever the layer has) of y = x."""
    values = ([1.0] if layer.scale else []) + ([0.0] if layer.center else [])
    return values + [0.0, 1.0 - layer.epsilon]


def _average(layer, variable):
    import keras

    shape = tuple(variable.shape)
    if len(shape) == 1:  # a bias
        return np.zeros(shape, "float32")
    # A depthwise kernel (k, k, channels, multiplier) sums over its window only.
    fan_in = np.prod(shape[:2] if isinstance(layer, keras.layers.DepthwiseConv2D) else shape[:-1])
    return np.full(shape, 1.0 / fan_in, "float32")


# ---- the effective receptive field ------------------------------------------------------

def effective_field(model, photos, unit=None):
    """The mean |gradient| of one unit (default: the centre one) over ``photos``, summing to 1.

    ``model`` is a MobileNetV2 base (or a part of it) taking inputs in [-1, 1]; ``photos``
    are uint8 pixels (n, h, w, 3), scaled here as the classifier's Rescaling layer does.
    Returns the (h, w) map and the unit used.
    """
    photos = np.asarray(photos, dtype=np.float32)
    if unit is None:
        height, width = model.output.shape[1:3]
        unit = (height // 2, width // 2)
    gradient = input_gradient(model, photos / 127.5 - 1, unit).mean(axis=0)
    total = gradient.sum()
    if total == 0:
        raise ValueError(f"the gradient of unit {unit} is zero on every photo (a dead unit)")
    return gradient / total, unit


def mass_square(heatmap, centre, fraction=MASS_FRACTION):
    """The side (pixels) of the smallest square centred on ``centre`` holding ``fraction`` of the map.

    ``centre`` is (row, col) in pixels, e.g. the centre of the unit's theoretical field.
    """
    rows, cols = np.indices(heatmap.shape)
    distance = np.maximum(np.abs(rows - centre[0]), np.abs(cols - centre[1])).ravel()
    order = np.argsort(distance, kind="stable")
    cumulative = np.cumsum(heatmap.ravel()[order]) / heatmap.sum()
    reach = distance[order][np.searchsorted(cumulative, fraction)]
    return float(2 * reach + 1)


def mass_inside(heatmap, centre, side):
    """The share of the map inside the side x side square centred on ``centre`` (row, col)."""
    rows, cols = np.indices(heatmap.shape)
    inside = np.maximum(np.abs(rows - centre[0]), np.abs(cols - centre[1])) <= (side - 1) / 2
    return float(heatmap[inside].sum() / heatmap.sum())


def effective_sizes(model, photos, layers):
    """Per layer of ``model``: the theoretical field and the effective one (centre unit, ``photos``).

    Rows of (layer, theoretical size, side of the square holding :data:`MASS_FRACTION` of
    the mean |gradient|), in pixels.
    """
    import keras

    rows = walk(model)
    sizes = []
    for layer in layers:
        field = field_of(rows, layer)
        heatmap, unit = effective_field(keras.Model(model.input, model.get_layer(layer).output), photos)
        centre = field.rows.centre(unit[0]), field.cols.centre(unit[1])
        sizes.append((layer, field.size, mass_square(heatmap, centre)))
    return sizes


# ---- one unit of the course's MobileNetV2 on a photo ------------------------------------

class FieldBackbone(NamedTuple):
    """The MobileNetV2 base whose fields the widget and the app show."""

    base: object  # keras.applications.MobileNetV2 without its top, at IMAGE_SIZE
    weights: str  # which weights, in words (lessons.mobilenetv2.describe_weights)
    rows: list  # its walk(): every layer's field


@functools.lru_cache(maxsize=1)
def field_backbone():
    """The :class:`FieldBackbone`, built once and kept, as is each layer's :func:`part_model`: one
    photo's field then takes a fraction of a second on a CPU."""
    from lessons.mobilenetv2 import build_backbone, describe_weights

    base = build_backbone(IMAGE_SIZE)
    return FieldBackbone(base, describe_weights(), walk(base))


@functools.lru_cache(maxsize=None)
def part_model(layer):
    """:func:`field_backbone` from its input up to ``layer``."""
    import keras

    base = field_backbone().base
    return keras.Model(base.input, base.get_layer(layer).output, name=f"up_to_{layer}")


def layer_choices():
    """(label, layer name) of the last layer of each part of :func:`field_backbone`: stem, blocks 0-16, top."""
    return [(f"{_part(row.name)}: {row.name} ({row.grid[0]}×{row.grid[1]} units, field {row.size} px)",
             row.name) for row in block_ends(field_backbone().rows)]


def _part(layer):
    from lessons.mobilenetv2 import block_of

    part = block_of(layer)
    return f"block {part}" if isinstance(part, int) else part


def unit_at(field, position):
    """The unit at a relative ``position`` (row, col), each 0 (top/left) .. 1 (bottom/right)."""
    return tuple(int(p * (n - 1) + 0.5) for p, n in zip(position, field.grid))


def field_data(photo, layer=DEFAULT_LAYER, unit=None):
    """One unit of :func:`field_backbone` on ``photo`` (a path, upload bytes, PIL image or array):
    its theoretical field, its effective field (``heatmap``) and the side of the square
    holding :data:`MASS_FRACTION` of it.

    ``unit`` is (row, col) in the layer's grid; default: its centre unit.
    """
    from lessons import images

    pixels = images.load_pixels(photo, IMAGE_SIZE)
    _, weights, rows = field_backbone()
    field = field_of(rows, layer)
    unit = field.centre_unit() if unit is None else tuple(unit)
    if not all(0 <= u < n for u, n in zip(unit, field.grid)):
        raise ValueError(f"unit {unit} is outside {layer}'s {field.grid[0]}×{field.grid[1]} grid")
    heatmap, _ = effective_field(part_model(layer), pixels[None], unit)
    centre = (field.rows.centre(unit[0]), field.cols.centre(unit[1]))
    return {"pixels": pixels, "heatmap": heatmap, "layer": layer, "unit": unit, "field": field,
            "centre": centre, "box": field.box(unit, pixels.shape[:2]), "full_box": field.box(unit),
            "effective_side": mass_square(heatmap, centre), "weights": weights}


# ---- objects smaller than the field ------------------------------------------------------

def on_canvas(pixels, side, corner=None):
    """The photo shrunk to ``side`` x ``side`` px on a grey canvas of the photo's own size.

    ``corner`` is the (row, col) of its top-left pixel; by default it is centred. The grey is
    the letterbox grey the course pads photos with, so the canvas adds nothing the
    classifier has not seen at the edges of letterboxed photos.
    """
    from PIL import Image

    from lessons.images import LETTERBOX_FILL

    height, width = pixels.shape[:2]
    if not 0 < side <= min(height, width):
        raise ValueError(f"side {side} does not fit a {height}x{width} photo")
    top, left = corner if corner is not None else ((height - side) // 2, (width - side) // 2)
    canvas = Image.new("RGB", (width, height), (LETTERBOX_FILL,) * 3)
    canvas.paste(Image.fromarray(pixels).resize((side, side), Image.Resampling.BILINEAR), (left, top))
    return np.asarray(canvas)


def accuracy_by_side(predict, photos, labels, sides):
    """[(side, share of photos classified right)] with each photo shrunk to ``side`` px.

    ``predict`` maps a batch of uint8 pixels (n, h, w, 3) to class scores (n, classes);
    ``labels`` are the photos' class indices. The canvas keeps the input size, so only the
    object's size changes, not the network's fields or grid.
    """
    labels = np.asarray(labels)
    return [(side, float(np.mean(np.argmax(predict(np.stack([on_canvas(p, side) for p in photos])), axis=1)
                                 == labels)))
            for side in sides]
