"""Week 2's widget: the ReLU spiral, with controls for n, the activation, the spiral's
radius and the random seed, above :func:`lessons.figures.manifold.recovery_figure`.

Public API: :func:`show_manifold`.
"""
from lessons import manifold
from lessons.figures.manifold import recovery_figure
from widgets.controls import linked_figure


def show_manifold():
    """Sliders for n, the activation, the spiral's radius and the random seed, above the figure."""
    import ipywidgets as w

    controls = {
        "n": w.IntSlider(value=3, min=min(manifold.DIMS), max=max(manifold.DIMS), description="n"),
        "activation": w.Dropdown(options=[(label, name) for name, label in manifold.LABELS.items()], value="relu",
                                 description="activation"),
        "radius": w.FloatSlider(value=manifold.RADIUS, min=0.5, max=20, step=0.5, description="radius"),
        "seed": w.IntSlider(value=0, min=0, max=20, description="seed"),
    }
    return linked_figure(recovery_figure, controls)
