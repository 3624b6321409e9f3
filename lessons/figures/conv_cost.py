"""Week 1's pictures: a standard convolution beside the depthwise + pointwise pair that replaces it.

For a kernel size K, channels C_in and C_out and an output map size: bars for the weights
and the multiply-adds of each, and where the layer sits on the curve 1/C_out + 1/K²
(:func:`conv_cost_figure`); the curve alone for several K (:func:`ratio_figure`). The
numbers come from :mod:`lessons.convcost`.

Public API: :func:`short`, :func:`draw_ratio`, :func:`ratio_figure`, :func:`conv_cost_figure`.
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, NullFormatter

from lessons import convcost

COLORS = {"standard": "tab:red", "depthwise": "tab:blue", "pointwise": "tab:cyan"}


def short(number):
    """1234567 -> '1.23 M': numbers of any size, readable on a bar."""
    for limit, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if number >= limit:
            return f"{number / limit:.3g} {unit}"
    return f"{number:g}"


def _draw_bars(ax, costs, field, title):
    standard, depthwise, pointwise = (getattr(costs[name], field) for name in COLORS)
    ax.bar(0, standard, color=COLORS["standard"], label="standard")
    ax.bar(1, depthwise, color=COLORS["depthwise"], label="depthwise")
    ax.bar(1, pointwise, bottom=depthwise, color=COLORS["pointwise"], label="pointwise")
    for x, value in ((0, standard), (1, depthwise + pointwise)):
        ax.annotate(short(value), (x, value), ha="center", va="bottom")
    ax.set_xticks([0, 1], ["standard", "depthwise\n+ pointwise"])
    ax.set_ylim(0, 1.15 * max(standard, depthwise + pointwise))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: short(value)))
    ax.set_title(title)


def draw_ratio(ax, kernel_sizes=(1, 3, 5, 7), c_out_max=1280, mark=None):
    """Separable / standard cost against C_out for each K, with its floor 1/K² dashed;
    ``mark=(kernel_size, c_out)`` puts a dot on one layer."""
    c_out = np.unique(np.geomspace(1, c_out_max, 200).astype(int))
    for k in kernel_sizes:
        line, = ax.plot(c_out, convcost.separable_ratio(k, c_out), label=f"K = {k}")
        ax.axhline(1 / k**2, color=line.get_color(), linestyle="--", linewidth=0.8)
    if mark:
        k, c = mark
        ax.plot(c, convcost.separable_ratio(k, c), "ko")
        ax.annotate(f"  K={k}, C_out={c}", (c, convcost.separable_ratio(k, c)))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2) if t >= 0.5 / max(kernel_sizes) ** 2]
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("output channels C_out")
    ax.set_ylabel("separable / standard  (1/C_out + 1/K²)")
    ax.legend()


def ratio_figure(kernel_sizes=(1, 3, 5, 7), c_out_max=1280):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    draw_ratio(ax, kernel_sizes, c_out_max)
    ax.set_title("What a depthwise separable conv costs, as a share of a standard one")
    return fig


def conv_cost_figure(kernel_size=3, c_in=64, c_out=128, size=56):
    """(Figure, numbers): bars of weights and multiply-adds, and the ratio curve for this K."""
    costs = convcost.conv_costs(kernel_size, c_in, c_out, size)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), gridspec_kw={"width_ratios": [1, 1, 1.6]})
    _draw_bars(axes[0], costs, "params", "parameters")
    _draw_bars(axes[1], costs, "macs", f"multiply-adds ({size}×{size} output)")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower left", ncol=3)
    draw_ratio(axes[2], (kernel_size,), max(1280, c_out), mark=(kernel_size, c_out))
    # A 1×1 "depthwise" conv only rescales channels: then the pair costs MORE than one conv.
    verdict = (f"{costs['times_fewer']:.1f}× fewer" if costs["ratio"] < 1 else f"{costs['ratio']:.2f}× more")
    fig.suptitle(f"{kernel_size}×{kernel_size} conv, {c_in} -> {c_out} channels: depthwise + pointwise costs "
                 f"{costs['ratio']:.3f} of it ({verdict})")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig, costs
