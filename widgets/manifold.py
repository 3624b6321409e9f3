"""The ReLU spiral (the paper's Figure 1): lift a 2-D spiral into n dimensions, activate, recover.

Pure functions that draw (also used by the Gradio app) and ``show_manifold()``, which
wires them to sliders. The maths is :mod:`lessons.manifold`.
"""
import numpy as np

from lessons import manifold
from widgets.controls import linked_figure

DIMS = tuple(range(2, 31))  # the widget's n, as in the paper's figure (n = 2 ... 30)
LABELS = {"linear": "linear (identity)", "relu": "ReLU", "relu6": "ReLU6"}


def recovery(n, activation, radius=manifold.RADIUS, seed=0):
    """Everything the widget shows for one setting: the spiral, both recoveries, error, lost points."""
    x = manifold.spiral(radius=radius)
    T = manifold.random_lift(n, seed)
    activated = manifold.lift(x, T, activation)
    recovered = manifold.recover(activated, T, activation)
    return {"original": x, "recovered": recovered, "paper": manifold.paper_recovery(activated, T),
            "error": manifold.reconstruction_error(x, recovered),
            "lost": manifold.lost_fraction(activated, activation)}


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

    result = recovery(n, activation, radius, seed)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.4))
    _draw(axes[0], result["original"], result["paper"], f"as in the paper: T⁺·{LABELS[activation]}(T·x)")
    _draw(axes[1], result["original"], result["recovered"],
          f"recovered from the unclipped coordinates\nerror {result['error']:.3f}, "
          f"unrecoverable points {result['lost']:.0%}")
    fig.suptitle(f"spiral → {n} dimensions → {LABELS[activation]} → back to 2-D")
    fig.tight_layout()
    return fig


def figure1(dims=(2, 3, 5, 15, 30), activation="relu", radius=manifold.RADIUS, seed=0):
    """The paper's Figure 1 as a grid: one column per n; top row T⁺·act(T·x), bottom row the recovery."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(dims), figsize=(2.6 * len(dims), 5.4))
    for column, n in zip(axes.T, dims):
        result = recovery(n, activation, radius, seed)
        _draw(column[0], result["original"], result["paper"], f"n = {n}: T⁺·{LABELS[activation]}(T·x)")
        _draw(column[1], result["original"], result["recovered"], f"recovered, error {result['error']:.2f}")
    fig.tight_layout()
    return fig


def error_curves(dims=DIMS, trials=10, seed=0, radius=manifold.RADIUS):
    """{activation: mean error for each n in ``dims``} over ``trials`` random T."""
    return {name: manifold.error_curve(dims, name, trials, seed, radius) for name in manifold.ACTIVATIONS}


def error_figure(curves, dims=DIMS, trials=None):
    """Reconstruction error against n, one line per activation."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, errors in curves.items():
        ax.plot(dims, errors, "o-", markersize=3, label=LABELS[name])
    ax.set(xlabel="n (dimensions the spiral is lifted into)", ylabel="reconstruction error (relative RMS)",
           title="What survives the activation" + (f" (mean of {trials} random T each)" if trials else ""))
    ax.set_ylim(bottom=0)
    ax.legend()
    fig.tight_layout()
    return fig


def show_manifold():
    """Sliders for n, the activation, the spiral's radius and the random seed, above the figure."""
    import ipywidgets as w

    controls = {
        "n": w.IntSlider(value=3, min=min(DIMS), max=max(DIMS), description="n"),
        "activation": w.Dropdown(options=[(label, name) for name, label in LABELS.items()], value="relu",
                                 description="activation"),
        "radius": w.FloatSlider(value=manifold.RADIUS, min=0.5, max=20, step=0.5, description="radius"),
        "seed": w.IntSlider(value=0, min=0, max=20, description="seed"),
    }
    return linked_figure(recovery_figure, controls)

