"""Phase 1's feature cache: the timing and the augmentation shift measure what they say."""
import numpy as np
import pytest

from lessons import data, feature_cache, paths, pipeline
from tests.conftest import SMALL_SIZE


@pytest.fixture(scope="module")
def sample():
    dataset = data.scan(paths.SAMPLE_DATA, progress=False)
    chosen = np.arange(0, 100, 5)
    return pipeline.load_images(dataset.paths(chosen), SMALL_SIZE, progress=False), dataset.labels[chosen]


def test_timing_phase1_both_ways_leaves_the_model_alone(small_classifier, sample):
    pixels, labels = sample
    before = [w.copy() for w in small_classifier.get_weights()]
    timing = feature_cache.time_phase1(small_classifier, pixels, labels, batch_size=8)
    assert timing.photos == len(pixels)
    assert min(timing.graph_epoch, timing.feature_pass, timing.cached_epoch) > 0
    assert timing.cached_epoch < timing.graph_epoch, "an epoch on 1280 numbers a photo beats one through the base"
    assert timing.epoch_speedup == timing.graph_epoch / timing.cached_epoch
    for a, b in zip(small_classifier.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_total_time_counts_one_feature_pass_per_cached_copy():
    timing = feature_cache.CacheTiming(graph_epoch=10.0, feature_pass=9.0, cached_epoch=0.1, photos=100)
    assert timing.total(30) == (300.0, 9.0 + 3.0)
    assert timing.total(30, copies=5) == (300.0, 45.0 + 3.0)


def test_no_augmentation_means_no_shift_and_real_augmentation_moves_features(small_classifier, sample):
    pixels, _ = sample
    still = feature_cache.augmentation_shift(small_classifier, pixels, lambda x, training: x)
    np.testing.assert_allclose(still.augmented_vs_plain, 0, atol=1e-5)
    np.testing.assert_allclose(still.two_copies, 0, atol=1e-5)
    assert (still.nearest_other > 0).all()
    moved = feature_cache.augmentation_shift(small_classifier, pixels, pipeline.augmentation(seed=3))
    assert len(moved.augmented_vs_plain) == len(pixels)
    assert np.median(moved.augmented_vs_plain) > 0.01 and np.median(moved.two_copies) > 0.01
