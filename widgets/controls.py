"""Controls wired to a figure, the same way for every week's widget."""
import io


def figure_png(figure, dpi=90):
    """A matplotlib figure as PNG bytes; the figure is closed (no leak across redraws)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    plt.close(figure)
    return buffer.getvalue()


def linked_figure(draw, controls):
    """The ``controls`` (name -> ipywidget) above a picture of ``draw(**their values)``.

    ``draw`` returns a Figure, or a (Figure, data) pair. The picture becomes the Output
    widget's content instead of being displayed inside a ``with output:`` block: that
    capture (and ``ipywidgets.interactive`` with ``plt.show()``) intermittently left
    nbclient -- ``jupytext --execute``, nbval -- waiting on the cell until its timeout.
    """
    import ipywidgets
    from IPython.display import Image

    view = ipywidgets.Output()

    def redraw(change=None):
        drawn = draw(**{name: control.value for name, control in controls.items()})
        figure = drawn[0] if isinstance(drawn, tuple) else drawn
        view.outputs = ()
        view.append_display_data(Image(figure_png(figure)))

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return ipywidgets.VBox([*controls.values(), view])
