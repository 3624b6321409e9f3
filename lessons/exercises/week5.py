"""Checks for week 5's exercises: int8 quantisation by hand, choosing a runtime, deciding on TTA.

The scales and zero points in the cases are the kinds an INT8 MobileNetV2 file really
holds: its uint8 input (scale 1, zero point 0), the pixels rescaled to [-1, 1] (2/255, -1),
a ReLU6 output (6/255, -128), the softmax output (1/256, -128 in int8; 0 in uint8) and
per-channel weights (zero point 0).

Public API: :func:`reference_quantise`, :func:`reference_dequantise`,
:func:`reference_pick_runtime`, :func:`check_quantise`, :func:`check_dequantise`,
:data:`TABLES`, :func:`check_pick_runtime`, :func:`reference_tta_worth_it`, :data:`TTA_CASES`,
:func:`check_tta_worth_it`.
"""
import numpy as np

from lessons.exercises import call, failed, passed
from lessons.test_time import paired_change

INT8_MIN, INT8_MAX = -128, 127


def reference_quantise(x, scale, zero_point):
    """TFLite's rule: round(x / scale) + zero_point, rounding halves away from zero, clipped to int8."""
    scaled = np.asarray(x, dtype=np.float64) / scale
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    return np.clip(rounded + zero_point, INT8_MIN, INT8_MAX).astype(np.int8)


def reference_dequantise(q, scale, zero_point):
    """real = scale * (q - zero_point), computed in floats (int8 arithmetic would wrap around)."""
    return scale * (np.asarray(q, dtype=np.float64) - zero_point)


def reference_pick_runtime(table, budget_ms):
    """The most accurate runtime whose p90 fits the budget; the smaller file among equals; else None."""
    fitting = [(-row["accuracy"], row["megabytes"], name) for name, row in table.items() if row["p90_ms"] <= budget_ms]
    return min(fitting)[2] if fitting else None


# (what it is, x, scale, zero point). No x / scale lands on a tie (k + 0.5), so that any
# rounding of halves passes.
QUANTISE_CASES = [
    ("pixels rescaled to [-1, 1]", [-0.998, -0.3, 0.0, 0.41, 1.2], 2 / 255, -1),
    ("a ReLU6 output", [0.0, 0.1, 2.9, 6.0, 7.3], 6 / 255, -128),
    ("softmax probabilities", [0.0, 0.001, 0.1, 0.7, 1.0], 1 / 256, -128),
    ("one channel of conv weights", [-1.49, -0.0312, 0.0, 0.2, 0.97, 1.6], 0.0096, 0),
]


def _quantise_hint(result, x, scale, zero_point):
    unclipped = np.sign(np.asarray(x) / scale) * np.floor(np.abs(np.asarray(x) / scale) + 0.5) + zero_point
    if np.array_equal(result, unclipped):
        return f"clip the result to the int8 range [{INT8_MIN}, {INT8_MAX}]: values beyond it saturate"
    if np.array_equal(result, unclipped.astype(np.int64).astype(np.int8)):
        return (f"clip to [{INT8_MIN}, {INT8_MAX}] before converting to int8: astype(np.int8) wraps 128 around "
                "to -128 instead of saturating")
    if np.array_equal(result, reference_quantise(x, scale, 0)):
        return "add the zero point after rounding"
    if np.array_equal(result, np.clip(np.trunc(np.asarray(x) / scale) + zero_point, INT8_MIN, INT8_MAX)):
        return "round to the nearest integer (int() and astype(int) cut the fraction off instead)"
    return "q = round(x / scale) + zero_point, then clip to [-128, 127]"


def _array_from(function, args, where, input_name, kind, shape):
    """Calls a student's function: (its result as a float array, None), or (None, the failed check, said)."""
    result, error = call(function, *args)
    if error:
        return None, failed(f"{where} {error}.")
    try:
        got = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        return None, failed(f"{where} returned {result!r}: return an array of {kind}.")
    if got.shape != shape:
        return None, failed(f"{where} returned shape {got.shape}; it should keep the shape of {input_name}, {shape}.")
    return got, None


def check_quantise(quantise):
    """``quantise(x, scale, zero_point)`` -> int8 array of ``x`` (a float array)."""
    for what, x, scale, zero_point in QUANTISE_CASES:
        x = np.array(x)
        where = f"quantise({what}: x={x.tolist()}, scale={scale:.6g}, zero_point={zero_point})"
        expected = reference_quantise(x, scale, zero_point)
        got, failure = _array_from(quantise, (x.copy(), scale, zero_point), where, "x", "integers", expected.shape)
        if got is None:
            return failure
        if not np.array_equal(got, expected):
            return failed(f"{where} should be {expected.tolist()}, you gave {got.tolist()}. "
                          f"Hint: {_quantise_hint(got, x, scale, zero_point)}.")
    return passed(f"right on all {len(QUANTISE_CASES)} kinds of tensor, clipping included.")


