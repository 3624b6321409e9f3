"""BatchNormalization in training mode: the demonstration measures what it says."""
import keras
import numpy as np
import pytest

from lessons import batchnorm, checkpoint, data, mobilenetv2, paths, pipeline
from tests.conftest import SMALL_SIZE


@pytest.fixture(scope="module")
def pixels():
    dataset = data.scan(paths.SAMPLE_DATA, progress=False)
    return pipeline.load_images(dataset.paths(range(0, 100, 10)), SMALL_SIZE, progress=False)


def moving_means(model):
    return np.concatenate([layer.moving_mean.numpy() for layer in batchnorm.batchnorm_layers(model)])


def test_the_copy_has_the_same_weights_and_the_chosen_batchnorm_flag(small_classifier):
    for trainable in (True, False):
        copy = batchnorm.copy_with_trainable_batchnorm(small_classifier, trainable)
        assert copy is not small_classifier
        for a, b in zip(copy.get_weights(), small_classifier.get_weights()):
            np.testing.assert_array_equal(a, b)
        layers = batchnorm.batchnorm_layers(copy)
        assert len(layers) == 52 and all(layer.trainable == trainable for layer in layers)
        convs = [layer for layer in mobilenetv2.base_of(copy).layers if isinstance(layer, keras.layers.Conv2D)]
        assert all(layer.trainable for layer in convs), "unfrozen whole, as for fine-tuning"


def test_inference_mode_predicts_like_the_model(small_classifier, pixels):
    copy = batchnorm.copy_with_trainable_batchnorm(small_classifier)
    np.testing.assert_allclose(batchnorm.predictor(copy)(pixels, 4), small_classifier.predict(pixels, verbose=0),
                               atol=1e-5)


def test_batch_statistics_depend_on_the_batch_only_when_batchnorm_is_trainable(small_classifier, pixels):
    frozen = batchnorm.copy_with_trainable_batchnorm(small_classifier, trainable=False)
    reference = batchnorm.predictor(frozen)(pixels)
    np.testing.assert_allclose(batchnorm.predictor(frozen, batch_statistics=True)(pixels, 1), reference, atol=1e-5)

    trainable = batchnorm.copy_with_trainable_batchnorm(small_classifier)
    predict = batchnorm.predictor(trainable, batch_statistics=True)
    alone, in_pairs = predict(pixels, 1), predict(pixels, 2)
    assert not np.allclose(alone, reference, atol=1e-3)
    assert not np.allclose(alone, in_pairs, atol=1e-3), "a photo's prediction depends on its batch-mates"


def test_fit_moves_the_statistics_only_of_trainable_batchnorm(small_classifier, pixels):
    before = moving_means(small_classifier)
    moved = batchnorm.fit_changes_moving_statistics(small_classifier, pixels[:4])
    assert moved == {"BatchNormalization frozen": False, "BatchNormalization trainable": True}
    np.testing.assert_array_equal(moving_means(small_classifier), before)  # the caller's model is untouched


def test_accuracy_by_batch_size_reports_each_setting(small_classifier, pixels):
    labels = np.arange(10)
    before = moving_means(small_classifier)
    results = batchnorm.accuracy_by_batch_size(small_classifier, pixels, labels, batch_sizes=(1, 5))
    assert list(results) == ["moving statistics", 1, 5]
    expected = float(np.mean(small_classifier.predict(pixels, verbose=0).argmax(1) == labels))
    assert results["moving statistics"] == expected
    # Each batch size's entry is the accuracy of batches of that size normalised by their own statistics.
    predict = batchnorm.predictor(batchnorm.copy_with_trainable_batchnorm(small_classifier), batch_statistics=True)
    for size in (1, 5):
        assert results[size] == float(np.mean(predict(pixels, size).argmax(1) == labels)), size
    np.testing.assert_array_equal(moving_means(small_classifier), before)


def test_batch_statistics_wreck_the_reference_checkpoint(reference):
    """The notebook's claim, on the real trained model: one photo per batch is near chance."""
    model = keras.models.load_model(reference / checkpoint.MODEL_FILE, safe_mode=True)
    dataset = data.scan(paths.SAMPLE_DATA, progress=False)
    chosen = np.concatenate([np.flatnonzero(dataset.labels == c)[:2] for c in range(10)])
    pixels = pipeline.load_images(dataset.paths(chosen), model.input.shape[1], progress=False)
    results = batchnorm.accuracy_by_batch_size(model, pixels, dataset.labels[chosen], batch_sizes=(1,))
    assert results["moving statistics"] >= 0.7, results
    assert results[1] <= 0.3, results
