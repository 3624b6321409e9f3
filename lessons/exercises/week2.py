"""Checks for week 2's exercises: the residual rule, the inverted residual block written from
Keras layers, the shapes through a block, the spiral's reconstruction error, and the choice of
an expansion rate for a memory budget.

Public API: :data:`SHAPE_CASES`, :func:`check_shapes_through_block`, :data:`BLOCK_CASES`,
:func:`residual_cases`, :func:`check_has_residual`, :func:`check_inverted_residual`,
:func:`check_reconstruction_error`, :data:`DECISION_BLOCK`, :data:`EXPANSIONS`, :data:`BUDGETS`,
:data:`WAYS`, :func:`decision_costs`, :func:`defensible`, :func:`check_expansion_choice`.
"""
import functools

import numpy as np

from lessons import block_memory, blocks, manifold, real_blocks
from lessons.exercises import call, failed, passed

# (height, width, channels, t, c, s): real blocks of MobileNetV2 at 224 px, plus an odd size.
SHAPE_CASES = [
    (112, 112, 32, 1, 16, 1),  # block 0: no expansion
    (112, 112, 16, 6, 24, 2),  # block 1: stride 2
    (56, 56, 24, 6, 24, 1),  # block 2: residual
    (14, 14, 96, 6, 160, 2),  # block 13
    (15, 15, 32, 6, 64, 2),  # an odd size: the stride-2 conv rounds up
]


def _as_shapes(result):
    return [tuple(int(v) for v in shape) for shape in result]


def check_shapes_through_block(shapes_through_block):
    """``shapes_through_block(height, width, channels, t, c, s)`` -> [expanded, after depthwise, output]."""
    for case in SHAPE_CASES:
        result, error = call(shapes_through_block, *case)
        if error:
            return failed(f"shapes_through_block{case} {error}.")
        try:
            got = _as_shapes(result)
        except (TypeError, ValueError):
            return failed(f"shapes_through_block{case} returned {result!r}: return a list of three "
                          "(height, width, channels) tuples.")
        expected = blocks.shapes_through_block(*case)
        if len(got) != 3:
            return failed(f"shapes_through_block{case} returned {len(got)} shapes; it should return three: "
                          "expanded, after the depthwise conv, output.")
        for stage, hint, mine, right in zip(
                ["expanded", "after the depthwise conv", "output"],
                ["the 1×1 expansion multiplies the channels by t (and t = 1 means no expansion layer)",
                 "a stride-s 3×3 depthwise conv divides height and width by s, rounding up; channels stay",
                 "the linear projection sets the channels to c; height and width stay"], got, expected):
            if mine != right:
                return failed(f"shapes_through_block{case}: {stage} shape is {right}, you gave {mine}. Hint: {hint}.")
    return passed(f"the shapes through all {len(SHAPE_CASES)} blocks are right.")


# The real model the block checks use: small, and at this size blocks 6 and 13 receive an odd
# height and width (13 and 7), so both of the paddings Keras uses before a stride-2 conv occur.
CHECK_SIZE = 104
# Real blocks the written block is compared with: t = 1 (no expansion), a residual add, stride 2 on
# an even and on an odd size, and a stride-1 block whose channels change (no add).
BLOCK_CASES = (0, 2, 3, 6, 10)
# A block no real MobileNetV2 has: stride 2 with as many output channels as input channels.
STRIDE2_SAME_CHANNELS = {"input_shape": (14, 14, 24), "t": 6, "c": 24, "s": 2}


@functools.cache
def _real_model():
    """The real MobileNetV2 base at CHECK_SIZE px (the course's ImageNet weights) and what reaches
    each of BLOCK_CASES when two sample photos go through it."""
    from lessons import mobilenetv2

    base = mobilenetv2.build_backbone(CHECK_SIZE)
    photos = real_blocks.sample_batch(CHECK_SIZE, 2)
    return base, {k: np.asarray(real_blocks.block_input(base, k, photos)) for k in BLOCK_CASES}


@functools.cache
def _keras_builder_block(input_shape, t, c, s):
    """A block made by Keras's own MobileNetV2 block builder (random weights): the source of truth
    for a block the real model does not have."""
    import keras
    from keras.src.applications.mobilenet_v2 import _inverted_res_block  # private, but Keras's real code

    inputs = keras.Input(input_shape)
    outputs = _inverted_res_block(inputs, expansion=t, stride=s, alpha=1.0, filters=c, block_id=1)
    return real_blocks.randomise(keras.Model(inputs, outputs, name="keras_builder_block"))


