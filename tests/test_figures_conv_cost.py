"""Week 1's figures draw the numbers of lessons.convcost."""
import numpy as np
import pytest

from lessons import convcost
from lessons.figures import conv_cost as figures



def bar_tops(ax):
    """Height of each bar stack, left to right."""
    tops = {}
    for patch in ax.patches:
        x = round(patch.get_x() + patch.get_width() / 2)
        tops[x] = max(tops.get(x, 0), patch.get_y() + patch.get_height())
    return [tops[x] for x in sorted(tops)]


def test_short_numbers():
    assert [figures.short(n) for n in (5, 8_768, 73_728, 231_211_008, 1_224_972_288)] == \
        ["5", "8.77 k", "73.7 k", "231 M", "1.22 G"]


def test_the_figure_shows_the_numbers_of_lessons():
    fig, numbers = figures.conv_cost_figure(3, 64, 128, 56)
    assert numbers == convcost.conv_costs(3, 64, 128, 56)
    params_ax, macs_ax, ratio_ax = fig.axes
    assert bar_tops(params_ax) == [73_728, 8_768]
    assert bar_tops(macs_ax) == [231_211_008, 27_496_448]
    assert [text.get_text() for text in params_ax.texts] == ["73.7 k", "8.77 k"]
    assert "8.4× fewer" in fig.get_suptitle() and "0.119" in fig.get_suptitle()
    # The layer's dot sits on the curve 1/C_out + 1/K².
    dot = ratio_ax.lines[-1]
    assert dot.get_xdata()[0] == 128 and dot.get_ydata()[0] == pytest.approx(1 / 128 + 1 / 9)


def test_the_stacked_bar_has_the_depthwise_part_at_the_bottom():
    fig, numbers = figures.conv_cost_figure(5, 32, 16, 10)
    depthwise, pointwise = fig.axes[1].patches[1:]
    assert depthwise.get_height() == numbers["depthwise"].macs
    assert (pointwise.get_y(), pointwise.get_height()) == (numbers["depthwise"].macs, numbers["pointwise"].macs)


def test_a_one_by_one_depthwise_conv_costs_more():
    fig, numbers = figures.conv_cost_figure(1, 32, 16, 112)
    assert numbers["ratio"] > 1
    assert "more" in fig.get_suptitle() and "fewer" not in fig.get_suptitle()


def test_the_ratio_figure():
    fig = figures.ratio_figure(kernel_sizes=(3, 7), c_out_max=512)
    ax = fig.axes[0]
    curves = [line for line in ax.lines if line.get_label().startswith("K =")]
    assert [line.get_label() for line in curves] == ["K = 3", "K = 7"]
    for k, line in zip((3, 7), curves):
        c_out = line.get_xdata()
        assert c_out[0] == 1 and c_out[-1] == 512
        np.testing.assert_allclose(line.get_ydata(), 1 / c_out + 1 / k**2)
    floors = [line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--"]
    assert floors == pytest.approx([1 / 9, 1 / 49])
