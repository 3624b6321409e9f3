"""Week 2's widget: its controls redraw the spiral figure (callbacks nbval never runs)."""
import base64

import matplotlib.pyplot as plt

from lessons import manifold
from lessons.figures import output
from lessons.figures.manifold import recovery_figure
from widgets.manifold import show_manifold



def test_the_controls_redraw_the_figure():
    shown = show_manifold()
    *controls, view = shown.children
    controls = {control.description: control for control in controls}
    assert set(controls) == {"n", "activation", "radius", "seed"}
    assert (controls["n"].min, controls["n"].max) == (min(manifold.DIMS), max(manifold.DIMS))
    assert set(controls["activation"].options) == {(label, name) for name, label in manifold.LABELS.items()}

    def picture():
        (drawn,) = view.outputs
        return base64.b64decode(drawn["data"]["image/png"])  # the Output widget keeps it as text

    first = picture()  # drawn at once, before any control moves
    assert first == output.png(recovery_figure(3, "relu", manifold.RADIUS, 0))
    controls["n"].value = 30
    controls["activation"].value = "relu6"
    assert picture() == output.png(recovery_figure(30, "relu6", manifold.RADIUS, 0)) != first
    assert plt.get_fignums() == []  # every figure drawn for the widget is closed