def _adds(block):
    import keras

    return any(isinstance(layer, keras.layers.Add) for layer in block.layers)


def residual_cases():
    """(what, stride, in channels, out channels, adds its input?) for every block of the real model,
    then a stride-2 block that keeps its channels, as Keras's own builder makes it."""
    base, _ = _real_model()
    names = {layer.name for layer in base.layers}
    cases = [(f"block {k} of the real model", spec.s, spec.input_shape[-1], spec.c, blocks.prefix(k) + "add" in names)
             for k, spec in ((k, real_blocks.read_block(base, k)) for k in real_blocks.block_numbers(base))]
    odd = STRIDE2_SAME_CHANNELS
    made = _keras_builder_block(odd["input_shape"], odd["t"], odd["c"], odd["s"])
    cases.append(("a stride-2 block that keeps its channels (Keras's own block builder)", odd["s"],
                  odd["input_shape"][-1], odd["c"], _adds(made)))
    return cases


def _stride2_explanation():
    odd = STRIDE2_SAME_CHANNELS
    made = _keras_builder_block(odd["input_shape"], odd["t"], odd["c"], odd["s"])
    shape_in, shape_out = ("×".join(map(str, shape[1:])) for shape in (made.input.shape, made.output.shape))
    return (f"the stride halves height and width, so the output ({shape_out}) has not the input's shape "
            f"({shape_in}) and cannot be added to it. No block of the real MobileNetV2 is like this (each of its "
            "stride-2 blocks also changes its channels), which is why a rule that ignores the stride, such as "
            "in_channels == out_channels, fits all of the real blocks and is still wrong")


def check_has_residual(has_residual):
    """``has_residual(stride, in_channels, out_channels)`` -> True when the block adds its input."""
    cases = residual_cases()
    for what, stride, cin, cout, truth in cases:
        result, error = call(has_residual, stride, cin, cout)
        if error:
            return failed(f"has_residual({stride}, {cin}, {cout}) {error}.")
        if bool(result) != truth:
            if stride == 2 and cin == cout:
                why = _stride2_explanation()
            elif truth:
                why = "the input and the output have the same shape, so they can be added"
            elif stride == 1:
                why = "the channels change, so the output has not the input's shape: a stride of 1 is not enough"
            else:
                why = "stride 2 halves height and width (and the channels change too), so the shapes differ"
            return failed(f"{what} (stride {stride}, {cin} -> {cout} channels) {'adds' if truth else 'does not add'} "
                          f"its input, you said {bool(result)}: {why}.")
    adds = sum(case[-1] for case in cases)
    return passed(f"right for all {len(cases)} blocks: the {len(cases) - 1} of the real model ({adds} of them add "
                  "their input) and a stride-2 block that keeps its channels (no add).")


# ---------------------------------------------------------------------------------------
# The inverted residual block, written by the student

def _run(layers, x, edits=None):
    """Run a block's layers one after another on ``x``, as the real model does, with ``edits``
    ({layer name ending: function(layer, tensor, x) -> tensor}) standing in for some of them."""
    import keras

    y = x
    for layer in layers:
        edit = next((function for end, function in (edits or {}).items() if layer.name.endswith(end)), None)
        if edit is not None:
            y = edit(layer, y, x)
        elif isinstance(layer, keras.layers.Add):
            y = layer([x, y])
        else:
            y = layer(y)
    return np.asarray(y)


def _relu(y, cap=None):
    return np.clip(np.asarray(y), 0, cap)


def _skip(layer, y, x):
    return y


def _pad_every_side(layer, y, x):
    import keras

    return keras.layers.ZeroPadding2D(1)(y)


LINEAR = "the projection is LINEAR: no activation after it, the linear bottleneck (section 5 shows why)"
# The typical mistakes, each as a change to the real block, with what to tell its author.
MISTAKES = [
    ({"expand_relu": _skip}, "no ReLU6 after the 1×1 expansion and its BatchNorm"),
    ({"depthwise_relu": _skip}, "no ReLU6 after the depthwise conv and its BatchNorm"),
    ({"expand_relu": lambda layer, y, x: _relu(y), "depthwise_relu": lambda layer, y, x: _relu(y)},
     "a plain ReLU where the block has ReLU6: cap the activations at 6 (keras.layers.ReLU(6.0))"),
    ({"expand_relu": lambda layer, y, x: _relu(y)}, "a plain ReLU after the expansion: cap it at 6 (ReLU6)"),
    ({"depthwise_relu": lambda layer, y, x: _relu(y)}, "a plain ReLU after the depthwise conv: cap it at 6 (ReLU6)"),
    ({"project_BN": lambda layer, y, x: _relu(layer(y), 6)}, f"a ReLU6 after the projection: {LINEAR}"),
    ({"project_BN": lambda layer, y, x: _relu(layer(y))}, f"a ReLU after the projection: {LINEAR}"),
    ({"add": lambda layer, y, x: _relu(layer([x, y]), 6)},
     f"a ReLU6 after the residual add (a ResNet's habit): {LINEAR}, and so is the sum"),
    ({"add": lambda layer, y, x: _relu(layer([x, y]))},
     f"a ReLU after the residual add (a ResNet's habit): {LINEAR}, and so is the sum"),
    ({"pad": _pad_every_side},
     "one pixel of zeros on every side before the stride-2 depthwise conv: on an even size Keras pads one pixel "
     "at the bottom and right only (see blocks.stride2_padding), as padding='same' would"),
    ({"add": _skip}, "no residual add: a block with stride 1 and as many output as input channels adds its input "
                     "to its output"),
]


