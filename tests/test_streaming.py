"""Photos streamed from disk: the same pixels and order as loading them all, and bad photos named."""
import json
import shutil
import time

import numpy as np
import pytest

from lessons import checkpoint, data, pipeline, streaming
from lessons.inference import Predictor
from lessons.paths import SAMPLE_DATA
from tests.conftest import run_cli

SIZE = 64
PHOTOS = sorted(SAMPLE_DATA.glob("*/*.jpg"))


@pytest.fixture
def photos(tmp_path):
    """A private copy of the sample photos, which a test may damage."""
    folder = shutil.copytree(SAMPLE_DATA, tmp_path / "photos")
    return sorted(folder.glob("*/*.jpg"))


def damage(path):
    path.write_bytes(b"no longer a photo")


def test_the_batches_hold_the_pixels_labels_and_order_of_the_loaded_array():
    labels = np.arange(len(PHOTOS)) % 7
    batches = list(streaming.PhotoStream(PHOTOS, SIZE, labels).batches(batch_size=32))
    assert [len(index) for index, _, _ in batches] == [32, 32, 32, 4]
    index, pixels, streamed_labels = (np.concatenate(part) for part in zip(*batches))
    assert index.tolist() == list(range(len(PHOTOS))) and streamed_labels.tolist() == labels.tolist()
    assert pixels.dtype == np.uint8 and np.array_equal(pixels, pipeline.load_images(PHOTOS, SIZE, progress=False))


def test_training_batches_of_a_stream_are_those_of_the_loaded_array_epoch_after_epoch():
    """tf.data reads the stream batch by batch, in the order it shuffles the array: same seed, same batches."""
    labels = np.arange(len(PHOTOS)) % 10
    streamed = pipeline.batches(streaming.PhotoStream(PHOTOS, SIZE, labels), labels, 10, 16, shuffle_seed=3)
    loaded = pipeline.batches(pipeline.load_images(PHOTOS, SIZE, progress=False), labels, 10, 16, shuffle_seed=3)
    for epoch in range(2):  # reshuffled each epoch, identically
        for (x1, y1), (x2, y2) in zip(streamed, loaded, strict=True):
            assert x1.dtype == x2.dtype and np.array_equal(x1, x2) and np.array_equal(y1, y2)


def test_training_batches_leave_out_an_unreadable_photo_with_its_label(photos):
    labels = np.arange(len(photos)) % 10
    damage(photos[5])
    stream = streaming.PhotoStream(photos, SIZE, labels, skip_bad=True)
    batches = list(pipeline.batches(stream, labels, 10, 16))
    assert sum(len(x) for x, _ in batches) == len(photos) - 1 and stream.skipped == [str(photos[5])]
    first = np.concatenate([y for _, y in batches]).argmax(1)
    assert first.tolist() == np.delete(labels, 5).tolist()


def test_predictions_are_those_of_the_loaded_array(small_checkpoint):
    clf = Predictor.load(small_checkpoint, "keras")
    found, _, probabilities = streaming.PhotoStream(PHOTOS, clf.image_size).predict(clf.predict_pixels,
                                                                                   progress=False)
    expected = clf.predict_pixels(pipeline.load_images(PHOTOS, clf.image_size, progress=False))
    assert found.tolist() == list(range(len(PHOTOS)))
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)


def test_a_photo_unreadable_mid_stream_stops_the_run_naming_it(photos):
    stream = streaming.PhotoStream(photos, SIZE)  # listed while readable, as after a scan
    damage(photos[41])
    with pytest.raises(data.DataError, match=rf"{photos[41]} could not be read during the run.*--skip-bad-files"):
        stream.predict(lambda batch: np.zeros((len(batch), 2)), progress=False)


def test_skipping_leaves_the_photo_out_and_keeps_the_labels_in_step(photos):
    labels = np.arange(len(photos))
    stream = streaming.PhotoStream(photos, SIZE, labels, skip_bad=True)
    for broken in (photos[0], photos[63], photos[64]):  # the first photo, and both sides of a batch boundary
        damage(broken)
    found, found_labels, probabilities = stream.predict(lambda batch: batch.reshape(len(batch), -1)[:, :1],
                                                        progress=False)
    assert sorted(stream.skipped) == sorted(str(p) for p in (photos[0], photos[63], photos[64]))
    assert found.tolist() == [i for i in range(len(photos)) if i not in (0, 63, 64)]
    assert found_labels.tolist() == found.tolist() and len(probabilities) == len(found)


def test_nothing_readable_is_an_error_not_an_empty_report(photos):
    stream = streaming.PhotoStream(photos[:3], SIZE, skip_bad=True)
    for photo in photos[:3]:
        damage(photo)
    with pytest.raises(data.DataError, match="none of the 3 photos could be read"):
        stream.predict(lambda batch: batch, progress=False)


def test_evaluate_names_a_test_photo_that_turned_unreadable_or_skips_it(small_checkpoint, photos):
    folder = photos[0].parent.parent
    first_test_photo = checkpoint.read_split(small_checkpoint).test[0]
    damage(folder / first_test_photo)
    command = ("evaluate", "--checkpoint", small_checkpoint, "--split", "test", "--data", folder, "--json")
    stopped = run_cli(*command, check=False)
    assert stopped.returncode != 0 and first_test_photo in stopped.stderr and not stopped.stdout
    skipped = run_cli(*command, "--skip-bad-files")
    _, meta = checkpoint.read(small_checkpoint)
    assert json.loads(skipped.stdout)["photos"] == meta.test.photos - 1
    assert f"skipped, could not be read: {folder / first_test_photo}" in skipped.stderr


def test_only_a_few_batches_are_decoded_ahead_of_the_one_in_hand(monkeypatch):
    decoded = []
    load = streaming.images.load_pixels
    monkeypatch.setattr(streaming.images, "load_pixels", lambda path, size: decoded.append(path) or load(path, size))
    batches = streaming.PhotoStream(PHOTOS, SIZE).batches(batch_size=8, read_ahead=2)
    next(batches)
    time.sleep(0.5)  # time for the pool to run all it was given; it must not have been given more
    assert 8 <= len(decoded) <= 8 * 4, len(decoded)  # the batch in hand, two ahead, and the one just asked for
    batches.close()
