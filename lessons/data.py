"""Photo folders: one sub-folder per class, every file checked before anything trains.

A data folder holds one sub-folder per class (``waste/battery/*.jpg``, ...), the layout
``keras.utils.image_dataset_from_directory`` reads. :func:`scan` decodes every file and
reports *all* problems at once, and returns a :class:`Dataset`: the usable photos, their
labels, a perceptual hash of each (for :mod:`lessons.near_duplicates`) and a SHA-256 of the
whole folder. The folder is then split by :mod:`lessons.splits` and fed to Keras by
:mod:`lessons.pipeline`.

Public API: :data:`MIN_PER_CLASS`, :class:`DataError`, :class:`Dataset`, :func:`scan`.
"""
import concurrent.futures
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from lessons import images, near_duplicates

MIN_PER_CLASS = 10


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

    Args:
        root: a folder with one sub-folder of photos per class (the sub-folder names are the labels).
        min_per_class: the fewest photos a class may have (a split needs some in every part).
        skip_bad: leave out unreadable files, each reported on stderr, instead of raising;
            problems with the folder itself (missing, too few classes or photos) always raise.
        progress: show a progress bar while the photos are decoded.

    Returns:
        A :class:`Dataset`: the files, their labels, the class names and a SHA-256 of it all.
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
    return None, near_duplicates.perceptual_hash(image), hashlib.sha256(content).hexdigest()