def _kind(layer):
    """What a layer with weights is, in the words of the messages."""
    import keras

    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return "DepthwiseConv2D"
    if isinstance(layer, keras.layers.Conv2D):
        return f"Conv2D {layer.kernel_size[0]}×{layer.kernel_size[1]}"
    return type(layer).__name__


def _layers_problem(ours, real, spec):
    """What is wrong with the layers that hold weights (before any number is compared), or None."""
    import collections

    mine, theirs = real_blocks.weighted_layers(ours), real_blocks.weighted_layers(real)
    got, want = collections.Counter(map(_kind, mine)), collections.Counter(map(_kind, theirs))
    if got != want:
        expansion = want["Conv2D 1×1"] - got["Conv2D 1×1"]
        if spec.t == 1 and expansion == -1:
            return ("your block expands although expansion is 1: with t = 1 there is no expansion layer (block 0), "
                    "so skip the 1×1 expansion conv, its BatchNorm and its ReLU6 and start with the depthwise conv")
        if expansion == 1 and spec.t != 1:
            return f"your block has no 1×1 expansion conv, and expansion is {spec.t}"
        if got["BatchNormalization"] < want["BatchNormalization"]:
            return (f"your block has {got['BatchNormalization']} BatchNormalization layers, the real block "
                    f"{want['BatchNormalization']}: every convolution is followed by one")
        if not got["DepthwiseConv2D"]:
            return ("your block has no DepthwiseConv2D: the 3×3 filter works on each channel on its own "
                    "(keras.layers.DepthwiseConv2D)")
        return (f"your block's layers with weights are {dict(got)}, the real block's {dict(want)}: three "
                "convolutions (two when expansion is 1), each followed by BatchNormalization")
    for layer, real_layer in zip(mine, theirs):
        if _kind(layer) != _kind(real_layer):
            return (f"your block's layers with weights come in another order: {[_kind(l) for l in mine]}, the "
                    f"real block's: {[_kind(l) for l in theirs]}")
        shapes, real_shapes = ([tuple(w.shape) for w in l.weights] for l in (layer, real_layer))
        if shapes == real_shapes:
            continue
        if len(shapes) != len(real_shapes):
            return (f"your {layer.name} has {len(shapes)} weight tensors, the real one {len(real_shapes)}: create "
                    "the convolutions with use_bias=False (the BatchNorm after each one adds its own offset)")
        if not _kind(layer).startswith("Conv2D"):
            return f"your {layer.name} has weights of shapes {shapes}, the real one {real_shapes}"
        cin, channels = shapes[0][-2:]
        real_cin, real_channels = real_shapes[0][-2:]
        if real_channels == spec.t * spec.input_shape[-1] and channels == spec.t * spec.c:
            return (f"your expansion gives {channels} channels, expansion × out_channels; it must give expansion "
                    f"× the INPUT's channels: {spec.t} × {spec.input_shape[-1]} = {real_channels}")
        return (f"your {layer.name} turns {cin} channels into {channels}, the real one {real_cin} into "
                f"{real_channels} (expand: expansion × input channels; project: out_channels)")
    return None


def _shape_problem(got, want, spec):
    if got[:2] != want[:2]:
        return (f"the output is {got[0]}×{got[1]}, the real block's {want[0]}×{want[1]}: the depthwise conv has "
                f"stride {spec.s}" + (" and, before it, ZeroPadding2D(blocks.stride2_padding(h, w)) with "
                                      "padding='valid' (or padding='same')" if spec.s == 2 else " and padding='same'"))
    return f"the output has {got[2]} channels, the real block's {want[2]}: the projection gives out_channels"


