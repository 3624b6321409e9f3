"""Phase 1's feature cache: what it saves, and why augmentation rules it out.

In phase 1 the base is frozen, so a photo's pooled base features are the same at every
epoch. :func:`lessons.training.run_phase1` computes them once (one pass through the
base) and then trains the head alone on a (photos x 1280) array: an epoch no longer
passes through the 150 layers of the base. :func:`time_phase1` measures what that
saves. The cache is exact only if every epoch sees the same photos: with random
augmentation each epoch sees new copies, whose features differ
(:func:`augmentation_shift`), and a cache of one copy would train on that copy forever.

Public API: :class:`CacheTiming`, :func:`time_phase1`, :class:`AugmentationShift`,
:func:`augmentation_shift`.
"""
import statistics
import time
from dataclasses import dataclass

import numpy as np

from lessons import mobilenetv2, pipeline


@dataclass
class CacheTiming:
    """Seconds of phase 1 both ways, on the same photos (tracing excluded from all three)."""

    graph_epoch: float  # one epoch of the classifier, through the frozen base
    feature_pass: float  # the one-off pass that fills the cache
    cached_epoch: float  # one epoch of the head on the cached features
    photos: int

    @property
    def epoch_speedup(self):
        return self.graph_epoch / self.cached_epoch

    def total(self, epochs, copies=1):
        """(through the graph, with the cache) for ``epochs`` epochs; ``copies`` augmented
        copies of each photo in the cache cost one feature pass each."""
        return epochs * self.graph_epoch, copies * self.feature_pass + epochs * self.cached_epoch


def time_phase1(model, pixels, labels, batch_size=32, repeats=1):
    """Time a phase-1 epoch through the frozen graph and on cached features.

    Works on a copy of ``model`` (a classifier from :func:`lessons.mobilenetv2.build_classifier`),
    so the caller's weights are not trained. Epochs of the two kinds alternate so that a
    busy machine slows both alike; each time is the median of ``repeats``.
    """
    clf = mobilenetv2.copy(model)
    mobilenetv2.set_trainable_from(clf, None)
    num_classes = clf.output.shape[-1]
    extractor = mobilenetv2.features_model(clf)
    # Trace outside the timing, with two batch sizes so that the traced graph takes any batch.
    for n in (1, 2):
        extractor.predict(pixels[:n], verbose=0)
    started = time.perf_counter()
    features = mobilenetv2.predict(extractor, pixels)  # what training.extract_features does
    feature_pass = time.perf_counter() - started

    def epoch_timer(trainee, inputs):
        trainee.compile(optimizer="adam", loss="categorical_crossentropy")
        batches = pipeline.batches(inputs, labels, num_classes, batch_size, shuffle_seed=0)
        trainee.fit(batches.take(1), verbose=0, shuffle=False)  # trace the training step outside the timing

        def timed():
            started = time.perf_counter()
            trainee.fit(batches, verbose=0, shuffle=False)
            return time.perf_counter() - started
        return timed

    graph_epoch, cached_epoch = epoch_timer(clf, pixels), epoch_timer(mobilenetv2.head_model(clf), features)
    graph, cached = [], []
    for _ in range(repeats):
        graph.append(graph_epoch())
        cached.append(cached_epoch())
    return CacheTiming(statistics.median(graph), feature_pass, statistics.median(cached), len(pixels))


@dataclass
class AugmentationShift:
    """Per photo, relative distances between pooled feature vectors (‖u − v‖ / ‖v‖)."""

    augmented_vs_plain: np.ndarray  # an augmented copy vs the photo itself
    two_copies: np.ndarray  # two augmented copies of the same photo (two epochs' views)
    nearest_other: np.ndarray  # the photo vs the closest OTHER photo: the scale of "different"


def augmentation_shift(model, pixels, augment):
    """How far random augmentation moves each photo's features (what a cache would miss)."""
    features = mobilenetv2.features_model(model)
    pixels = np.asarray(pixels, dtype=np.float32)  # one dtype for all three passes: one traced graph
    embed = lambda x: mobilenetv2.predict(features, np.asarray(x, dtype=np.float32))  # noqa: E731
    plain = embed(pixels)
    first, second = (embed(augment(pixels, training=True)) for _ in range(2))
    norms = np.linalg.norm(plain, axis=1)
    between = np.linalg.norm(plain[:, None] - plain[None], axis=2)
    np.fill_diagonal(between, np.inf)
    return AugmentationShift(augmented_vs_plain=np.linalg.norm(first - plain, axis=1) / norms,
                             two_copies=np.linalg.norm(first - second, axis=1) / norms,
                             nearest_other=between.min(axis=1) / norms)
