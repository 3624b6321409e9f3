"""The train/validation/test split of a photo folder, and its record beside a checkpoint.

:func:`split` draws a deterministic, stratified split that keeps near-duplicate photos
(:mod:`lessons.near_duplicates`) together, so that validation and test photos are truly new
to the model. A :class:`Split` is stored as ``split.json`` by file name (:meth:`Split.record`),
which :func:`lessons.checkpoint.read_split` reads back.

Public API: :class:`Split`, :func:`split`.
"""
import dataclasses
from dataclasses import dataclass, field

import numpy as np

from lessons import metadata, near_duplicates


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
        """The :class:`lessons.metadata.SplitSummary` that a checkpoint's meta.json records."""
        return metadata.SplitSummary(
            self.seed, self.val_fraction, self.test_fraction,
            {"train": len(self.train), "val": len(self.val), "test": len(self.test)},
            self.near_duplicate_groups, self.photos_in_groups, self.cross_class_groups)

    def record(self, dataset):
        """The :class:`lessons.metadata.SplitRecord` stored beside a checkpoint: parts by file name."""
        return metadata.SplitRecord(**dataclasses.asdict(self.summary()),
                                    **{part: [dataset.files[i] for i in getattr(self, part)]
                                       for part in ("train", "val", "test")})


def split(dataset, seed=0, val_fraction=0.15, test_fraction=0.15, max_bits=near_duplicates.NEAR_DUPLICATE_BITS):
    """A stratified split by photo in which near-duplicate groups never straddle two parts.

    Each class is split on its own (so every part has every class in proportion): its
    groups are shuffled with ``seed`` and dealt to test, then validation, then training.
    """
    groups = near_duplicates.near_duplicate_groups(dataset.hashes, max_bits)
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


