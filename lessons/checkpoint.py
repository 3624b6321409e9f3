"""A checkpoint is a directory, so labels and preprocessing can never drift from weights.

    model.keras         the Keras model (takes RGB pixels 0..255, outputs probabilities)
    labels.json         class names in output order
    meta.json           image size, backbone, weights source and sha256, split seed,
                        per-phase results, test accuracy, the command that made it
    split.json          which photo went to train / val / test
    history.json        one row per epoch over both phases
    model_int8.tflite   optional exports (``python -m lessons export``)
    model_fp32.tflite
    model_dynamic.tflite

A checkpoint is built in a hidden temporary directory beside its destination and moved
into place only when complete: a crash never leaves a half-written checkpoint behind.

Public API: :data:`MODEL_FILE`, :data:`LABELS_FILE`, :data:`META_FILE`, :data:`SPLIT_FILE`,
:data:`HISTORY_FILE`, :data:`TFLITE_FILES`, :class:`CheckpointError`, :class:`Contents`,
:func:`sha256_of`, :func:`read_json`, :func:`relative_to_repo`, :func:`resolve_from_repo`,
:func:`save`, :func:`read`, :func:`read_split`, :func:`write_meta`, :func:`split_photos`.
"""
import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import NamedTuple

from lessons import atomic, paths
from lessons.metadata import Metadata, MetadataError, SplitRecord

MODEL_FILE = "model.keras"
LABELS_FILE = "labels.json"
META_FILE = "meta.json"
SPLIT_FILE = "split.json"
HISTORY_FILE = "history.json"
TFLITE_FILES = {"fp32": "model_fp32.tflite", "dynamic": "model_dynamic.tflite", "int8": "model_int8.tflite"}


class CheckpointError(ValueError):
    """A checkpoint directory that cannot be used; the message names the file."""


class Contents(NamedTuple):
    """What :func:`read` finds: the class names in output order, and the metadata."""

    labels: list[str]
    meta: Metadata


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_json(directory, name):
    path = Path(directory) / name
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing: a checkpoint directory needs {MODEL_FILE}, "
                              f"{LABELS_FILE} and {META_FILE} (made by `python -m lessons train`).") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{path} is not valid JSON ({error}).") from None


def relative_to_repo(path):
    """A path as stored in meta.json: relative to the project when possible (portable)."""
    return os.path.relpath(Path(path).resolve(), paths.REPO)


def resolve_from_repo(stored):
    """The inverse of :func:`relative_to_repo`."""
    return (paths.REPO / stored).resolve()


def save(directory, model, labels, meta, split=None, history=None):
    """Write a complete checkpoint directory atomically; returns its path.

    ``meta``: a :class:`lessons.metadata.Metadata`; ``split``: a :class:`lessons.metadata.SplitRecord`;
    ``history``: the rows of both phases.
    """
    from lessons import mobilenetv2

    # A copy rebuilt from the config carries no optimizer: Adam's moments would double the file.
    clean = mobilenetv2.copy(model)
    with atomic.building(directory) as tmp:
        clean.save(tmp / MODEL_FILE)
        atomic.write_json(tmp / LABELS_FILE, list(labels))
        atomic.write_json(tmp / META_FILE, meta.to_json())
        if split is not None:
            atomic.write_json(tmp / SPLIT_FILE, dataclasses.asdict(split))
        if history is not None:
            atomic.write_json(tmp / HISTORY_FILE, history)
    return Path(directory)


def read(directory):
    """The :class:`Contents` of a checkpoint directory, checked: ``labels`` (the class names in
    output order) and ``meta`` (its :class:`lessons.metadata.Metadata`).

    Args:
        directory: a checkpoint folder written by ``python -m lessons train``.

    Raises:
        CheckpointError: the folder, ``labels.json`` or ``meta.json`` is missing or not of this
            course; the message names the file and says what to do.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"Checkpoint directory {directory} does not exist. Train one with "
                              "`python -m lessons train`, or use checkpoints/waste-mobilenetv2.")
    labels = read_json(directory, LABELS_FILE)
    if not (isinstance(labels, list) and labels and all(isinstance(x, str) for x in labels)):
        raise CheckpointError(f"{directory / LABELS_FILE} must be a JSON list of class names.")
    return Contents(labels, _checked(Metadata, directory, META_FILE))


def read_split(directory):
    """The :class:`lessons.metadata.SplitRecord` of a checkpoint: which photo went where."""
    return _checked(SplitRecord, directory, SPLIT_FILE)


def _checked(kind, directory, name):
    try:
        return kind.from_json(read_json(directory, name))
    except MetadataError as error:
        raise CheckpointError(f"{Path(directory) / name} {error}: it was not written by this course's "
                              "`python -m lessons train`.") from None


def write_meta(directory, meta):
    """Replace a checkpoint's meta.json by ``meta`` (atomically)."""
    atomic.write_json(Path(directory) / META_FILE, meta.to_json())


def split_photos(directory, part, data_root=None, limit=None, seed=0):
    """(paths, labels) of one part of the checkpoint's recorded split.

    The photos are looked up under ``data_root``, by default the folder the checkpoint
    was trained on (as recorded in meta.json).
    """
    import numpy as np

    labels, meta = read(directory)
    root = Path(data_root) if data_root else resolve_from_repo(meta.data.root)
    files = getattr(read_split(directory), part)
    if limit and len(files) > limit:
        files = [files[i] for i in sorted(np.random.default_rng(seed).choice(len(files), limit, replace=False))]
    missing = [f for f in files if not (root / f).is_file()]
    if missing:
        raise CheckpointError(
            f"{len(missing)} {part} photo(s) of {directory} are not under {root} (first: {missing[0]}). "
            "Pass --data with the folder the checkpoint was trained on."
        )
    return [root / f for f in files], np.array([labels.index(f.split("/")[0]) for f in files])
