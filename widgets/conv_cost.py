"""Week 1's widget: sliders for the kernel size K, the channels C_in and C_out and the map
size, above :func:`lessons.figures.conv_cost.conv_cost_figure`.

Public API: :func:`show_conv_cost`.
"""
from lessons.figures.conv_cost import conv_cost_figure
from widgets.controls import linked_figure


def show_conv_cost(kernel_size=3, c_in=64, c_out=128, size=56):
    """The interactive version of :func:`conv_cost_figure`, for Jupyter."""
    import ipywidgets as widgets

    def slider(value, low, high, description):
        return widgets.IntSlider(value=value, min=low, max=high, description=description, continuous_update=False)

    return linked_figure(conv_cost_figure, {
        "kernel_size": slider(kernel_size, 1, 7, "K"), "c_in": slider(c_in, 1, 1280, "C_in"),
        "c_out": slider(c_out, 1, 1280, "C_out"), "size": slider(size, 1, 224, "map size")})
