"""The functions behind the spiral widget (its callbacks never run under nbval)."""
import matplotlib
import matplotlib.pyplot as plt
import pytest

from lessons import manifold
from widgets import controls, manifold as widget

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_recovery():
    linear = widget.recovery(2, "linear")
    assert linear["error"] < 1e-12 and linear["lost"] == 0
    narrow, wide = widget.recovery(2, "relu"), widget.recovery(30, "relu")
    assert narrow["error"] > 0.3 and narrow["lost"] > 0.2
    assert wide["error"] < 1e-9 and wide["lost"] == 0
    assert narrow["original"].shape == narrow["recovered"].shape == narrow["paper"].shape == (manifold.POINTS, 2)
    assert widget.recovery(5, "relu6", seed=4)["error"] == widget.recovery(5, "relu6", seed=4)["error"]


def test_recovery_figure():
    fig = widget.recovery_figure(3, "relu6", radius=4, seed=1)
    assert len(fig.axes) == 2
    error = widget.recovery(3, "relu6", radius=4, seed=1)["error"]
    assert f"error {error:.3f}" in fig.axes[1].get_title()


def test_figure1():
    fig = widget.figure1(dims=(2, 30))
    assert len(fig.axes) == 4
    assert fig.axes[1].get_title().startswith("n = 30")


def test_error_curves_and_figure():
    dims = (2, 3, 30)
    curves = widget.error_curves(dims, trials=3)
    assert set(curves) == {"linear", "relu", "relu6"}
    assert all(len(errors) == len(dims) for errors in curves.values())
    assert max(curves["linear"]) < 1e-12 and curves["relu"][0] > curves["relu"][-1]
    fig = widget.error_figure(curves, dims, trials=3)
    assert [line.get_label() for line in fig.axes[0].lines] == ["linear (identity)", "ReLU", "ReLU6"]
    assert "3 random T" in fig.axes[0].get_title()


def test_show_manifold_wires_the_controls():
    shown = widget.show_manifold()
    *controls, view = shown.children
    controls = {control.description: control for control in controls}
    assert set(controls) == {"n", "activation", "radius", "seed"}
    assert (controls["n"].min, controls["n"].max) == (2, 30)
    assert set(controls["activation"].options) == {(label, name) for name, label in widget.LABELS.items()}

    def picture():
        (output,) = view.outputs
        return output["data"]["image/png"]

    first = picture()  # drawn at once, before any slider moves
    controls["n"].value = 30
    assert picture() != first
    assert plt.get_fignums() == []  # every figure drawn for the widget is closed


def test_figure_png():
    png = controls.figure_png(widget.recovery_figure(2, "linear"))
    assert png.startswith(b"\x89PNG") and plt.get_fignums() == []
