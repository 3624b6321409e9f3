"""Week 2's ReLU spiral (the paper's Figure 1): a 2-D spiral lifted into n dimensions, activated, recovered.

One setting (:func:`recovery_figure`), the paper's grid of several n (:func:`figure1`) and
the error against n for each activation (:func:`error_figure`). The maths is
:mod:`lessons.manifold`.

Public API: :func:`recovery_figure`, :func:`figure1`, :func:`error_figure`.
"""
import numpy as np

from lessons import manifold


def _draw(ax, original, points, title):
    ax.plot(*original.T, color="0.85", linewidth=4, zorder=0)
    ax.scatter(*points.T, c=np.arange(len(points)), cmap="viridis", s=4)  # colour = position along the spiral
    ax.set_title(title, fontsize=10)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])


def recovery_figure(n, activation, radius=manifold.RADIUS, seed=0):
    """Left: the paper's T⁺·act(T·x). Right: the least-squares recovery drawn over the original (grey)."""
    import matplotlib.pyplot as plt

    result = manifold.recovery(n, activation, radius, seed)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.4))
    _draw(axes[0], result["original"], result["paper"], f"as in the paper: T⁺·{manifold.LABELS[activation]}(T·x)")
    _draw(axes[1], result["original"], result["recovered"],
          f"recovered from the unclipped coordinates\nerror {result['error']:.3f}, "
          f"unrecoverable points {result['lost']:.0%}")
    fig.suptitle(f"spiral → {n} dimensions → {manifold.LABELS[activation]} → back to 2-D")
    fig.tight_layout()
    return fig


def figure1(dims=(2, 3, 5, 15, 30), activation="relu", radius=manifold.RADIUS, seed=0):
    """The paper's Figure 1 as a grid: one column per n; top row T⁺·act(T·x), bottom row the recovery."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(dims), figsize=(2.6 * len(dims), 5.4))
    for column, n in zip(axes.T, dims):
        result = manifold.recovery(n, activation, radius, seed)
        _draw(column[0], result["original"], result["paper"], f"n = {n}: T⁺·{manifold.LABELS[activation]}(T·x)")
        _draw(column[1], result["original"], result["recovered"], f"recovered, error {result['error']:.2f}")
    fig.tight_layout()
    return fig


def error_figure(curves, dims=manifold.DIMS, trials=None):
    """Reconstruction error against n, one line per activation (``curves``: :func:`lessons.manifold.error_curves`)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, errors in curves.items():
        ax.plot(dims, errors, "o-", markersize=3, label=manifold.LABELS[name])
    ax.set(xlabel="n (dimensions the spiral is lifted into)", ylabel="reconstruction error (relative RMS)",
           title="What survives the activation" + (f" (mean of {trials} random T each)" if trials else ""))
    ax.set_ylim(bottom=0)
    ax.legend()
    fig.tight_layout()
    return fig