def _compare(inverted_residual, what, spec, real_layers, x):
    """None when the block built by the student computes what ``real_layers`` compute on ``x``, else a message."""
    shape = "×".join(map(str, spec.input_shape))
    case = f"inverted_residual(x, {spec.t}, {spec.c}, {spec.s}, ...) on {what} (input {shape})"
    ours, error = call(blocks.build, inverted_residual, spec.input_shape, spec.t, spec.c, spec.s, "ours_")
    if error:
        hint = ""
        if "shape" in error.lower() and not blocks.has_residual(spec.s, spec.input_shape[-1], spec.c):
            hint = (" Hint: it looks like a residual add of tensors of different shapes: a block adds its input "
                    "only when its stride is 1 and its output has as many channels as its input.")
        elif "not written yet" in error:
            hint = " (Or a function it calls is not: your has_residual?)"
        else:
            hint = " Hint: build the layers on x with Keras layers and return the block's output tensor."
        return f"{case} {error}.{hint}"
    problem = _layers_problem(ours, real_layers, spec)
    if problem:
        return f"{case}: {problem}."
    real_blocks.copy_weights(real_layers, ours)
    right = _run(real_layers, x)
    mine = np.asarray(ours(x))
    if mine.shape != right.shape:
        return f"{case}: {_shape_problem(mine.shape[1:], right.shape[1:], spec)}."
    tolerance = 1e-4 * max(1.0, float(np.max(np.abs(right))))
    difference = float(np.max(np.abs(mine - right)))
    if difference <= tolerance:
        return None
    for edits, hint in MISTAKES:
        if not any(layer.name.endswith(end) for layer in real_layers for end in edits):
            continue  # this block has no such layer: that mistake cannot show here
        if float(np.max(np.abs(mine - _run(real_layers, x, edits)))) <= tolerance:
            return (f"{case}: its output differs from the real block's by up to {difference:.3g}, and matches the "
                    f"real block with one mistake: {hint}.")
    return (f"{case}: its output differs from the real block's by up to {difference:.3g}, and no single typical "
            "mistake explains it. Go through the four steps above: expand (1×1, BN, ReLU6) unless expansion is 1; "
            "depthwise 3×3 with the stride (BN, ReLU6); project (1×1, BN, nothing else); add x when stride is 1 and "
            "the channels match.")


def check_inverted_residual(inverted_residual):
    """``inverted_residual(x, expansion, out_channels, stride, name)`` -> the block's output tensor.

    Builds the student's block for real blocks of MobileNetV2, copies the real block's weights
    into it, and compares the outputs on what really reaches that block from sample photos;
    then a stride-2 block that keeps its channels, against Keras's own block builder.
    """
    base, inputs = _real_model()
    for k in BLOCK_CASES:
        problem = _compare(inverted_residual, f"block {k} of the real model", real_blocks.read_block(base, k),
                           real_blocks.block_layers(base, k), inputs[k])
        if problem:
            return failed(problem)
    odd = STRIDE2_SAME_CHANNELS
    made = _keras_builder_block(odd["input_shape"], odd["t"], odd["c"], odd["s"])
    x = np.random.default_rng(1).normal(0, 1, (2, *odd["input_shape"])).astype("float32")
    spec = real_blocks.BlockSpec(k=None, input_shape=odd["input_shape"], t=odd["t"], c=odd["c"], s=odd["s"])
    problem = _compare(inverted_residual, "a stride-2 block that keeps its channels, as Keras's own block builder "
                       "makes it", spec, made.layers[1:], x)
    if problem:
        return failed(problem)
    return passed(f"your block computes what the real blocks {', '.join(map(str, BLOCK_CASES))} of "
                  "keras.applications.MobileNetV2 compute on sample photos (their weights copied into it), and what "
                  "Keras's own builder makes of a stride-2 block that keeps its channels.")


def check_reconstruction_error(reconstruction_error):
    """``reconstruction_error(original, recovered)`` -> RMS distance / RMS radius of the original."""
    rng = np.random.default_rng(0)
    x = manifold.spiral(points=50)
    cases = [("the same points", x, x.copy()), ("all points at 0", x, np.zeros_like(x)),
             ("points scaled by 1/2", x, x / 2), ("noisy points", x, x + rng.normal(0, 0.5, x.shape)),
             ("a tiny spiral", x / 100, x / 100 + rng.normal(0, 0.01, x.shape))]
    for label, original, recovered in cases:
        result, error = call(reconstruction_error, original, recovered)
        if error:
            return failed(f"reconstruction_error({label}) {error}.")
        expected = manifold.reconstruction_error(original, recovered)
        try:
            close = abs(float(result) - expected) <= 1e-6 * max(1.0, expected)
        except (TypeError, ValueError):
            return failed(f"reconstruction_error({label}) returned {result!r}: return one number.")
        if not close:
            return failed(f"reconstruction_error({label}) should be {expected:.4f}, you gave {float(result):.4f}. "
                          "Hint: "
                          "the mean over points of the squared distance, square-rooted, divided by the same for "
                          "the original's distance to 0 (identical points give 0, all points at 0 give 1).")
    return passed(f"right on all {len(cases)} cases.")


