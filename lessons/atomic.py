"""Writing so that nobody ever reads half of a file or folder: build beside, then rename.

A rename within one file system is atomic: a reader (or a run resumed after a crash) sees
the old version or the new one, never a mixture. What failed half-way is removed.

Public API: :func:`replacing` (the pattern itself), :func:`write_with`, :func:`write_bytes`,
:func:`write_json`, :func:`building` (the same for a whole folder).
"""
import contextlib
import json
import os
import shutil
from pathlib import Path


def _beside(path, role):
    # The name keeps its suffix: Keras and NumPy choose the format by it (.keras, .weights.h5, .npy).
    return path.with_name(f".{role}-{os.getpid()}-{path.name}")


@contextlib.contextmanager
def replacing(path):
    """Yield a temporary path beside ``path``; write it, and on success it becomes ``path``."""
    path = Path(path)
    tmp = _beside(path, "tmp")
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def write_with(path, save):
    """``save(temporary_path)``, then the rename: for writers that take a path (Keras, NumPy)."""
    with replacing(path) as tmp:
        save(tmp)


def write_bytes(path, content):
    write_with(path, lambda tmp: tmp.write_bytes(content))


def write_json(path, record):
    write_bytes(path, (json.dumps(record, indent=2) + "\n").encode())


@contextlib.contextmanager
def building(directory):
    """Yield an empty temporary folder; on success it replaces ``directory`` whole."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = _beside(directory, "tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = _beside(directory, "old")
    if directory.exists():
        os.replace(directory, old)
    os.replace(tmp, directory)
    shutil.rmtree(old, ignore_errors=True)