def _dequantise_cases():
    rng = np.random.default_rng(5)
    return [
        ("the uint8 output of the INT8 model", np.array([0, 1, 64, 128, 255], dtype=np.uint8), 1 / 256, 0),
        ("an int8 softmax output", np.array([-128, -100, 0, 100, 127], dtype=np.int8), 1 / 256, -128),
        ("a ReLU6 output", rng.integers(-128, 128, 12).astype(np.int8), 6 / 255, -128),
        ("pixels rescaled to [-1, 1]", np.array([-128, -1, 0, 127], dtype=np.int8), 2 / 255, -1),
        ("conv weights", rng.integers(-127, 128, 12).astype(np.int8), 0.0096, 0),
    ]


def check_dequantise(dequantise):
    """``dequantise(q, scale, zero_point)`` -> float array of the int8/uint8 array ``q``."""
    cases = _dequantise_cases()
    for what, q, scale, zero_point in cases:
        where = f"dequantise({what}: q={q.tolist()} as {q.dtype}, scale={scale:.6g}, zero_point={zero_point})"
        expected = reference_dequantise(q, scale, zero_point)
        got, failure = _array_from(dequantise, (q.copy(), scale, zero_point), where, "q", "floats", expected.shape)
        if got is None:
            return failure
        if not np.allclose(got, expected, rtol=1e-5, atol=1e-7):
            wrapped = scale * (q - np.array(zero_point).astype(q.dtype)).astype(np.float64)
            hint = ("q - zero_point was computed in 8-bit integers and wrapped around (100 - (-128) is not 228 "
                    "in int8): turn q into floats first" if np.allclose(got, wrapped) and zero_point else
                    "real = scale × (q − zero_point)")
            return failed(f"{where} should be {np.round(expected, 5).tolist()}, you gave "
                          f"{np.round(got, 5).tolist()}. Hint: {hint}.")
    return passed(f"right on all {len(cases)} tensors, uint8 and int8 alike.")


def _row(median_ms, p90_ms, accuracy, megabytes):
    return {"median_ms": median_ms, "p90_ms": p90_ms, "accuracy": accuracy, "megabytes": megabytes}


# Tables of the kind the notebook measures (numbers made up, shapes real).
TABLES = {
    "a laptop": {"keras": _row(20.0, 31.0, 0.92, 9.7), "fp32": _row(9.0, 12.0, 0.92, 8.9),
                 "dynamic": _row(14.0, 19.0, 0.91, 2.5), "int8": _row(4.0, 6.0, 0.90, 2.7)},
    "a busy server": {"keras": _row(30.0, 80.0, 0.88, 9.7), "fp32": _row(12.0, 45.0, 0.88, 8.9),
                      "int8": _row(5.0, 9.0, 0.88, 2.7)},
    "a phone": {"fp32": _row(60.0, 75.0, 0.92, 8.9), "dynamic": _row(40.0, 48.0, 0.90, 2.5),
                "int8": _row(20.0, 26.0, 0.90, 2.7)},
}
BUDGET_CASES = [("a laptop", 50), ("a laptop", 20), ("a laptop", 10), ("a laptop", 5),
                ("a busy server", 40), ("a busy server", 100), ("a phone", 50), ("a phone", 30)]


def _pick_hint(table, budget_ms, got):
    by_median = reference_pick_runtime({n: {**r, "p90_ms": r["median_ms"]} for n, r in table.items()}, budget_ms)
    by_p90 = ("judge the budget by the p90, not the median: a budget is a promise for nine requests in ten, "
              "and the median keeps it for only half of them")
    if got is not None and reference_pick_runtime(table, budget_ms) is None:
        return "no runtime's p90 fits this budget: return None" + (f"; and {by_p90}" if got == by_median else "")
    if got == by_median:
        return by_p90
    if got in table and table[got]["p90_ms"] > budget_ms:
        return f"{got} has a p90 of {table[got]['p90_ms']} ms, over the budget"
    fitting = {n: r for n, r in table.items() if r["p90_ms"] <= budget_ms}
    if got in fitting and fitting[got]["accuracy"] == max(r["accuracy"] for r in fitting.values()):
        return "among equally accurate runtimes, take the smaller file"
    return "among the runtimes whose p90 fits the budget, take the most accurate (then the smaller file)"


def check_pick_runtime(pick_runtime):
    """``pick_runtime(table, budget_ms)`` -> a runtime's name, or None when none fits."""
    for place, budget_ms in BUDGET_CASES:
        table = TABLES[place]
        copy = {name: dict(row) for name, row in table.items()}
        got, error = call(pick_runtime, copy, budget_ms)
        where = f"pick_runtime(the table of {place}, {budget_ms} ms)"
        if error:
            return failed(f"{where} {error}.")
        expected = reference_pick_runtime(table, budget_ms)
        if got != expected:
            return failed(f"{where} should be {expected!r}, you gave {got!r}. "
                          f"Hint: {_pick_hint(table, budget_ms, got)}.")
    return passed(f"right on all {len(BUDGET_CASES)} budgets, including the ones nothing can meet.")


