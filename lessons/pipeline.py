"""The input pipeline: photos to the batches Keras trains on.

- :func:`load_images`: photos decoded in parallel into one array (a test set, a calibration set,
  a small training set); :class:`lessons.streaming.PhotoStream` reads a large set batch by batch instead;
- :func:`augmentation`: the random changes each training photo gets, as Keras layers;
- :func:`batches`: the ``tf.data`` pipeline of shuffled, one-hot, optionally augmented batches,
  from an array, a memory-mapped feature cache or a :class:`~lessons.streaming.PhotoStream`.

Public API: :func:`load_images`, :func:`augmentation`, :func:`batches`.
"""
import concurrent.futures
import os

import numpy as np
from tqdm.auto import tqdm

from lessons import images


def load_images(paths, size, progress=True):
    """The photos at ``paths`` as one (n, size, size, 3) uint8 array, prepared for the model."""
    paths = list(paths)
    out = np.empty((len(paths), size, size, 3), dtype=np.uint8)

    def load(i):
        out[i] = images.load_pixels(paths[i], size)

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        list(tqdm(pool.map(load, range(len(paths))), total=len(paths), desc=f"loading photos at {size}px",
                  unit="photo", disable=not progress, leave=False))
    return out


def augmentation(seed=0, rotation=0.05, zoom=0.15, contrast=0.2):
    """Random flips, small rotations, zooms and contrast changes, as Keras layers.

    Active only while training: at inference these layers pass images through unchanged.
    """
    import keras

    return keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomRotation(rotation, fill_mode="constant", fill_value=images.LETTERBOX_FILL, seed=seed + 1),
        keras.layers.RandomZoom(zoom, fill_mode="constant", fill_value=images.LETTERBOX_FILL, seed=seed + 2),
        keras.layers.RandomContrast(contrast, seed=seed + 3),
    ], name="augmentation")


def batches(inputs, labels, num_classes, batch_size=32, shuffle_seed=None, augment=None):
    """A ``tf.data`` pipeline of (inputs, one-hot labels) batches, read batch by batch.

    ``inputs`` is anything indexed by an array of indices: an array in memory, a
    memory-mapped ``.npy`` (cached features), or a :class:`lessons.streaming.PhotoStream`,
    whose ``read`` decodes the photos of each batch from disk (and may leave out one that
    cannot be read). Only the indices are shuffled, so memory holds the batches in flight,
    not the set. The same ``shuffle_seed`` gives the same order of examples for any inputs
    of the same length, which is what lets cached features and photos be compared batch
    for batch.
    """
    import tensorflow as tf

    onehot = np.eye(num_classes, dtype=np.float32)
    read = getattr(inputs, "read", lambda indices: (inputs[indices], indices))

    def load(indices):
        x, kept = read(indices)
        return np.asarray(x), onehot[labels[kept]]

    ds = tf.data.Dataset.range(len(labels))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(labels), seed=shuffle_seed, reshuffle_each_iteration=True)
    dtype = tf.as_dtype(inputs.dtype)
    ds = ds.batch(batch_size).map(lambda i: tf.numpy_function(load, [i], (dtype, tf.float32), stateful=False),
                                  num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.map(lambda x, y: (tf.ensure_shape(x, (None, *inputs.shape[1:])), tf.ensure_shape(y, (None, num_classes))))
    if augment is not None:
        ds = ds.map(lambda x, y: (augment(tf.cast(x, tf.float32), training=True), y),
                    num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
