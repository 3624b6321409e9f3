"""Photo folders: validate them, find near-duplicates, split them, feed them to Keras.

A data folder holds one sub-folder per class (``waste/battery/*.jpg``, ...), the layout
``keras.utils.image_dataset_from_directory`` reads. :func:`scan` checks every file before
anything trains and reports *all* problems at once. :func:`split` draws a deterministic,
stratified train/validation/test split that keeps near-duplicate photos together, so that
validation and test photos are truly new to the model.
"""
import concurrent.futures
import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from lessons import images

MIN_PER_CLASS = 10
# Two photos whose 64-bit perceptual hashes differ in at most this many bits (either one
# mirrored) count as near-duplicates: re-encodings, crops, the same object shot twice.
NEAR_DUPLICATE_BITS = 8


class DataError(ValueError):
    """A data folder that cannot be trained on; the message lists every problem."""


@dataclass(frozen=True)
class Dataset:
    """The valid photos of a data folder: ``files[i]`` (relative to ``root``) is ``labels[i]``."""

    root: Path
    class_names: tuple
    files: tuple
    labels: np.ndarray
    hashes: np.ndarray  # perceptual hash and mirrored hash per photo, uint64 (n, 2)
    sha256: str  # of every file's name and bytes: which exact data a checkpoint saw
    skipped: tuple = ()  # (file, reason) left out with skip_bad=True

    def __len__(self):
        return len(self.files)

    def paths(self, indices=None):
        chosen = range(len(self.files)) if indices is None else indices
        return [self.root / self.files[i] for i in chosen]

    def class_counts(self, indices=None):
        labels = self.labels if indices is None else self.labels[indices]
        counts = np.bincount(labels, minlength=len(self.class_names))
        return dict(zip(self.class_names, counts.tolist()))


