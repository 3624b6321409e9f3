"""A figure handed on as PNG bytes or to Gradio, and closed in pyplot either way."""
import io

import matplotlib.pyplot as plt
from PIL import Image

from lessons.figures import output



def test_png_is_the_figure_at_its_size_and_closes_it():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [1, 0])
    png = output.png((fig, {"numbers": "beside the figure"}), dpi=50)
    assert Image.open(io.BytesIO(png)).size == (4 * 50, 3 * 50)
    assert plt.get_fignums() == []


def test_closed_hands_over_the_figure_of_a_pair():
    fig = plt.figure()
    assert output.closed((fig, 42)) is fig and output.figure_of(fig) is fig
    assert plt.get_fignums() == []
