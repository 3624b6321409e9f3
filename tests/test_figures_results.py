"""The pictures of a training run and its model: the curves, bars and photos they show."""
import matplotlib

import numpy as np
import pytest

from lessons import evaluation
from lessons.figures import results as figures
from tests.conftest import images_in


def history(phase1, phase2):
    return [{"epoch": e + 1, "phase": 1 if e < phase1 else 2, "loss": 1 / (e + 1), "accuracy": 0.5 + e / 40,
             "val_loss": 1.2 / (e + 1), "val_accuracy": 0.45 + e / 40} for e in range(phase1 + phase2)]


def test_the_learning_curve_marks_the_phase_boundary():
    rows = history(4, 3)
    fig = figures.learning_curve_figure(rows)
    assert len(fig.axes) == 2
    for ax, metric in zip(fig.axes, ("loss", "accuracy")):
        training, validation, boundary = ax.lines
        assert list(boundary.get_xdata()) == [4.5, 4.5]
        assert list(training.get_xdata()) == list(validation.get_xdata()) == [row["epoch"] for row in rows]
        assert list(training.get_ydata()) == [row[metric] for row in rows]
        assert list(validation.get_ydata()) == [row[f"val_{metric}"] for row in rows]
    assert figures.phase_boundary(history(4, 3)) == 4


def test_a_run_without_phase_2_has_no_boundary():
    assert figures.phase_boundary(history(5, 0)) is None
    fig = figures.learning_curve_figure(history(5, 0))
    assert all(len(ax.lines) == 2 for ax in fig.axes)


def report(sample, wrong):
    """A Report on the sample photos with ``wrong`` of them mislabelled, confidently."""
    n, classes = len(sample), len(sample.class_names)
    probabilities = np.full((n, classes), 0.01)
    predicted = sample.labels.copy()
    predicted[:wrong] = (predicted[:wrong] + 1) % classes
    probabilities[np.arange(n), predicted] = np.linspace(0.9, 0.5, n)
    return evaluation.report(sample.labels, probabilities, sample.class_names, sample.paths())


def test_per_class_accuracy_has_a_bar_per_class_and_model(sample):
    reports = {"perfect": report(sample, 0), "ten wrong": report(sample, 10)}
    fig = figures.per_class_figure(reports)
    assert len(fig.axes) == 1
    widths = [bar.get_width() for bar in fig.axes[0].patches]
    assert len(widths) == 2 * len(sample.class_names)
    assert widths[:len(sample.class_names)] == [1.0] * len(sample.class_names)
    # The first ten sample photos are all batteries: that class drops to 0.
    n = len(sample.class_names)
    assert widths[n] == 0.0 and sum(widths[n:]) == n - 1


def test_per_class_bars_carry_their_wilson_intervals(sample):
    rep = report(sample, 10)
    fig = figures.per_class_figure({"ten wrong": rep})
    ax = fig.axes[0]
    errorbar = next(c for c in ax.containers if isinstance(c, matplotlib.container.ErrorbarContainer))
    segments = errorbar.lines[2][0].get_segments()
    for segment, name in zip(segments, rep.class_names):
        row = rep.per_class[name]
        assert sorted(segment[:, 0]) == pytest.approx([row["recall_low"], row["recall_high"]])
    # The first ten sample photos (all batteries) are wrong: 0 of 10, yet the interval is not zero-width.
    assert segments[0][:, 0].max() > 0.2
    assert "10 test photos a class" in ax.get_title()


def test_the_mistakes_gallery_shows_the_most_confident_mistakes(sample):
    rep = report(sample, 7)
    fig = figures.misclassified_figure(rep, limit=5, columns=3)
    assert images_in(fig) == 5 and len(fig.axes) == 6
    titled = [ax.get_title() for ax in fig.axes if ax.images]
    first = rep.misclassified[0]
    assert titled[0] == f"{first['true']} → {first['predicted']}\n{first['confidence']:.0%} sure"
    assert "7 of 100" in fig._suptitle.get_text()


def test_no_mistakes_is_said_not_drawn(sample):
    fig = figures.misclassified_figure(report(sample, 0))
    assert images_in(fig) == 0 and "no mistakes" in fig.axes[0].texts[0].get_text()


def test_the_confusion_matrix_shows_each_cell_of_the_report(sample):
    rep = report(sample, 10)
    fig = figures.confusion_figure(rep)
    (ax,) = fig.axes
    np.testing.assert_allclose(ax.images[0].get_array(), rep.confusion / rep.confusion.sum(axis=1, keepdims=True))
    cells = np.argwhere(rep.confusion)  # only the non-empty cells are labelled
    assert [(round(t.get_position()[1]), round(t.get_position()[0])) for t in ax.texts] == [tuple(c) for c in cells]
    assert f"{rep.accuracy:.1%}" in ax.get_title()
    counted = figures.confusion_figure(rep, normalize=False).axes[0]
    assert [t.get_text() for t in counted.texts] == [str(rep.confusion[i, j]) for i, j in cells]