# ---------------------------------------------------------------------------------------
# A decision: the expansion rate for a memory budget

# Where the decision is made: block 2's place in the network (56×56×24 in, 24 out, stride 1).
DECISION_BLOCK = {"input_shape": (56, 56, 24), "c": 24, "s": 1}
EXPANSIONS = range(2, 11)  # the rates the notebook's table shows
# Bytes of on-chip memory, one byte a value (int8): from roomy to tight.
BUDGETS = (2_000_000, 1_000_000, 600_000)
PAPER_RANGE = range(5, 11)  # "expansion rates between 5 and 10": nearly identical accuracy (section 4)
WAYS = ("layer_by_layer", "streamed")


@functools.cache
def decision_costs():
    """block_memory.expansion_costs for DECISION_BLOCK and EXPANSIONS, with the course's block."""
    place = DECISION_BLOCK
    return tuple(block_memory.expansion_costs(blocks.inverted_residual_block, place["input_shape"], place["c"],
                                              place["s"], EXPANSIONS))


def defensible(costs, budget, way):
    """The rates worth choosing: those that fit and that the paper vouches for (5 to 10); when none
    of those fits, only the largest that does (below 5, every step of t counts)."""
    fits = [row["t"] for row in costs if row[way] <= budget]
    vouched = [t for t in fits if t in PAPER_RANGE]
    return vouched or fits[-1:]


def _span(rates):
    return f"{rates[0]}" if len(rates) == 1 else f"{rates[0]} to {rates[-1]}"


def _why_not(costs, budget, way, t):
    by_t = {row["t"]: row[way] for row in costs}
    said = way.replace("_", " ")
    paper = _span(list(PAPER_RANGE))
    if t not in by_t:
        return f"t = {t!r} is not one of the rates of the table ({_span(sorted(by_t))})"
    if by_t[t] > budget:
        return f"t = {t} needs {by_t[t]:,} bytes {said}, more than the budget of {budget:,}"
    if way == "streamed":
        return (f"streamed, the block needs {by_t[t]:,} bytes whatever t is: memory does not limit t at all, so "
                f"nothing forces you below the paper's {paper}")
    rates = defensible(costs, budget, way)
    if rates[-1] < PAPER_RANGE.start:
        return (f"t = {t} fits, but so does t = {rates[-1]}: below the paper's {paper} every step of t counts, so "
                "take the largest that fits")
    return (f"t = {t} fits, but t = {_span(rates)} {'fits' if len(rates) == 1 else 'fit'} too: the paper vouches "
            f"for {paper} (nearly equal accuracy) "
            "and not for less, so do not go below it when you need not")


def check_expansion_choice(choose_expansion):
    """``choose_expansion(costs, budget_bytes)`` -> (t run layer by layer, t run streamed)."""
    costs = [dict(row) for row in decision_costs()]
    for budget in BUDGETS:
        result, error = call(choose_expansion, costs, budget)
        if error:
            return failed(f"choose_expansion(costs, {budget:,}) {error}.")
        try:
            choices = [int(t) for t in result]
        except (TypeError, ValueError):
            return failed(f"choose_expansion(costs, {budget:,}) returned {result!r}: return two rates, "
                          "(t layer by layer, t streamed).")
        if len(choices) != 2:
            return failed(f"choose_expansion(costs, {budget:,}) returned {len(choices)} rates: return two, "
                          "(t layer by layer, t streamed).")
        for way, t in zip(WAYS, choices):
            if t not in defensible(costs, budget, way):
                return failed(f"with {budget:,} bytes, run {way.replace('_', ' ')}: {_why_not(costs, budget, way, t)}.")
    summary = "; ".join(f"{budget:,} bytes, t = {_span(defensible(costs, budget, 'layer_by_layer'))}"
                        for budget in BUDGETS)
    return passed(f"defensible choices for all {len(BUDGETS)} budgets. Layer by layer: {summary}. Streamed: "
                  f"t = {_span(list(PAPER_RANGE))} for every budget.")
