"""Week 3's exercise checks: right answers pass, typical wrong ones and stubs are explained."""
import keras
import numpy as np
import pytest

from lessons import mobilenetv2
from lessons import receptive_field as rf
from lessons.exercises import week3
from tests.exercise_checks import assert_accepted_with, assert_refused_with, stub


# ---- the field of a stack of layers ---------------------------------------------------------

def no_jump(layers):
    return 1 + sum(k - 1 for k, _ in layers), int(np.prod([s for _, s in layers]))


def test_the_course_answer_to_stack_field_passes(capsys):
    assert_accepted_with(capsys, week3.check_stack_field, week3.stack_field, "stack_field is right")


@pytest.mark.parametrize("answer, message", [
    (no_jump, "(k - 1) * j_in"),
    (week3.stack_field_with_j_out, "BEFORE the layer (j_in)"),
    (lambda layers: 7, "pair"),
])
def test_typical_stack_field_mistakes_are_explained(capsys, answer, message):
    assert_refused_with(capsys, week3.check_stack_field, answer, message)


# ---- the input pixels one unit sees ---------------------------------------------------------

def unclipped(first, size, jump, unit, image_size):
    return first + unit * jump, first + unit * jump + size - 1


def test_the_course_answer_to_field_span_passes(capsys):
    assert_accepted_with(capsys, week3.check_field_span, week3.field_span, "field_span is right")


def test_typical_field_span_mistakes_are_explained(capsys):
    assert_refused_with(capsys, week3.check_field_span, unclipped, "clip")


def test_the_course_answers_agree_with_the_walker():
    """What the checks compare with is what lessons.receptive_field finds in real models."""
    inputs = keras.Input((12, 12, 1))
    stack = keras.Model(inputs, keras.layers.Conv2D(2, 3)(keras.layers.Conv2D(2, 3, strides=2)(inputs)))
    row = rf.walk(stack)[-1]
    assert week3.stack_field([(3, 2), (3, 1)]) == (row.size, row.jump)
    top = rf.walk(mobilenetv2.build_backbone(224, weights="none"))[-1]
    assert week3.field_span(top.rows.first, top.rows.size, top.rows.jump, 3, 224) == top.box((3, 3), (224, 224))[0]


@pytest.mark.parametrize("check", [week3.check_stack_field, week3.check_field_span])
def test_an_unwritten_exercise_is_said_so(capsys, check):
    assert_refused_with(capsys, check, stub, "not written yet")
