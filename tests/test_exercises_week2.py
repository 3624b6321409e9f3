"""Week 2's exercise checks: right answers pass, typical wrong answers and stubs are explained."""
import numpy as np
import pytest
from keras import layers

from lessons import blocks, manifold, real_blocks
from lessons.exercises import week2
from tests.exercise_checks import assert_accepted_with, assert_refused_with, stub


# --- has_residual -----------------------------------------------------------------------------

def test_the_course_answer_to_has_residual_passes(capsys):
    assert_accepted_with(capsys, week2.check_has_residual, lambda s, cin, cout: s == 1 and cin == cout, "10 of them")


def test_typical_has_residual_mistakes_are_explained(capsys):
    assert_refused_with(capsys, week2.check_has_residual, lambda s, cin, cout: s == 1, "a stride of 1 is not enough")


def test_the_notes_channel_only_rule_now_fails(capsys):
    """in_channels == out_channels fits every real block: the stride-2 block that keeps its channels tells."""
    cases = week2.residual_cases()
    real = [case for case in cases if case[0].endswith("real model")]
    assert len(real) == 17 and all((cin == cout) == adds for _, _, cin, cout, adds in real)
    assert cases[-1][1:] == (2, 24, 24, False)
    assert week2.check_has_residual(lambda s, cin, cout: cin == cout) is False
    out = capsys.readouterr().out
    assert "stride-2 block that keeps its channels" in out and "halves height and width" in out
    assert "fits all of the real blocks and is still wrong" in out


# --- the inverted residual block --------------------------------------------------------------

def student_block(cap=6.0, expand_relu=True, depthwise_relu=True, after_projection=False, padding="keras",
                  residual="right", expand_by="input", expand_when_one=False, batchnorm=True, bias=False):
    """A student's ``inverted_residual``, right by default, with one typical mistake when asked."""
    def inverted_residual(x, expansion, out_channels, stride, name):
        inputs, channels = x, x.shape[-1]
        if expansion != 1 or expand_when_one:
            x = layers.Conv2D(expansion * (channels if expand_by == "input" else out_channels), 1, use_bias=bias)(x)
            x = layers.BatchNormalization()(x)
            if expand_relu:
                x = layers.ReLU(cap)(x)
        conv_padding = "same"
        if stride == 2 and padding != "same":
            conv_padding = "valid"
            if padding == "keras":
                x = layers.ZeroPadding2D(blocks.stride2_padding(*x.shape[1:3]))(x)
            elif padding == "every side":
                x = layers.ZeroPadding2D(1)(x)
        x = layers.DepthwiseConv2D(3, strides=stride, padding=conv_padding, use_bias=False)(x)
        if batchnorm:
            x = layers.BatchNormalization()(x)
        if depthwise_relu:
            x = layers.ReLU(cap)(x)
        x = layers.BatchNormalization()(layers.Conv2D(out_channels, 1, use_bias=False)(x))
        if after_projection:
            x = layers.ReLU(6.0)(x)
        adds = {"right": stride == 1 and channels == out_channels, "never": False,
                "channels only": channels == out_channels, "stride only": stride == 1}[residual]
        return layers.Add()([inputs, x]) if adds else x
    return inverted_residual


@pytest.mark.parametrize("block", [blocks.inverted_residual_block, student_block(), student_block(padding="same")],
                         ids=["course", "student, unnamed layers", "student, padding same"])
def test_the_course_answer_to_inverted_residual_passes(block, capsys):
    assert_accepted_with(capsys, week2.check_inverted_residual, block, "your block computes what the real blocks")


@pytest.mark.parametrize("mistake, says", [
    (dict(expand_relu=False), "no ReLU6 after the 1×1 expansion"),
    (dict(depthwise_relu=False), "no ReLU6 after the depthwise conv"),
    (dict(cap=None), "a plain ReLU where the block has ReLU6"),
    (dict(after_projection=True), "a ReLU6 after the projection: the projection is LINEAR"),
    (dict(padding="every side"), "one pixel of zeros on every side"),
    (dict(padding="none"), "the output is 12×12, the real block's 13×13"),
    (dict(residual="never"), "no residual add"),
    (dict(residual="channels only"), "stride-2 block that keeps its channels"),
    (dict(residual="stride only"), "incompatible shapes"),
    (dict(expand_by="output"), "expansion × out_channels"),
    (dict(expand_when_one=True), "your block expands although expansion is 1"),
    (dict(batchnorm=False), "BatchNormalization layers, the real block"),
    (dict(bias=True), "use_bias=False"),
], ids=lambda value: next(iter(value)) if isinstance(value, dict) else None)
def test_typical_inverted_residual_mistakes_are_explained(mistake, says, capsys):
    assert_refused_with(capsys, week2.check_inverted_residual, student_block(**mistake), says)


def test_the_wrong_residual_rule_gets_the_rule_as_a_hint(capsys):
    week2.check_inverted_residual(student_block(residual="channels only"))
    assert "only when its stride is 1 and its output has as many channels as its input" in capsys.readouterr().out


