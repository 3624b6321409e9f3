"""The pictures of the data before training: the counts, the photos and the augmentations they show."""

import numpy as np

from lessons import images, pipeline, splits
from lessons.figures import data as figures
from tests.conftest import images_in


def test_class_counts_stack_the_parts(sample):
    split = splits.split(sample, seed=0)
    counts = {part: sample.class_counts(getattr(split, part)) for part in ("train", "val", "test")}
    fig = figures.class_counts_figure(counts)
    (ax,) = fig.axes
    stacks = np.reshape(ax.patches, (len(counts), len(sample.class_names)))  # a row of bars a part, in order
    for part, bars in zip(counts, stacks):
        assert [bar.get_height() for bar in bars] == [counts[part][name] for name in sample.class_names]
    totals = [sample.class_counts()[name] for name in sample.class_names]
    assert [bar.get_y() + bar.get_height() for bar in stacks[-1]] == totals  # stacked: the last part ends there
    assert [text.get_text() for text in ax.texts] == [str(total) for total in totals]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == \
        [f"{part} ({sum(counts[part].values())})" for part in counts]


def test_the_photo_grid_has_a_row_per_class(sample):
    fig = figures.photo_grid_figure(sample, per_class=3, image_size=32)
    assert len(fig.axes) == 3 * len(sample.class_names)
    assert images_in(fig) == 3 * len(sample.class_names)
    assert [ax.get_ylabel() for ax in fig.axes[::3]] == list(sample.class_names)
    first = sample.paths([np.flatnonzero(sample.labels == 0)[0]])[0]
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), images.load_pixels(first, 32))


def test_the_augmentation_preview_shows_the_original_and_its_copies(sample):
    photo = pipeline.load_images(sample.paths([0]), 64, progress=False)[0]
    fig = figures.augmentation_figure(photo, pipeline.augmentation(seed=0), copies=5)
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(shown) == 6
    np.testing.assert_array_equal(shown[0], photo)
    assert any(not np.array_equal(copy, photo) for copy in shown[1:]), "augmentation changed something"
