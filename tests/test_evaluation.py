"""Accuracy, per-class figures with their intervals, averages, nearest neighbours."""
import math

import numpy as np
import pytest

from lessons import evaluation


def one_hot(predicted, classes):
    return np.eye(classes)[predicted]


def test_a_report_counts_right_and_wrong_per_class():
    labels = [0, 0, 0, 1, 1, 2]
    predicted = [0, 0, 1, 1, 1, 0]
    rep = evaluation.report(labels, one_hot(predicted, 3), ["a", "b", "c"])
    assert rep.accuracy == pytest.approx(4 / 6)
    assert rep.confusion.tolist() == [[2, 1, 0], [0, 2, 0], [1, 0, 0]]
    rows = rep.per_class
    assert rows["a"]["recall"] == pytest.approx(2 / 3) and rows["a"]["support"] == 3
    assert rows["b"]["precision"] == pytest.approx(2 / 3) and rows["b"]["recall"] == 1
    assert rows["c"]["recall"] == 0 and rows["c"]["f1"] == 0
    for row in rows.values():
        assert row["recall_low"] <= row["recall"] <= row["recall_high"]
    assert rows["a"]["recall_low"] == pytest.approx(evaluation.wilson_interval(2, 3)[0])


@pytest.mark.parametrize("successes, trials, low, high", [
    # Worked values of the Wilson score interval at z = 1.96 (computed from the formula by hand).
    (5, 10, 0.2366, 0.7634),
    (10, 10, 0.7225, 1.0),
    (0, 10, 0.0, 0.2775),
    (62, 66, 0.8543, 0.9762),
])
def test_the_wilson_interval(successes, trials, low, high):
    got_low, got_high = evaluation.wilson_interval(successes, trials)
    assert float(got_low) == pytest.approx(low, abs=1e-4) and float(got_high) == pytest.approx(high, abs=1e-4)


def test_the_wilson_interval_narrows_as_photos_grow_and_stays_inside_0_1():
    trials = np.array([2, 20, 200, 2000])
    low, high = evaluation.wilson_interval(0.9 * trials, trials)
    widths = high - low
    assert np.all(np.diff(widths) < 0)
    assert widths[-1] == pytest.approx(2 * 1.96 * math.sqrt(0.9 * 0.1 / 2000), rel=0.01), "the normal approximation"
    assert np.all(low >= 0) and np.all(high <= 1)
    assert [float(v) for v in evaluation.wilson_interval(0, 0)] == [0.0, 1.0], "no photos: nothing known"


def test_micro_and_macro_averages():
    per_class = {"big": {"recall": 1.0, "support": 90}, "small": {"recall": 0.5, "support": 10}}
    assert evaluation.averages(per_class) == {"micro": pytest.approx(0.95), "macro": pytest.approx(0.75)}
    balanced = {"a": {"recall": 0.9, "support": 20}, "b": {"recall": 0.7, "support": 20}}
    result = evaluation.averages(balanced)
    assert result["micro"] == pytest.approx(result["macro"]) == pytest.approx(0.8)


def test_the_micro_average_is_the_accuracy():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 50)
    rep = evaluation.report(labels, rng.random((50, 4)), list("abcd"))
    assert evaluation.averages(rep.per_class)["micro"] == pytest.approx(rep.accuracy)


def test_nearest_neighbour_accuracy():
    features = np.array([[1, 0.1], [1, 0.2], [0.1, 1], [0.2, 1]])
    assert evaluation.nearest_neighbour_accuracy(features, [0, 0, 1, 1]) == 1.0
    assert evaluation.nearest_neighbour_accuracy(features, [0, 1, 0, 1]) == 0.0
    assert evaluation.nearest_neighbour_accuracy(10 * features, [0, 0, 1, 1]) == 1.0, "cosine: length does not count"


def test_format_report_shows_the_intervals():
    rep = evaluation.report([0, 0, 1, 1], one_hot([0, 0, 1, 0], 2), ["cat", "dog"])
    text = evaluation.format_report(rep)
    assert "accuracy 75.0% on 4 photos" in text and "95% interval" in text
    assert "34%–100%" in text  # cat: 2 of 2 right
