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
"""
import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

from lessons import paths

MODEL_FILE = "model.keras"
LABELS_FILE = "labels.json"
META_FILE = "meta.json"
SPLIT_FILE = "split.json"
HISTORY_FILE = "history.json"
TFLITE_FILES = {"fp32": "model_fp32.tflite", "dynamic": "model_dynamic.tflite", "int8": "model_int8.tflite"}


class CheckpointError(ValueError):
    """A checkpoint directory that cannot be used; the message names the file."""


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_json(path, record):
    """Write JSON through a temporary file and a rename: readers never see half of it."""
    write_bytes(path, (json.dumps(record, indent=2) + "\n").encode())


def write_bytes(path, content):
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(content)
    os.replace(tmp, path)


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


@contextlib.contextmanager
def building(directory):
    """Yield an empty temporary directory; on success it replaces ``directory`` whole."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = directory.with_name(f".{directory.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = directory.with_name(f".{directory.name}.old-{os.getpid()}")
    if directory.exists():
        os.replace(directory, old)
    os.replace(tmp, directory)
    shutil.rmtree(old, ignore_errors=True)


def save(directory, model, labels, meta, split=None, history=None):
    """Write a complete checkpoint directory atomically; returns its path."""
    import keras

    # A copy rebuilt from the config carries no optimizer: Adam's moments would double the
    # file (clone_model would copy the compiled state along).
    clean = keras.Model.from_config(model.get_config())
    clean.set_weights(model.get_weights())
    with building(directory) as tmp:
        clean.save(tmp / MODEL_FILE)
        write_json(tmp / LABELS_FILE, list(labels))
        write_json(tmp / META_FILE, meta)
        if split is not None:
            write_json(tmp / SPLIT_FILE, split)
        if history is not None:
            write_json(tmp / HISTORY_FILE, history)
    return Path(directory)


def read(directory):
    """(labels, meta) of a checkpoint directory, checked; raises :class:`CheckpointError`."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"Checkpoint directory {directory} does not exist. Train one with "
                              "`python -m lessons train`, or use checkpoints/waste-mobilenetv2.")
    labels = read_json(directory, LABELS_FILE)
    if not (isinstance(labels, list) and labels and all(isinstance(x, str) for x in labels)):
        raise CheckpointError(f"{directory / LABELS_FILE} must be a JSON list of class names.")
    meta = read_json(directory, META_FILE)
    if not isinstance(meta, dict) or "image_size" not in meta:
        raise CheckpointError(f"{directory / META_FILE} must be a JSON object with at least 'image_size'.")
    return labels, meta


def update_meta(directory, **entries):
    """Add or replace top-level entries of meta.json (atomically)."""
    _, meta = read(directory)
    meta.update(entries)
    write_json(Path(directory) / META_FILE, meta)
    return meta


def split_photos(directory, part, data_root=None, limit=None, seed=0):
    """(paths, labels) of one part of the checkpoint's recorded split.

    The photos are looked up under ``data_root``, by default the folder the checkpoint
    was trained on (as recorded in meta.json).
    """
    import numpy as np

    labels, meta = read(directory)
    record = read_json(directory, SPLIT_FILE)
    root = Path(data_root) if data_root else resolve_from_repo(meta["data"]["root"])
    files = record[part]
    if limit and len(files) > limit:
        files = [files[i] for i in sorted(np.random.default_rng(seed).choice(len(files), limit, replace=False))]
    missing = [f for f in files if not (root / f).is_file()]
    if missing:
        raise CheckpointError(
            f"{len(missing)} {part} photo(s) of {directory} are not under {root} (first: {missing[0]}). "
            "Pass --data with the folder the checkpoint was trained on."
        )
    return [root / f for f in files], np.array([labels.index(f.split("/")[0]) for f in files])
