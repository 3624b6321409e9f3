"""Controls wired to a figure, the same way for every week's widget.

Public API: :func:`linked_figure`.
"""
from lessons.figures import output


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
        picture = output.png(draw(**{name: control.value for name, control in controls.items()}))
        view.outputs = ()
        view.append_display_data(Image(picture))

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return ipywidgets.VBox([*controls.values(), view])