def scan(root, min_per_class=MIN_PER_CLASS, skip_bad=False, progress=True):
    """Validate and index the photo folder ``root``; raise :class:`DataError` if unusable.

    Every file is decoded in full, so truncated photos are found now, not mid-training.
    With ``skip_bad`` unreadable files are left out and each is reported on stderr;
    problems with the folder itself (missing, too few classes or photos) always raise.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"Data folder {root} does not exist. Point --data at a folder with one sub-folder per class.")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(class_dirs) < 2:
        raise DataError(
            f"Data folder {root} has {len(class_dirs)} class folder(s); a classifier needs at least two "
            "(one sub-folder per class, e.g. waste/battery/, waste/glass/)."
        )
    candidates = [(f, label) for label, d in enumerate(class_dirs) for f in _files_in(d)]
    results = _inspect_all([f for f, _ in candidates], progress)

    bad = [(f, error) for (f, _), (error, _, _) in zip(candidates, results) if error]
    good = [(f, label, h, sha) for (f, label), (error, h, sha) in zip(candidates, results) if not error]
    problems = [] if skip_bad else [f"{f.relative_to(root)}: {error}" for f, error in bad]
    counts = np.bincount([label for _, label, _, _ in good], minlength=len(class_dirs))
    problems += [
        f"class '{d.name}' has {n} usable photo(s); each class needs at least {min_per_class}. "
        "Add photos or remove the folder."
        for d, n in zip(class_dirs, counts) if n < min_per_class
    ]
    if problems:
        advice = "" if skip_bad or not bad else (
            "\nFix or delete the files listed, or pass --skip-bad-files (skip_bad=True) to leave "
            "unreadable files out; each one is then reported."
        )
        raise DataError(f"Data folder {root} has {len(problems)} problem(s); nothing was trained:\n  - "
                        + "\n  - ".join(problems) + advice)
    for f, error in bad:
        print(f"skipped {f.relative_to(root)}: {error}", file=sys.stderr)

    files = tuple(f.relative_to(root).as_posix() for f, _, _, _ in good)
    digest = hashlib.sha256()
    for name, (_, _, _, sha) in zip(files, good):
        digest.update(f"{name}\0{sha}\n".encode())
    return Dataset(
        root=root,
        class_names=tuple(d.name for d in class_dirs),
        files=files,
        labels=np.array([label for _, label, _, _ in good], dtype=np.int64),
        hashes=np.array([h for _, _, h, _ in good], dtype=np.uint64).reshape(-1, 2),
        sha256=digest.hexdigest(),
        skipped=tuple((f.relative_to(root).as_posix(), error) for f, error in bad),
    )


def _files_in(folder):
    return sorted(
        f for f in folder.rglob("*")
        if f.is_file() and not any(part.startswith(".") for part in f.relative_to(folder).parts)
    )


def _inspect_all(files, progress):
    # Decoding releases the GIL, so threads use every core.
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        return list(tqdm(pool.map(_inspect, files), total=len(files), desc="checking photos",
                         unit="photo", disable=not progress, leave=False))


def _inspect(path):
    """(error or None, perceptual hashes, sha256 of the bytes) for one file."""
    try:
        content = path.read_bytes()
        image = images.open_image(content)
    except (OSError, images.ImageError) as error:
        return str(error).replace("the uploaded file ", ""), (0, 0), None
    return None, perceptual_hash(image), hashlib.sha256(content).hexdigest()


def _dct_matrix(n):
    k = np.arange(n)
    matrix = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n))
    matrix[0] /= np.sqrt(2)
    return matrix * np.sqrt(2 / n)


_DCT32 = _dct_matrix(32)
# Mirroring an image left-right flips the sign of every odd horizontal frequency.
_MIRROR_SIGNS = np.where(np.arange(8) % 2, -1.0, 1.0)[None, :]


def perceptual_hash(image):
    """The 64-bit DCT hash of ``image`` and of its mirror image, as two unsigned ints.

    Flat borders (letterbox bars, plain backgrounds) are cut off first so that the hash
    describes the object, not the padding. The rest is shrunk to 32x32 grey, transformed
    to frequencies, and each of the 8x8 lowest frequencies gives one bit: above or below
    their median. Re-encoding, resizing or slight edits barely move low frequencies, so
    copies of a photo get nearly the same bits.
    """
    grey = image.convert("L")
    grey.thumbnail((256, 256))
    grey = _trim_flat_borders(grey).resize((32, 32), images.Image.Resampling.LANCZOS)
    low = (_DCT32 @ np.asarray(grey, dtype=np.float64) @ _DCT32.T)[:8, :8]
    return tuple(_bits(block) for block in (low, low * _MIRROR_SIGNS))


def _trim_flat_borders(grey, min_std=4.0):
    pixels = np.asarray(grey, dtype=np.float64)
    rows = np.flatnonzero(pixels.std(axis=1) > min_std)
    cols = np.flatnonzero(pixels.std(axis=0) > min_std)
    if len(rows) < 8 or len(cols) < 8:  # (nearly) blank: nothing to trim to
        return grey
    return grey.crop((cols[0], rows[0], cols[-1] + 1, rows[-1] + 1))


def _bits(block):
    packed = np.packbits((block > np.median(block)).ravel())
    return int.from_bytes(packed.tobytes(), "big")


def near_duplicate_groups(hashes, max_bits=NEAR_DUPLICATE_BITS):
    """A group id per photo: photos linked by a chain of near-duplicate pairs share one."""
    plain, mirrored = hashes[:, 0], hashes[:, 1]
    parent = np.arange(len(hashes))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(hashes) - 1):
        distance = np.minimum(np.bitwise_count(plain[i + 1:] ^ plain[i]),
                              np.bitwise_count(mirrored[i + 1:] ^ plain[i]))
        for j in np.flatnonzero(distance <= max_bits) + i + 1:
            parent[find(j)] = find(i)
    return np.array([find(i) for i in range(len(hashes))])


@dataclass
class Split:
    """Which photos train, which choose the epoch (validation), which are only tested."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    seed: int
    val_fraction: float
    test_fraction: float
    near_duplicate_groups: int = 0  # groups of two or more photos kept in one part
    photos_in_groups: int = 0
    cross_class_groups: list = field(default_factory=list)  # the same photo under two labels, or a false match: look

    def summary(self):
        return {
            "seed": self.seed, "val_fraction": self.val_fraction, "test_fraction": self.test_fraction,
            "counts": {"train": len(self.train), "val": len(self.val), "test": len(self.test)},
            "near_duplicate_groups": self.near_duplicate_groups, "photos_in_groups": self.photos_in_groups,
            "cross_class_groups": self.cross_class_groups,
        }

    def to_json(self, dataset):
        """The split as file names, to store beside a checkpoint."""
        return {**self.summary(), **{part: [dataset.files[i] for i in getattr(self, part)]
                                     for part in ("train", "val", "test")}}

    @classmethod
    def from_json(cls, record, dataset):
        """The recorded split applied to ``dataset``; every recorded file must be in it."""
        index = {name: i for i, name in enumerate(dataset.files)}
        missing = [name for part in ("train", "val", "test") for name in record[part] if name not in index]
        if missing:
            raise DataError(f"{len(missing)} photo(s) of the recorded split are not in {dataset.root} "
                            f"(first: {missing[0]}); is this the data the checkpoint was trained on?")
        parts = {part: np.array([index[name] for name in record[part]], dtype=np.int64)
                 for part in ("train", "val", "test")}
        summary = {k: record[k] for k in ("near_duplicate_groups", "photos_in_groups", "cross_class_groups")}
        return cls(**parts, seed=record["seed"], val_fraction=record["val_fraction"],
                   test_fraction=record["test_fraction"], **summary)


def split(dataset, seed=0, val_fraction=0.15, test_fraction=0.15, max_bits=NEAR_DUPLICATE_BITS):
    """A stratified split by photo in which near-duplicate groups never straddle two parts.

    Each class is split on its own (so every part has every class in proportion): its
    groups are shuffled with ``seed`` and dealt to test, then validation, then training.
    """
    groups = near_duplicate_groups(dataset.hashes, max_bits)
    rng = np.random.default_rng(seed)
    parts = {"train": [], "val": [], "test": []}
    members = {g: np.flatnonzero(groups == g) for g in np.unique(groups)}
    # A group belongs to the class most of its photos carry.
    owner = {g: np.bincount(dataset.labels[m]).argmax() for g, m in members.items()}
    for label in range(len(dataset.class_names)):
        class_groups = [g for g in members if owner[g] == label]
        rng.shuffle(class_groups)
        size = sum(len(members[g]) for g in class_groups)
        targets = {"test": round(size * test_fraction), "val": round(size * val_fraction)}
        filled = {"test": 0, "val": 0}
        for g in class_groups:
            part = next((p for p in ("test", "val") if filled[p] < targets[p]), "train")
            if part != "train":
                filled[part] += len(members[g])
            parts[part].extend(members[g])
    multi = [m for m in members.values() if len(m) > 1]
    crossing = [[dataset.files[i] for i in m] for m in multi if len(set(dataset.labels[m])) > 1]
    return Split(**{p: np.sort(np.array(v, dtype=np.int64)) for p, v in parts.items()},
                 seed=seed, val_fraction=val_fraction, test_fraction=test_fraction,
                 near_duplicate_groups=len(multi), photos_in_groups=int(sum(len(m) for m in multi)),
                 cross_class_groups=crossing)


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
