"""Week 1's exercise checks: a right answer passes, wrong ones and stubs fail with a message that helps."""
import numpy as np

from lessons import family
from lessons.exercises import week1


def stub(*args):
    raise NotImplementedError()


def test_check_separable_params(capsys):
    assert week1.check_separable_params(lambda k, c_in, c_out: k * k * c_in + c_in * c_out)
    assert "✓" in capsys.readouterr().out
    wrong = {
        (lambda k, c_in, c_out: k * k * c_in * c_out): "STANDARD",
        (lambda k, c_in, c_out: c_in * c_out): "only the pointwise",
        (lambda k, c_in, c_out: k * k * c_in): "only the depthwise",
        (lambda k, c_in, c_out: k * c_in + c_in * c_out): "K·K weights, not K",
        (lambda k, c_in, c_out: k * k * c_out + c_in * c_out): "INPUT channel",
        (lambda k, c_in, c_out: 42): "count the depthwise and the pointwise",
        (lambda k, c_in, c_out: [1, 2]): "count the depthwise and the pointwise",
        stub: "not written yet",
        (lambda k, c_in, c_out: 1 / 0): "ZeroDivisionError",
    }
    for answer, hint in wrong.items():
        assert week1.check_separable_params(answer) is False
        out = capsys.readouterr().out
        assert out.startswith("✗") and hint in out, out


def test_check_standard_macs(capsys):
    assert week1.check_standard_macs(lambda k, c_in, c_out, size: size * size * k * k * c_in * c_out)
    assert "✓" in capsys.readouterr().out
    wrong = {
        (lambda k, c_in, c_out, size: k * k * c_in * c_out): "number of weights",
        (lambda k, c_in, c_out, size: size * k * k * c_in * c_out): "size·size positions",
        (lambda k, c_in, c_out, size: size * size * k * k * c_in): "every output CHANNEL",
        (lambda k, c_in, c_out, size: size * size * k * k * c_out): "all C_in input channels",
        (lambda k, c_in, c_out, size: size * size * k * c_in * c_out): "K·K weights, not K",
        (lambda k, c_in, c_out, size: -1): "one output value",
        (lambda k, c_in, c_out, size: np.zeros(3)): "one output value",
        stub: "not written yet",
    }
    for answer, hint in wrong.items():
        assert week1.check_standard_macs(answer) is False
        out = capsys.readouterr().out
        assert out.startswith("✗") and hint in out, out


def pick_best(rows, budget):
    fits = [row for row in rows if row["macs"] <= budget]
    return max(fits, key=lambda row: (row["top1"], -row["macs"]), default=None)


def test_check_best_under_budget(capsys):
    assert week1.check_best_under_budget(pick_best)
    assert "100 M multiply-adds, α = 0.5 at 224 px" in capsys.readouterr().out
    assert week1.check_best_under_budget(family.best_under_budget)
    capsys.readouterr()
    wrong = {
        (lambda rows, budget: max(rows, key=lambda row: row["top1"])): "more than the budget",
        (lambda rows, budget: max((r for r in rows if r["macs"] <= budget), key=lambda row: row["macs"])):
            "largest checkpoint that fits",
        (lambda rows, budget: pick_best(rows, budget - 1)): "exactly the budget",
        (lambda rows, budget: max((r for r in rows if r["macs"] <= budget), key=lambda row: row["top1"],
                                  default=None)): "fewer multiply-adds",
        (lambda rows, budget: max((r for r in rows if r["macs"] <= budget), key=lambda row: row["top1"])):
            "fewer multiply-adds",
        (lambda rows, budget: max((r for r in rows if r["macs"] <= budget),
                                  key=lambda row: (row["top1"], -row["macs"]))): "return None",
        (lambda rows, budget: None): "something fits",
        (lambda rows, budget: (0.5, 224)): "the dict itself",
        (lambda rows, budget: dict(pick_best(rows, budget) or {}, top1=0)): "the dict itself",
        (lambda rows, budget: min(rows, key=lambda row: row["macs"])): "highest top-1",
        stub: "not written yet",
    }
    for answer, hint in wrong.items():
        assert week1.check_best_under_budget(answer) is False
        out = capsys.readouterr().out
        assert out.startswith("✗") and hint in out, out


def test_the_budget_rows_are_the_quoted_table():
    rows = week1.budget_rows()
    assert len(rows) == len(family.MOBILENETV2_CHECKPOINTS) == 22
    assert {"alpha": 0.5, "size": 224, "macs": 97_000_000, "top1": 65.4} in rows
