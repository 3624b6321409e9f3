"""Test-time augmentation, multi-crop and ensembling: more views of a photo, more time.

A classifier can look at a photo more than once and average its probabilities:

* **flip**: the photo and its mirror image (:func:`lessons.mobilenetv2.with_flip`, which the
  reference checkpoint uses): 2 passes through the network;
* **10 crops**: the four corners and the centre, each 7/8 of the side (224 of 256, the
  classic ratio), scaled back to the model's size, and the mirror image of each: 10 passes;
* **an ensemble** of N separately trained models: N passes of N networks, N times the memory.

Each pass costs a whole network's time: :func:`variants` builds the single, flip and 10-crop
predictors from one batch predictor, so that their accuracy and their latency are measured on
the same photos with the same runtime.

Public API: :data:`PASSES`, :func:`crop_boxes`, :func:`ten_crops`, :func:`with_ten_crops`,
:func:`variants`, :func:`correct`, :func:`reference_test_photos`, :func:`paired_change`,
:func:`ensemble`.
"""
import numpy as np
from PIL import Image

from lessons import checkpoint, data, paths
from lessons import mobilenetv2
from lessons.checkpoint import CheckpointError

CROP_FRACTION = 224 / 256
PASSES = {"one view": 1, "flip": 2, "10 crops": 10}


def crop_boxes(size, fraction=CROP_FRACTION):
    """(left, top, side) of the five crops of a ``size`` square: four corners, then the centre."""
    side = round(size * fraction)
    far, middle = size - side, (size - side) // 2
    return [(0, 0, side), (far, 0, side), (0, far, side), (far, far, side), (middle, middle, side)]


def ten_crops(pixels, fraction=CROP_FRACTION):
    """(n, 10, size, size, 3): the five crops of each photo scaled back to its size, then their mirrors."""
    pixels = np.asarray(pixels)
    size = pixels.shape[1]
    out = np.empty((len(pixels), 10, *pixels.shape[1:]), dtype=pixels.dtype)
    for i, photo in enumerate(pixels):
        image = Image.fromarray(photo)
        for j, (left, top, side) in enumerate(crop_boxes(size, fraction)):
            crop = image.crop((left, top, left + side, top + side))
            out[i, j] = np.asarray(crop.resize((size, size), Image.Resampling.BILINEAR))
    out[:, 5:] = out[:, :5, :, ::-1]  # mirror images: flip the width axis
    return out


def with_ten_crops(predict_batch, fraction=CROP_FRACTION):
    """``predict_batch`` averaged over the ten crops of every photo of the batch."""
    def predict(pixels):
        crops = ten_crops(pixels, fraction)
        probabilities = predict_batch(crops.reshape(-1, *crops.shape[2:]))
        return probabilities.reshape(len(crops), 10, -1).mean(axis=1)
    return predict


def variants(predict_batch):
    """{name: predictor} for one view, flip and 10 crops; the names are those of :data:`PASSES`."""
    return {"one view": predict_batch, "flip": mobilenetv2.with_flip(predict_batch), "10 crops": with_ten_crops(predict_batch)}


def correct(predict, pixels, labels, batch_size=16):
    """For every photo, whether ``predict``'s top class is its label (in chunks: 10 crops take memory)."""
    top = np.concatenate([predict(pixels[i:i + batch_size]).argmax(axis=1) for i in range(0, len(pixels), batch_size)])
    return top == np.asarray(labels)


def reference_test_photos(limit=None, seed=0):
    """(paths, labels, where): held-out photos of the reference checkpoint.

    Its whole test split when the photo set it was trained on is here (``../shared``), else
    ``data/sample``, whose photos all come from that test split. ``limit`` draws a random subset.
    """
    directory = paths.REFERENCE_CHECKPOINT
    try:
        files, labels = checkpoint.split_photos(directory, "test", limit=limit, seed=seed)
        return files, labels, f"the reference checkpoint's test split ({checkpoint.read(directory).meta.data.root})"
    except CheckpointError:
        class_names, _ = checkpoint.read(directory)
        sample = data.scan(paths.SAMPLE_DATA, progress=False)
        if list(sample.class_names) != class_names:
            raise CheckpointError(f"{paths.SAMPLE_DATA} has other classes than {directory}.") from None
        chosen = np.arange(len(sample))
        if limit and limit < len(sample):
            chosen = np.sort(np.random.default_rng(seed).choice(len(sample), limit, replace=False))
        return sample.paths(chosen), sample.labels[chosen], "data/sample (held-out photos of the reference checkpoint)"


def paired_change(before, after):
    """(photos fixed, photos broken) when going from the correctness ``before`` to ``after``."""
    before, after = np.asarray(before, bool), np.asarray(after, bool)
    return int(np.sum(~before & after)), int(np.sum(before & ~after))


def ensemble(latency_ms, megabytes, models):
    """What ``models`` networks like this one cost, run one after the other on the same CPU."""
    return {"models": models, "latency_ms": models * latency_ms, "megabytes": models * megabytes}
