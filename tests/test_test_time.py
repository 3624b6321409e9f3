"""lessons.test_time: flip, ten crops and ensembles: the views, the passes they cost, the photos they use."""
import numpy as np
import pytest

from lessons import checkpoint, paths, test_time
from lessons.checkpoint import CheckpointError


def gradient_photos(n=2, size=32):
    """Photos whose pixels say where they are: red grows left to right, green top to bottom."""
    x = np.linspace(0, 255, size).round().astype(np.uint8)
    photo = np.stack([np.tile(x, (size, 1)), np.tile(x[:, None], (1, size)), np.full((size, size), 7, np.uint8)], -1)
    return np.stack([photo] * n)


class Counting:
    """A fake network: counts the images it is given; its 'probabilities' are each image's mean colour."""

    def __init__(self):
        self.images = 0
        self.calls = 0

    def __call__(self, pixels):
        self.images += len(pixels)
        self.calls += 1
        return pixels.reshape(len(pixels), -1, 3).mean(axis=1)


def test_five_crops_of_224_out_of_256_are_the_corners_and_the_centre():
    assert test_time.crop_boxes(256) == [(0, 0, 224), (32, 0, 224), (0, 32, 224), (32, 32, 224), (16, 16, 224)]
    assert test_time.crop_boxes(96)[-1] == (6, 6, 84)  # round(96 * 7 / 8) = 84


def test_ten_crops_are_five_views_and_their_mirror_images():
    photos = gradient_photos(n=3)
    crops = test_time.ten_crops(photos)
    assert crops.shape == (3, 10, 32, 32, 3) and crops.dtype == np.uint8
    np.testing.assert_array_equal(crops[:, 5:], crops[:, :5, :, ::-1])
    red, green = crops[0, :5, 16, 16, 0].astype(int), crops[0, :5, 16, 16, 1].astype(int)
    # top-left, top-right, bottom-left, bottom-right, centre: where each crop's middle lies.
    assert red[0] < red[4] < red[1] and red[2] < red[4] < red[3]
    assert green[0] < green[4] < green[2] and green[1] < green[4] < green[3]


def test_a_flat_photo_looks_the_same_in_every_crop():
    flat = np.full((1, 40, 40, 3), 90, np.uint8)
    assert (test_time.ten_crops(flat) == 90).all()


@pytest.mark.parametrize("name", list(test_time.PASSES))
def test_each_variant_costs_its_number_of_passes(name):
    network = Counting()
    predict = test_time.variants(network)[name]
    probabilities = predict(gradient_photos(n=4))
    assert probabilities.shape == (4, 3)
    assert network.images == 4 * test_time.PASSES[name]


def test_ten_crops_go_through_the_network_as_one_batch_and_are_averaged():
    network = Counting()
    photos = gradient_photos(n=2)
    result = test_time.with_ten_crops(network)(photos)
    assert network.calls == 1
    expected = test_time.ten_crops(photos).reshape(2, 10, -1, 3).mean(axis=(1, 2))
    np.testing.assert_allclose(result, expected)


def test_flip_is_the_models_own_test_time_flip():
    """The reference checkpoint's flip (lessons.mobilenetv2.with_flip), not a second copy of it."""
    photos = gradient_photos(n=2)
    flipped = test_time.variants(Counting())["flip"](photos)
    np.testing.assert_allclose(flipped, (photos.mean(axis=(1, 2)) + photos[:, :, ::-1].mean(axis=(1, 2))) / 2)


def test_correct_works_in_chunks_and_compares_with_the_labels():
    network = Counting()
    photos = np.zeros((5, 8, 8, 3), np.uint8)
    photos[[1, 3], ..., 2] = 200  # blue photos: class 2
    labels = np.array([0, 2, 0, 1, 1])
    correct = test_time.correct(network, photos, labels, batch_size=2)
    assert network.calls == 3
    # All-black photos tie on every class and argmax takes class 0.
    np.testing.assert_array_equal(correct, [True, True, True, False, False])


def test_paired_change_counts_photos_fixed_and_broken():
    before = np.array([True, True, False, False, True])
    after = np.array([True, False, True, True, True])
    assert test_time.paired_change(before, after) == (2, 1)


def test_an_ensemble_multiplies_time_and_memory():
    assert test_time.ensemble(12.5, 2.7, 3) == {"models": 3, "latency_ms": 37.5, "megabytes": pytest.approx(8.1)}


def test_without_the_full_photo_set_the_sample_photos_stand_in(monkeypatch):
    def missing(*args, **kwargs):
        raise CheckpointError("the photos are not here")

    monkeypatch.setattr(checkpoint, "split_photos", missing)
    files, labels, where = test_time.reference_test_photos()
    assert len(files) == 100 and where.startswith("data/sample")
    class_names, _ = checkpoint.read(paths.REFERENCE_CHECKPOINT)
    assert all(f.parent.name == class_names[label] for f, label in zip(files, labels))
    some, _, _ = test_time.reference_test_photos(limit=20)
    assert len(some) == 20 and set(some) <= set(files)


def test_the_sample_photos_are_held_out_by_the_reference_checkpoint():
    """What makes them a fair stand-in: every one is in the reference checkpoint's test split."""
    test_split = set(checkpoint.read_split(paths.REFERENCE_CHECKPOINT).test)
    sample = {f"{p.parent.name}/{p.name}" for p in paths.SAMPLE_DATA.glob("*/*.jpg")}
    assert sample and sample <= test_split


def test_with_the_full_photo_set_the_whole_test_split_is_used():
    _, meta = checkpoint.read(paths.REFERENCE_CHECKPOINT)
    if not checkpoint.resolve_from_repo(meta.data.root).is_dir():
        pytest.skip(f"needs {meta.data.root}, the photo set the reference checkpoint was trained on")
    files, labels, where = test_time.reference_test_photos()
    assert len(files) == meta.split.counts["test"] and "test split" in where
    assert len(test_time.reference_test_photos(limit=20)[0]) == 20
