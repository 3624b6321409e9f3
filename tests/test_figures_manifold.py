"""Week 2's spiral figures draw the points and errors of lessons.manifold."""
import numpy as np

from lessons import manifold
from lessons.figures import manifold as figures



def drawn_points(ax):
    """The scattered points of one panel, in order along the spiral."""
    (points,) = ax.collections
    return points.get_offsets()


def test_recovery_figure_draws_both_recoveries_over_the_original():
    fig = figures.recovery_figure(3, "relu6", radius=4, seed=1)
    result = manifold.recovery(3, "relu6", radius=4, seed=1)
    paper, recovered = fig.axes
    np.testing.assert_allclose(drawn_points(paper), result["paper"])
    np.testing.assert_allclose(drawn_points(recovered), result["recovered"])
    np.testing.assert_allclose(np.column_stack(recovered.lines[0].get_data()), result["original"])
    assert f"error {result['error']:.3f}" in recovered.get_title()
    assert f"unrecoverable points {result['lost']:.0%}" in recovered.get_title()
    assert "3 dimensions → ReLU6" in fig.get_suptitle()


def test_figure1_has_a_column_per_n():
    dims = (2, 30)
    fig = figures.figure1(dims=dims)
    assert len(fig.axes) == 2 * len(dims)
    top = [ax.get_title() for ax in fig.axes[:len(dims)]]
    assert [title.split(":")[0] for title in top] == [f"n = {n}" for n in dims]
    for ax, n in zip(fig.axes[len(dims):], dims):
        np.testing.assert_allclose(drawn_points(ax), manifold.recovery(n, "relu")["recovered"])


def test_error_figure_draws_each_curve():
    dims = (2, 3, 30)
    curves = manifold.error_curves(dims, trials=3)
    fig = figures.error_figure(curves, dims, trials=3)
    lines = fig.axes[0].lines
    assert [line.get_label() for line in lines] == [manifold.LABELS[name] for name in curves]
    for line, errors in zip(lines, curves.values()):
        assert list(line.get_xdata()) == list(dims) and list(line.get_ydata()) == errors
    assert "3 random T" in fig.axes[0].get_title()
