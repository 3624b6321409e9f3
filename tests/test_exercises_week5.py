"""Week 5's exercise checks: right answers pass, wrong ones and stubs fail with a useful message."""
import numpy as np
import pytest

from lessons.exercises import week5
from tests.exercise_checks import stub


def quantise(x, scale, zero_point):
    return np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)


def dequantise(q, scale, zero_point):
    return scale * (q.astype(np.float32) - zero_point)


def pick_runtime(table, budget_ms):
    fitting = [name for name, row in table.items() if row["p90_ms"] <= budget_ms]
    if not fitting:
        return None
    return max(fitting, key=lambda name: (table[name]["accuracy"], -table[name]["megabytes"]))


def tta_worth_it(single, tta, budget_ms):
    fixed = int(np.sum(~single["correct"] & tta["correct"]))
    broken = int(np.sum(single["correct"] & ~tta["correct"]))
    return tta["p90_ms"] <= budget_ms and fixed - broken > 2 * np.sqrt(fixed + broken)


def run(check, function, capsys):
    result = check(function)
    return result, capsys.readouterr().out


@pytest.mark.parametrize("check, solution", [
    (week5.check_quantise, quantise), (week5.check_quantise, week5.reference_quantise),
    (week5.check_dequantise, dequantise), (week5.check_dequantise, week5.reference_dequantise),
    (week5.check_pick_runtime, pick_runtime), (week5.check_pick_runtime, week5.reference_pick_runtime),
    (week5.check_tta_worth_it, tta_worth_it), (week5.check_tta_worth_it, week5.reference_tta_worth_it),
])
def test_a_right_answer_passes(check, solution, capsys):
    result, out = run(check, solution, capsys)
    assert result is True and out.startswith("✓")


@pytest.mark.parametrize("check", [week5.check_quantise, week5.check_dequantise, week5.check_pick_runtime,
                                   week5.check_tta_worth_it])
def test_a_stub_fails_saying_it_is_not_written_yet(check, capsys):
    result, out = run(check, stub, capsys)
    assert result is False and out.startswith("✗") and "is not written yet" in out


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, s, z: np.round(x / s) + z, "clip the result to the int8 range"),
    (lambda x, s, z: (np.round(x / s) + z).astype(np.int8), "wraps 128 around"),
    (lambda x, s, z: np.clip(np.round(x / s), -128, 127), "add the zero point"),
    (lambda x, s, z: np.clip((x / s).astype(int) + z, -128, 127), "round to the nearest integer"),
    (lambda x, s, z: np.clip(np.round(x * s) + z, -128, 127), "q = round(x / scale) + zero_point"),
    (lambda x, s, z: np.clip(np.round(x / s) + z, -128, 127)[:-1], "keep the shape of x"),
    (lambda x, s, z: "int8", "return an array of integers"),
])
def test_a_wrong_quantise_gets_a_hint(wrong, hint, capsys):
    result, out = run(week5.check_quantise, wrong, capsys)
    assert result is False and hint in out, out


@pytest.mark.parametrize("wrong, hint", [
    (lambda q, s, z: s * (q - z), "wrapped around"),  # int8 arithmetic: 100 - (-128) overflows
    (lambda q, s, z: s * q.astype(float) - z, "real = scale × (q − zero_point)"),
    (lambda q, s, z: q.astype(float) / s, "real = scale × (q − zero_point)"),
    (lambda q, s, z: 1 / 0, "raised ZeroDivisionError"),
])
def test_a_wrong_dequantise_gets_a_hint(wrong, hint, capsys):
    result, out = run(week5.check_dequantise, wrong, capsys)
    assert result is False and hint in out, out


def by_median(table, budget_ms):
    return pick_runtime({n: {**row, "p90_ms": row["median_ms"]} for n, row in table.items()}, budget_ms)


def no_size_tie_break(table, budget_ms):
    fitting = [name for name, row in table.items() if row["p90_ms"] <= budget_ms]
    return max(fitting, key=lambda name: table[name]["accuracy"]) if fitting else None


def never_none(table, budget_ms):
    return pick_runtime(table, budget_ms) or min(table, key=lambda name: table[name]["p90_ms"])


def fastest(table, budget_ms):
    fitting = [name for name, row in table.items() if row["p90_ms"] <= budget_ms]
    return min(fitting, key=lambda name: table[name]["p90_ms"]) if fitting else None


