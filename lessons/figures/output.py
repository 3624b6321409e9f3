"""A drawn figure handed on: to an ipywidget as PNG bytes, or to Gradio as a Figure.

Some figure functions return a (Figure, numbers) pair, so that a notebook or a test can
read what was drawn; whoever only shows the picture takes :func:`figure_of` it. Both
hand-overs close the figure in pyplot: a widget or a site redraws on every change, and
pyplot would otherwise keep every figure it ever drew.

Public API: :func:`figure_of`, :func:`png`, :func:`closed`.
"""
import io


def figure_of(drawn):
    """The Figure of what a figure function returned: a Figure or a (Figure, numbers) pair."""
    return drawn[0] if isinstance(drawn, tuple) else drawn


def png(drawn, dpi=90):
    """The figure as PNG bytes; the figure is closed."""
    import matplotlib.pyplot as plt

    figure = figure_of(drawn)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    plt.close(figure)
    return buffer.getvalue()


def closed(drawn):
    """The Figure, closed in pyplot, for a ``gr.Plot`` (Gradio renders it itself)."""
    import matplotlib.pyplot as plt

    figure = figure_of(drawn)
    plt.close(figure)
    return figure
