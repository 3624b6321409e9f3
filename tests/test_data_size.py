"""The data-size experiment: the cut base is the base, the runs are what they say, on a tiny case."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lessons import data, data_size, mobilenetv2, paths, pipeline, splits
from lessons.figures.results import data_size_figure
from tests.conftest import weights_for_tests

TINY = 32  # the smallest input MobileNetV2 takes: the whole real network, at a fraction of the cost


@pytest.fixture(scope="module")
def sample():
    dataset = data.scan(paths.SAMPLE_DATA, progress=False)
    split = splits.split(dataset, seed=0)
    load = lambda part: pipeline.load_images(dataset.paths(getattr(split, part)), TINY, progress=False)  # noqa: E731
    return load("train"), dataset.labels[split.train], load("test"), dataset.labels[split.test]


@pytest.fixture(scope="module")
def classifier():
    return mobilenetv2.build_classifier(10, TINY, weights=weights_for_tests())


@pytest.mark.parametrize("block", ["block_16", "block_15", 3])
def test_lower_then_upper_is_the_base(classifier, sample, block):
    pixels = sample[0][:8]
    lower, upper = data_size.split_base(classifier, block)
    pooled = np.asarray(upper(lower(pixels))).mean(axis=(1, 2))
    expected = np.asarray(mobilenetv2.features_model(classifier)(pixels))
    np.testing.assert_allclose(pooled, expected, rtol=1e-4, atol=1e-4)
    first = mobilenetv2.base_of(classifier).get_layer(mobilenetv2.first_layer_of(classifier, block)[1])
    assert upper.input.shape == first.input.shape


def test_trainable_copy_is_independent_with_batchnorm_frozen(classifier):
    import keras

    _, upper = data_size.split_base(classifier)
    copy = data_size.trainable_copy(upper)
    norms = [layer for layer in copy.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and not any(layer.trainable for layer in norms)
    assert all(layer.trainable for layer in copy.layers if layer.weights and layer not in norms)
    before = upper.get_weights()
    copy.trainable_weights[0].assign(copy.trainable_weights[0] + 1)
    for a, b in zip(upper.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_fine_tuning_moves_the_weights_but_not_the_batchnorm_statistics(classifier, sample):
    import keras

    lower, upper = data_size.split_base(classifier)
    activations = np.asarray(lower(sample[0]))
    tuned = data_size._Trainer(data_size._head_on(keras.Input(activations.shape[1:]), classifier,
                                                  data_size.trainable_copy(upper)), lr=1e-3, label_smoothing=0.1)
    body = tuned.model.layers[1]
    before = {layer.name: [w.numpy().copy() for w in layer.weights] for layer in body.layers if layer.weights}
    tuned.train(activations, sample[1], steps=3, batch_size=16, seed=0)
    for layer in body.layers:
        if not layer.weights:
            continue
        changed = any(not np.array_equal(w.numpy(), b) for w, b in zip(layer.weights, before[layer.name]))
        assert changed == (not isinstance(layer, keras.layers.BatchNormalization)), layer.name


def test_draws_take_that_many_photos_of_each_class():
    labels = np.repeat(np.arange(4), [5, 6, 7, 8])
    chosen = data_size.draw_per_class(labels, 3, np.random.default_rng(0))
    assert len(set(chosen)) == len(chosen) == 12
    assert np.bincount(labels[chosen]).tolist() == [3, 3, 3, 3]
    again = data_size.draw_per_class(labels, 3, np.random.default_rng(0))
    np.testing.assert_array_equal(chosen, again)
    assert not np.array_equal(chosen, data_size.draw_per_class(labels, 3, np.random.default_rng(1)))


def test_gain_is_a_paired_t_interval():
    probe = [np.array([0.5, 0.6, 0.7]), np.array([0.8])]
    tuned = [np.array([0.6, 0.6, 0.9]), np.array([0.9])]
    curve = data_size.DataSizeCurve([2, 5], {data_size.PROBE: probe, data_size.FINE_TUNED: tuned}, 10, "block_16",
                                    {}, 0.0, 0.0)
    mean, low, high = curve.gain()
    differences = np.array([0.1, 0.0, 0.2])
    half = 4.30 * differences.std(ddof=1) / np.sqrt(3)  # t with 2 degrees of freedom
    np.testing.assert_allclose([mean[0], low[0], high[0]], [0.1, 0.1 - half, 0.1 + half])
    assert mean[1] == pytest.approx(0.1) and low[1] == -np.inf and high[1] == np.inf
    assert curve.verdicts() == ["no clear difference"] * 2


def test_a_clear_difference_needs_more_than_one_test_photo():
    probe = [np.array([0.15, 0.15]), np.array([0.5, 0.6, 0.5])]
    tuned = [np.array([0.2, 0.2]), np.array([0.6, 0.7, 0.6])]  # one photo twice; two photos thrice
    curve = data_size.DataSizeCurve([1, 2], {data_size.PROBE: probe, data_size.FINE_TUNED: tuned}, 20, "block_16",
                                    {}, 0.0, 0.0)
    assert curve.verdicts() == ["no clear difference", "fine-tuning ahead"]
    swapped = data_size.DataSizeCurve([1, 2], {data_size.PROBE: tuned, data_size.FINE_TUNED: probe}, 20,
                                      "block_16", {}, 0.0, 0.0)
    assert swapped.verdicts() == ["no clear difference", "the probe ahead"]


def test_a_tiny_experiment_and_what_each_strategy_trains(classifier, sample):
    x_train, y_train, x_test, y_test = sample
    before = [w.copy() for w in classifier.get_weights()]
    curve = data_size.accuracy_by_data_size(classifier, x_train, y_train, x_test, y_test, photos_per_class=(1, None),
                                            runs=2, head_steps=20, fine_tune_steps=0)
    fewest = int(np.bincount(y_train).min())
    assert curve.photos_per_class == [1, fewest]
    assert curve.test_photos == len(y_test)
    for strategy in data_size.STRATEGIES:
        assert [len(a) for a in curve.accuracy[strategy]] == [2, 2]
        scores = np.concatenate(curve.accuracy[strategy])
        np.testing.assert_allclose(scores * len(y_test), np.round(scores * len(y_test)), atol=1e-9)
    # Zero phase-2 steps: the fine-tuned model is phase 1's head on an unchanged base.
    for probe, tuned in zip(curve.accuracy[data_size.PROBE], curve.accuracy[data_size.FINE_TUNED]):
        np.testing.assert_array_equal(probe, tuned)
    np.testing.assert_array_equal(curve.gain()[0], 0)
    assert curve.cache_seconds > 0 and curve.train_seconds > 0
    assert len(curve.format().splitlines()) == 3
    for a, b in zip(classifier.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    head = sum(row["trainable"] for row in mobilenetv2.block_table(classifier) if row["part"] == "head")
    assert curve.trainable[data_size.PROBE] == head == 1280 * 10 + 10
    # What set_trainable_from(model, "block_16") would train: block 16, the top conv, the head.
    unfrozen = mobilenetv2.build_classifier(10, TINY, weights="none")
    mobilenetv2.set_trainable_from(unfrozen, data_size.CUT)
    assert curve.trainable[data_size.FINE_TUNED] == sum(row["trainable"] for row in mobilenetv2.block_table(unfrozen))
    fig = data_size_figure(curve, num_classes=10)
    assert len(fig.axes[0].lines) == 3  # two strategies and chance
    plt.close(fig)


def test_asking_for_more_photos_than_a_class_has(classifier, sample):
    x_train, y_train, x_test, y_test = sample
    with pytest.raises(ValueError, match="smallest class has"):
        data_size.accuracy_by_data_size(classifier, x_train, y_train, x_test, y_test, photos_per_class=(1000,))