@pytest.mark.parametrize("wrong, hint", [
    (by_median, "judge the budget by the p90"),
    (no_size_tie_break, "take the smaller file"),
    (never_none, "return None"),
    (fastest, "take the most accurate"),
])
def test_a_wrong_pick_gets_a_hint(wrong, hint, capsys):
    result, out = run(week5.check_pick_runtime, wrong, capsys)
    assert result is False and hint in out, out


def test_a_student_function_cannot_change_the_checks_tables(capsys):
    def vandal(table, budget_ms):
        table.clear()
        return None

    week5.check_pick_runtime(vandal)
    assert week5.reference_pick_runtime(week5.TABLES["a laptop"], 50) == "fp32"


def tta_by_median(single, tta, budget_ms):
    return tta_worth_it(single, {**tta, "p90_ms": tta["median_ms"]}, budget_ms)


def tta_if_more_accurate(single, tta, budget_ms):
    return tta["p90_ms"] <= budget_ms and tta["correct"].mean() > single["correct"].mean()


def tta_if_a_point_better(single, tta, budget_ms):
    return tta["p90_ms"] <= budget_ms and tta["correct"].mean() - single["correct"].mean() >= 0.01


def tta_whatever_the_budget(single, tta, budget_ms):
    return tta_worth_it(single, tta, float("inf"))


def tta_if_anything_changed_clearly(single, tta, budget_ms):
    fixed = int(np.sum(~single["correct"] & tta["correct"]))
    broken = int(np.sum(single["correct"] & ~tta["correct"]))
    return tta["p90_ms"] <= budget_ms and abs(fixed - broken) > 2 * np.sqrt(fixed + broken)


@pytest.mark.parametrize("wrong, hint", [
    (tta_by_median, "its median fits, but a budget is judged by the p90"),
    (tta_if_more_accurate, "is within chance unless it exceeds 2·√(fixed + broken)"),
    (tta_if_a_point_better, "a small gain in accuracy points can be real on many photos"),
    (tta_whatever_the_budget, "over the 40 ms budget: it cannot be worth it"),
    (tta_if_anything_changed_clearly, "it does no good at any cost"),
    (lambda single, tta, budget_ms: "yes", "return True or False"),
])
def test_a_wrong_tta_decision_gets_a_hint(wrong, hint, capsys):
    result, out = run(week5.check_tta_worth_it, wrong, capsys)
    assert result is False and hint in out, out


def test_the_tta_cases_hold_both_answers_and_mean_what_they_say():
    answers = [week5.reference_tta_worth_it(*week5._tta_inputs(case)) for case in week5.TTA_CASES]
    assert answers == [True, False, False, False, False, False, True, False]
    for case in week5.TTA_CASES:
        single, tta, _ = week5._tta_inputs(case)
        _, photos, right, fixed, broken = case[:5]
        assert len(single["correct"]) == photos and single["correct"].sum() == right
        assert (~single["correct"] & tta["correct"]).sum() == fixed
        assert (single["correct"] & ~tta["correct"]).sum() == broken


@pytest.mark.slow
def test_the_reference_quantise_is_what_tflite_does():
    """Convert a tiny model to INT8 and compare its QUANTIZE op with reference_quantise."""
    import keras
    import tensorflow as tf
    from lessons.tflite_file import interpreter_class

    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(4)])
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([rng.uniform(-3, 5, (1, 64)).astype(np.float32)] for _ in range(8))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    interpreter = interpreter_class()(model_content=converter.convert(), experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    float_input = interpreter.get_input_details()[0]
    # The QUANTIZE op's output: the only int8 tensor shaped like the input.
    details = next(t for t in interpreter.get_tensor_details()
                   if t["dtype"] == np.int8 and list(t["shape"]) == list(float_input["shape"]))
    scale, zero_point = details["quantization"]
    x = np.concatenate([rng.uniform(-4, 6, 60), [-100.0, 100.0, 0.0, scale * 3.3]]).astype(np.float32)[None]
    interpreter.set_tensor(float_input["index"], x)
    interpreter.invoke()
    np.testing.assert_array_equal(interpreter.get_tensor(details["index"]),
                                  week5.reference_quantise(x, scale, zero_point))
