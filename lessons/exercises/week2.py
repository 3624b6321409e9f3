"""Checks for week 2's exercises: the inverted residual block and the ReLU spiral."""
import functools

import numpy as np

from lessons import blocks, manifold
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


@functools.cache
def _real_blocks():
    """(stride, in channels, out channels, has an Add layer) for every block of the real model."""
    import keras

    base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights=None)
    names = {layer.name for layer in base.layers}
    return [(spec.s, spec.input_shape[-1], spec.c, blocks.prefix(k) + "add" in names)
            for k, spec in ((k, blocks.read_block(base, k)) for k in blocks.block_numbers(base))]


def check_has_residual(has_residual):
    """``has_residual(stride, in_channels, out_channels)`` -> True when the block adds its input."""
    cases = _real_blocks()
    for k, (stride, cin, cout, truth) in enumerate(cases):
        result, error = call(has_residual, stride, cin, cout)
        if error:
            return failed(f"has_residual({stride}, {cin}, {cout}) {error}.")
        if bool(result) != truth:
            why = ("the input and the output have the same shape, so they can be added" if truth else
                   "the input and the output have different shapes (stride or channels), so they cannot be added")
            return failed(f"block {k} of the real model (stride {stride}, {cin} -> {cout} channels) "
                          f"{'has' if truth else 'has no'} residual add, you said {bool(result)}: {why}.")
    adds = sum(case[-1] for case in cases)
    return passed(f"right for all {len(cases)} blocks of the real model ({adds} of them add their input).")


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
