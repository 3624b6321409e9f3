"""Checks for week 3: receptive fields.

Public API: :func:`stack_field`, :func:`stack_field_with_j_out`, :func:`check_stack_field`,
:func:`field_span`, :func:`check_field_span`.
"""
from lessons import receptive_field as rf
from lessons.exercises import call, failed, hint_for, passed, same

# Stacks of (kernel, stride): a single conv, VGG-like stacks, MobileNetV2's stem and first
# stride-2 blocks, and a stack whose stride comes first (where using the wrong jump shows).
STACKS = [
    [(3, 1)],
    [(3, 1), (3, 1), (3, 1)],
    [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)],
    [(3, 2), (3, 1), (3, 2), (3, 1)],
    [(7, 2), (3, 2), (3, 1), (1, 1)],
    [],
]

# (first, size, jump, unit, image size) of real MobileNetV2 layers at 224 px: Conv1, the
# 299-px block_13 (a unit near each edge) and out_relu (its field is wider than the image).
SPANS = [(0, 3, 2, 5, 224), (-118, 299, 32, 0, 224), (-118, 299, 32, 6, 224), (-214, 491, 32, 3, 224),
         (48, 11, 4, 2, 96), (0, 7, 2, 0, 224)]


def stack_field(layers):
    """The course's answer: (size, jump) after a stack of (kernel, stride) layers."""
    return rf.chain_field(layers)


def stack_field_with_j_out(layers):
    """A common mistake: adding (k - 1) * j with j taken AFTER the layer's stride.

    It overstates every field after the first stride; the notebook shows that it turns
    four (3x3 conv, 2x2 pool) stages, 46 px, into the lecture notes' "61x61".
    """
    size, jump = 1, 1
    for kernel, stride in layers:
        jump *= stride
        size += (kernel - 1) * jump
    return size, jump


def check_stack_field(stack_field_fn):
    """``stack_field(layers)``: (receptive field size, jump) in input pixels after a stack of
    (kernel, stride) conv layers, applied in order to the input."""
    for layers in STACKS:
        answer, error = call(stack_field_fn, layers)
        if error:
            return failed(f"stack_field {error}.")
        right = stack_field(layers)
        if same(tuple(answer) if isinstance(answer, (list, tuple)) else answer, right):
            continue
        where = f"For the stack {layers} you return {answer!r}, not (size, jump) = {right}"
        if not isinstance(answer, (list, tuple)) or len(answer) != 2:
            return failed(f"{where}: return a pair, (size, jump).")
        size, jump = answer
        if not layers:
            hint = "with no layer at all, one input pixel sees itself: start from size 1, jump 1"
        elif same(size, right[0]):
            hint = "the size is right, the jump is not: each layer multiplies the jump by its stride"
        elif same(size, 1 + sum(k - 1 for k, _ in layers)):
            hint = ("you add k - 1 for every layer, but after a stride the kernel's taps are j input pixels "
                    "apart: add (k - 1) * j_in")
        elif same(size, stack_field_with_j_out(layers)[0]):
            hint = "use the jump from BEFORE the layer (j_in) when adding (k - 1) * j_in, then update the jump"
        elif same(size, sum(k for k, _ in layers)):
            hint = "a stack of k-wide layers grows the field by k - 1 each, starting from 1 pixel"
        else:
            hint = "start from size 1, jump 1; for each layer: size += (k - 1) * jump, then jump *= stride"
        return failed(f"{where}: {hint}.")
    layers = STACKS[2]
    return passed(f"stack_field is right: e.g. {layers} sees {stack_field(layers)[0]} pixels, "
                  f"its units {stack_field(layers)[1]} pixels apart.")


def field_span(first, size, jump, unit, image_size):
    """The course's answer: the input pixels (lo, hi) of ``unit``'s field, clipped to the image."""
    lo, hi = rf.Axis(size=size, jump=jump, first=first, length=unit + 1).span(unit)
    return max(lo, 0), min(hi, image_size - 1)


def check_field_span(field_span_fn):
    """``field_span(first, size, jump, unit, image_size)``: the first and last input pixel
    (inclusive) that unit number ``unit`` of a layer sees, clipped to the image's pixels
    0 .. image_size - 1."""
    for first, size, jump, unit, image_size in SPANS:
        args = (first, size, jump, unit, image_size)
        answer, error = call(field_span_fn, *args)
        if error:
            return failed(f"field_span {error}.")
        right = field_span(*args)
        if same(tuple(answer) if isinstance(answer, (list, tuple)) else answer, right):
            continue
        where = f"field_span{args} returns {answer!r}, not {right}"
        lo, hi = first + unit * jump, first + unit * jump + size - 1
        hints = {
            (lo, hi): "clip to the image: pixels below 0 or above image_size - 1 are padding",
            (max(lo, 0), min(hi + 1, image_size - 1)):
                "the span is inclusive: size pixels run from lo to lo + size - 1",
            (max(first, 0), min(first + size - 1, image_size - 1)):
                "that is unit 0's field: unit u starts u * jump pixels further, at first + u * jump",
            (max(first + unit, 0), min(first + unit + size - 1, image_size - 1)):
                "units are jump input pixels apart, not 1: unit u starts at first + u * jump",
        }
        hint = hint_for(hints, answer,
                         "unit u's field starts at first + u * jump and is size pixels wide; then clip to the image")
        return failed(f"{where}: {hint}.")
    return passed(f"field_span is right: e.g. the centre unit of MobileNetV2's last layer sees pixels "
                  f"{field_span(*SPANS[3])} of a 224-px image.")
