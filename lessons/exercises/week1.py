"""Checks for week 1: the cost of a depthwise separable convolution, and a choice under a budget.

Public API: :func:`check_separable_params`, :func:`check_standard_macs`, :func:`budget_rows`,
:func:`check_best_under_budget`.
"""
from lessons import convcost, family
from lessons.exercises import call, failed, hint_for, passed, same

# (kernel size, input channels, output channels, output map size): the classic example
# first, then real MobileNetV2 layers and shapes where a common slip shows.
LAYERS = [(3, 64, 128, 56), (3, 32, 16, 112), (5, 96, 24, 28), (7, 3, 32, 112), (1, 320, 1280, 7)]


def _shape(k, c_in, c_out):
    return f"{k}×{k} conv, {c_in} -> {c_out} channels"


def check_separable_params(separable_params):
    """``separable_params(kernel_size, c_in, c_out)``: weights of a K×K depthwise conv followed
    by a 1×1 pointwise conv, no biases."""
    for k, c_in, c_out, _ in LAYERS:
        answer, error = call(separable_params, k, c_in, c_out)
        if error:
            return failed(f"separable_params {error}.")
        right = convcost.separable_params(k, c_in, c_out)
        if same(answer, right):
            continue
        where = f"For a {_shape(k, c_in, c_out)} you return {answer!r}, not {right:,}"
        hints = {
            convcost.standard_params(k, c_in, c_out): "that is the STANDARD convolution's count",
            convcost.pointwise_params(c_in, c_out): "you counted only the pointwise (1×1) part",
            convcost.depthwise_params(k, c_in): "you counted only the depthwise (K×K) part",
            k * c_in + c_in * c_out: "a K×K filter has K·K weights, not K",
            convcost.depthwise_params(k, c_out) + convcost.pointwise_params(c_in, c_out):
                "the depthwise conv comes first: it has one filter per INPUT channel",
        }
        return failed(f"{where}: {hint_for(hints, answer, 'count the depthwise and the pointwise weights, then add')}.")
    k, c_in, c_out, _ = LAYERS[0]
    return passed(f"separable_params is right: e.g. {convcost.separable_params(k, c_in, c_out):,} weights "
                  f"for a {_shape(k, c_in, c_out)}, instead of {convcost.standard_params(k, c_in, c_out):,}.")


def check_standard_macs(standard_macs):
    """``standard_macs(kernel_size, c_in, c_out, size)``: multiply-adds of a standard K×K conv
    (no bias) producing a size×size output map, for one image."""
    for k, c_in, c_out, size in LAYERS:
        answer, error = call(standard_macs, k, c_in, c_out, size)
        if error:
            return failed(f"standard_macs {error}.")
        right = convcost.standard_macs(k, c_in, c_out, size)
        if same(answer, right):
            continue
        where = f"For a {_shape(k, c_in, c_out)} on a {size}×{size} output map you return {answer!r}, not {right:,}"
        weights = convcost.standard_params(k, c_in, c_out)
        hints = {
            weights: "that is the number of weights: each is used once at EVERY output position",
            weights * size: "the map has size·size positions, not size",
            size * size * k * k * c_in: "every output CHANNEL needs its own K·K·C_in multiply-adds",
            size * size * k * k * c_out: "each output value sums over all C_in input channels",
            size * size * k * c_in * c_out: "a K×K filter has K·K weights, not K",
        }
        default = "count the multiply-adds of one output value, then the outputs"
        return failed(f"{where}: {hint_for(hints, answer, default)}.")
    k, c_in, c_out, size = LAYERS[0]
    return passed(f"standard_macs is right: e.g. {convcost.standard_macs(k, c_in, c_out, size):,} multiply-adds "
                  f"for a {_shape(k, c_in, c_out)} on a {size}×{size} map.")


def budget_rows():
    """The 22 released MobileNetV2 checkpoints with the multiply-adds their README prints:
    real rows for the check, without building a model."""
    return [{"alpha": alpha, "size": size, "macs": int(quoted.macs_m * 1e6), "top1": quoted.top1}
            for (alpha, size), quoted in family.MOBILENETV2_CHECKPOINTS.items()]


def _name(row):
    return f"α = {row['alpha']} at {row['size']} px ({row['macs'] / 1e6:g} M multiply-adds, top-1 {row['top1']} %)"


def _budget_hint(answer, rows, budget, right):
    """What a wrong pick probably comes from."""
    fits = [row for row in rows if row["macs"] <= budget]
    if answer is None:
        return f"something fits: {_name(right)}"
    if not isinstance(answer, dict) or answer not in rows:
        return "return one of the rows (the dict itself), or None when nothing fits"
    if answer["macs"] > budget:
        return f"it needs more than the budget of {budget / 1e6:g} M multiply-adds"
    if answer == family.best_under_budget(rows, budget - 1):
        return "a checkpoint that needs exactly the budget fits too (<=, not <)"
    if answer["top1"] == right["top1"]:
        return "both are equally accurate: take the one with fewer multiply-adds"
    if answer == max(fits, key=lambda row: row["macs"]):
        return "the largest checkpoint that fits is not the most accurate one: compare the top-1"
    return "among the rows that fit the budget, take the highest top-1"


def check_best_under_budget(best_under_budget):
    """``best_under_budget(rows, budget)``: of the rows (dicts with "macs" and "top1") whose
    multiply-adds are at most ``budget``, the one with the highest top-1; of two equally
    accurate, the cheaper; None when nothing fits."""
    rows = budget_rows()
    # Equally accurate: α = 0.35 at 224 px and α = 1.0 at 96 px, the dearer one first.
    ties = sorted((row for row in rows if row["top1"] == 60.3), key=lambda row: -row["macs"])
    cases = [(rows, 100e6), (rows, 1e12), (rows, 97e6), (rows, 150e6), (ties, 60e6), (rows, 5e6)]
    for case, budget in cases:
        answer, error = call(best_under_budget, case, budget)
        if error:
            hint = " (when nothing fits, return None)" if budget < min(row["macs"] for row in case) else ""
            return failed(f"best_under_budget(rows, {budget:,.0f}) {error}{hint}.")
        right = family.best_under_budget(case, budget)
        if answer is right or (right is not None and isinstance(answer, dict) and same(answer, right)):
            continue
        picked = _name(answer) if isinstance(answer, dict) and {"macs", "top1"} <= set(answer) else repr(answer)
        expected = _name(right) if right else "None (nothing fits)"
        return failed(f"With a budget of {budget / 1e6:g} M multiply-adds you pick {picked}, not {expected}: "
                      f"{_budget_hint(answer, case, budget, right)}.")
    best = family.best_under_budget(rows, 100e6)
    return passed(f"best_under_budget is right: e.g. with 100 M multiply-adds, {_name(best)}.")
