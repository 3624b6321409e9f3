"""Week 1's exercise checks: right answers pass, typical wrong ones and stubs are explained."""
import numpy as np
import pytest

from lessons import family
from lessons.exercises import week1
from tests.exercise_checks import assert_accepted_with, assert_refused_with, stub


# ---- the parameters of a depthwise separable convolution -------------------------------------

def test_the_course_answer_to_separable_params_passes(capsys):
    assert_accepted_with(capsys, week1.check_separable_params, lambda k, c_in, c_out: k * k * c_in + c_in * c_out,
                         "separable_params is right")


@pytest.mark.parametrize("answer, message", [
    (lambda k, c_in, c_out: k * k * c_in * c_out, "STANDARD"),
    (lambda k, c_in, c_out: c_in * c_out, "only the pointwise"),
    (lambda k, c_in, c_out: k * k * c_in, "only the depthwise"),
    (lambda k, c_in, c_out: k * c_in + c_in * c_out, "K·K weights, not K"),
    (lambda k, c_in, c_out: k * k * c_out + c_in * c_out, "INPUT channel"),
    (lambda k, c_in, c_out: 42, "count the depthwise and the pointwise"),
    (lambda k, c_in, c_out: [1, 2], "count the depthwise and the pointwise"),
    (lambda k, c_in, c_out: 1 / 0, "ZeroDivisionError"),
])
def test_typical_separable_params_mistakes_are_explained(capsys, answer, message):
    assert_refused_with(capsys, week1.check_separable_params, answer, message)


# ---- the multiply-adds of a standard convolution -------------------------------------------

def test_the_course_answer_to_standard_macs_passes(capsys):
    assert_accepted_with(capsys, week1.check_standard_macs,
                         lambda k, c_in, c_out, size: size * size * k * k * c_in * c_out, "standard_macs is right")


@pytest.mark.parametrize("answer, message", [
    (lambda k, c_in, c_out, size: k * k * c_in * c_out, "number of weights"),
    (lambda k, c_in, c_out, size: size * k * k * c_in * c_out, "size·size positions"),
    (lambda k, c_in, c_out, size: size * size * k * k * c_in, "every output CHANNEL"),
    (lambda k, c_in, c_out, size: size * size * k * k * c_out, "all C_in input channels"),
    (lambda k, c_in, c_out, size: size * size * k * c_in * c_out, "K·K weights, not K"),
    (lambda k, c_in, c_out, size: -1, "one output value"),
    (lambda k, c_in, c_out, size: np.zeros(3), "one output value"),
])
def test_typical_standard_macs_mistakes_are_explained(capsys, answer, message):
    assert_refused_with(capsys, week1.check_standard_macs, answer, message)


# ---- the best checkpoint under a budget ------------------------------------------------------

def pick_best(rows, budget):
    fits = [row for row in rows if row["macs"] <= budget]
    return max(fits, key=lambda row: (row["top1"], -row["macs"]), default=None)


@pytest.mark.parametrize("answer", [pick_best, family.best_under_budget], ids=["a student's", "lessons.family's"])
def test_the_course_answer_to_best_under_budget_passes(capsys, answer):
    assert_accepted_with(capsys, week1.check_best_under_budget, answer, "100 M multiply-adds, α = 0.5 at 224 px")


@pytest.mark.parametrize("answer, message", [
    (lambda rows, budget: max(rows, key=lambda row: row["top1"]), "more than the budget"),
    (lambda rows, budget: max((r for r in rows if r["macs"] <= budget), key=lambda row: row["macs"]),
     "largest checkpoint that fits"),
    (lambda rows, budget: pick_best(rows, budget - 1), "exactly the budget"),
    (lambda rows, budget: max((r for r in rows if r["macs"] <= budget), key=lambda row: row["top1"], default=None),
     "fewer multiply-adds"),
    (lambda rows, budget: max((r for r in rows if r["macs"] <= budget), key=lambda row: row["top1"]),
     "fewer multiply-adds"),
    (lambda rows, budget: max((r for r in rows if r["macs"] <= budget), key=lambda row: (row["top1"], -row["macs"])),
     "return None"),
    (lambda rows, budget: None, "something fits"),
    (lambda rows, budget: (0.5, 224), "the dict itself"),
    (lambda rows, budget: dict(pick_best(rows, budget) or {}, top1=0), "the dict itself"),
    (lambda rows, budget: min(rows, key=lambda row: row["macs"]), "highest top-1"),
])
def test_typical_best_under_budget_mistakes_are_explained(capsys, answer, message):
    assert_refused_with(capsys, week1.check_best_under_budget, answer, message)


def test_the_budget_rows_are_the_quoted_table():
    rows = week1.budget_rows()
    assert len(rows) == len(family.MOBILENETV2_CHECKPOINTS) == 22
    assert {"alpha": 0.5, "size": 224, "macs": 97_000_000, "top1": 65.4} in rows


@pytest.mark.parametrize("check", [week1.check_separable_params, week1.check_standard_macs,
                                   week1.check_best_under_budget])
def test_an_unwritten_exercise_is_said_so(capsys, check):
    assert_refused_with(capsys, check, stub, "not written yet")
