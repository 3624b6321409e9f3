"""Week 1's widget: its sliders redraw the convolution-cost figure (callbacks nbval never runs)."""
import base64

import matplotlib.pyplot as plt

from lessons.figures import conv_cost, output
from widgets.conv_cost import show_conv_cost



def picture(shown):
    (drawn,) = shown.children[-1].outputs
    return base64.b64decode(drawn["data"]["image/png"])  # the Output widget keeps it as text


def test_the_sliders_start_at_the_arguments_and_redraw_the_figure():
    shown = show_conv_cost(kernel_size=5, c_in=32, c_out=64, size=28)
    sliders = {child.description: child for child in shown.children[:-1]}
    assert {name: slider.value for name, slider in sliders.items()} == {"K": 5, "C_in": 32, "C_out": 64, "map size": 28}
    assert (sliders["K"].min, sliders["K"].max) == (1, 7)
    assert sliders["C_out"].max >= 1280 and sliders["map size"].max >= 224
    first = picture(shown)
    assert first == output.png(conv_cost.conv_cost_figure(5, 32, 64, 28))  # the figure of these values
    sliders["K"].value = 3
    assert picture(shown) == output.png(conv_cost.conv_cost_figure(3, 32, 64, 28)) != first
    assert plt.get_fignums() == []  # every figure drawn for the widget is closed
