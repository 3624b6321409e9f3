"""Checks for week 1: the cost of a depthwise separable convolution."""
from lessons import convcost
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