def reference_tta_worth_it(single, tta, budget_ms):
    """TTA is worth it when its p90 fits the budget and it fixes clearly more photos than it breaks.

    "Clearly": of the photos whose answer changed, fixed − broken must exceed twice its
    chance spread, 2·√(fixed + broken) (a paired sign test at about 95 %).
    """
    if tta["p90_ms"] > budget_ms:
        return False
    fixed, broken = paired_change(single["correct"], tta["correct"])
    return bool(fixed - broken > 2 * np.sqrt(fixed + broken))


def _variant(median_ms, p90_ms, correct):
    return {"median_ms": median_ms, "p90_ms": p90_ms, "correct": correct}


def _tta_case(photos, right_before, fixed, broken):
    """(single, tta correctness): ``right_before`` of ``photos`` right with one view; TTA fixes and breaks some."""
    before = np.arange(photos) < right_before
    after = before.copy()
    after[right_before:right_before + fixed] = True  # wrong before, right after
    after[:broken] = False  # right before, wrong after
    return before, after


# (what it shows, photos, right with one view, fixed by TTA, broken by TTA, one view's and TTA's
# (median, p90) in ms, budget in ms). Latencies of the kind the notebook measures; photos made up.
TTA_CASES = [
    ("a clear gain that fits", 600, 540, 30, 4, (20, 26), (41, 52), 60),
    ("a clear gain over the budget", 600, 540, 30, 4, (20, 26), (41, 52), 40),
    ("a median that fits and a p90 that does not", 600, 540, 30, 4, (20, 26), (44, 58), 50),
    ("a gain of 2 photos out of 8 that changed: chance", 600, 540, 5, 3, (20, 26), (41, 52), 100),
    ("a gain of 1 photo out of 1: chance", 100, 93, 1, 0, (20, 26), (41, 52), 100),
    ("many more broken than fixed", 600, 540, 3, 30, (20, 26), (41, 52), 100),
    ("half a point on 5,000 photos: small but real", 5000, 4500, 40, 10, (20, 26), (41, 52), 100),
    ("nothing changed", 600, 540, 0, 0, (20, 26), (41, 52), 100),
]


def _tta_inputs(case):
    _, photos, right, fixed, broken, one, tta, budget = case
    before, after = _tta_case(photos, right, fixed, broken)
    return _variant(*one, before), _variant(*tta, after), budget


def _tta_hint(single, tta, budget_ms, got):
    fixed, broken = paired_change(single["correct"], tta["correct"])
    if tta["median_ms"] <= budget_ms < tta["p90_ms"]:
        return (f"TTA's p90 is {tta['p90_ms']} ms, over the {budget_ms} ms budget (its median fits, but a budget "
                "is judged by the p90)")
    if tta["p90_ms"] > budget_ms:
        return f"TTA's p90 is {tta['p90_ms']} ms, over the {budget_ms} ms budget: it cannot be worth it"
    if got and fixed <= broken:
        return f"TTA fixed {fixed} photos and broke {broken}: it does no good at any cost"
    if got:
        return (f"TTA fixed {fixed} photos and broke {broken}: a difference of {fixed - broken} is within chance "
                f"unless it exceeds 2·√(fixed + broken) = {2 * np.sqrt(fixed + broken):.1f}")
    return (f"TTA fixed {fixed} photos and broke {broken}: {fixed - broken} is more than "
            f"2·√(fixed + broken) = {2 * np.sqrt(fixed + broken):.1f}, a real gain, and it fits the budget "
            "(a small gain in accuracy points can be real on many photos)")


def check_tta_worth_it(tta_worth_it):
    """``tta_worth_it(single, tta, budget_ms)`` -> True or False."""
    for case in TTA_CASES:
        single, tta, budget_ms = _tta_inputs(case)
        copies = ({**single, "correct": single["correct"].copy()}, {**tta, "correct": tta["correct"].copy()})
        got, error = call(tta_worth_it, *copies, budget_ms)
        where = f"tta_worth_it({case[0]}, budget {budget_ms} ms)"
        if error:
            return failed(f"{where} {error}.")
        if got not in (True, False):
            return failed(f"{where} returned {got!r}: return True or False.")
        expected = reference_tta_worth_it(single, tta, budget_ms)
        if bool(got) != expected:
            return failed(f"{where} should be {expected}, you gave {bool(got)}. "
                          f"Hint: {_tta_hint(single, tta, budget_ms, got)}.")
    return passed(f"right on all {len(TTA_CASES)} cases: the budget by the p90, and gains told from chance.")