def test_an_unwritten_block_may_be_an_unwritten_has_residual(capsys):
    assert_refused_with(capsys, week2.check_inverted_residual, stub, "not written yet (it raises "
                        "NotImplementedError). (Or a function it calls is not: your has_residual?)")


def test_a_block_that_returns_no_tensor_is_explained(capsys):
    assert_refused_with(capsys, week2.check_inverted_residual, lambda x, *args: None,
                        "return the block's output tensor")


def test_the_cases_cover_what_the_check_must_see():
    """The real blocks checked: t = 1, an add, stride 2 on an even and an odd size; values above 6 reach a ReLU6
    (else a plain ReLU would pass)."""
    base, inputs = week2._real_model()
    specs = {k: real_blocks.read_block(base, k) for k in week2.BLOCK_CASES}
    assert any(spec.t == 1 for spec in specs.values()) and any(spec.residual for spec in specs.values())
    assert {spec.input_shape[0] % 2 for spec in specs.values() if spec.s == 2} == {0, 1}
    above_six = [float(np.max(week2._run(real_blocks.block_layers(base, k)[:2], inputs[k]))) > 6 for k in specs]
    assert any(above_six)


# --- shapes, the reconstruction error ----------------------------------------------------------

def right_shapes(height, width, channels, t, c, s):
    after = (-(-height // s), -(-width // s))
    return [(height, width, t * channels), (*after, t * channels), (*after, c)]


def floor_division(height, width, channels, t, c, s):
    return [(height, width, t * channels), (height // s, width // s, t * channels), (height // s, width // s, c)]


def test_the_course_answer_to_shapes_through_block_passes(capsys):
    assert_accepted_with(capsys, week2.check_shapes_through_block, right_shapes, "are right")


@pytest.mark.parametrize("answer, message", [
    (floor_division, "rounding up"),
    (lambda *args: 42, "list of three"),
])
def test_typical_shapes_through_block_mistakes_are_explained(capsys, answer, message):
    assert_refused_with(capsys, week2.check_shapes_through_block, answer, message)


def not_relative(original, recovered):
    return float(np.sqrt(np.mean(np.sum((original - recovered) ** 2, axis=1))))


def test_the_course_answer_to_reconstruction_error_passes(capsys):
    assert_accepted_with(capsys, week2.check_reconstruction_error, manifold.reconstruction_error, "right on all")


@pytest.mark.parametrize("answer, message", [
    (not_relative, "should be"),
    (lambda a, b: "zero", "one number"),
])
def test_typical_reconstruction_error_mistakes_are_explained(capsys, answer, message):
    assert_refused_with(capsys, week2.check_reconstruction_error, answer, message)


# --- the decision: an expansion rate for a memory budget ----------------------------------------

def largest_that_fits(costs, budget, way):
    return max(row["t"] for row in costs if row[way] <= budget)


def test_the_decision_table():
    costs = week2.decision_costs()
    assert [row["t"] for row in costs] == list(week2.EXPANSIONS)
    # The budgets span the cases: every rate fits, the paper's 5-10 partly fits, none of 5-10 fits.
    fits = [largest_that_fits(costs, budget, "layer_by_layer") for budget in week2.BUDGETS]
    assert fits[0] == max(week2.EXPANSIONS) and 5 <= fits[1] < 10 and fits[2] < 5
    assert all(row["streamed"] <= min(week2.BUDGETS) for row in costs)


def paper_if_it_fits(costs, budget):
    return tuple(6 if 6 in [r["t"] for r in costs if r[way] <= budget] else largest_that_fits(costs, budget, way)
                 for way in week2.WAYS)


def largest_then_the_papers_largest(costs, budget):
    return largest_that_fits(costs, budget, "layer_by_layer"), 10


def one_less_when_tight(costs, budget):
    most = largest_that_fits(costs, budget, "layer_by_layer")
    return (6 if most >= 6 else most - 1), 6


@pytest.mark.parametrize("answer, message", [
    (paper_if_it_fits, "t = 5 to 10 for every budget"),
    (largest_then_the_papers_largest, "defensible choices for all"),
])
def test_the_course_answer_to_expansion_choice_passes(capsys, answer, message):
    assert_accepted_with(capsys, week2.check_expansion_choice, answer, message)


@pytest.mark.parametrize("answer, message", [
    (lambda costs, budget: (6, 6), "more than the budget"),
    (lambda costs, budget: (largest_that_fits(costs, budget, "layer_by_layer"), 2), "memory does not limit t at all"),
    (lambda costs, budget: (2, 6), "vouches for 5 to 10"),
    (one_less_when_tight, "take the largest that fits"),
    (lambda costs, budget: 6, "return two rates"),
])
def test_typical_expansion_choice_mistakes_are_explained(capsys, answer, message):
    assert_refused_with(capsys, week2.check_expansion_choice, answer, message)


@pytest.mark.parametrize("check", [week2.check_has_residual, week2.check_inverted_residual,
                                   week2.check_shapes_through_block, week2.check_reconstruction_error,
                                   week2.check_expansion_choice])
def test_an_unwritten_exercise_is_said_so(capsys, check):
    assert_refused_with(capsys, check, stub, "not written yet")
