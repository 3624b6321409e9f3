"""Files and folders appear whole or not at all; a failure leaves the previous version."""
import numpy as np
import pytest

from lessons import atomic


def test_a_failed_folder_keeps_the_previous_one_whole(tmp_path):
    target = tmp_path / "ckpt"
    target.mkdir()
    (target / "model.keras").write_text("the previous, complete model")
    with pytest.raises(RuntimeError):
        with atomic.building(target) as tmp:
            (tmp / "model.keras").write_text("half a mod")
            raise RuntimeError("disk full")
    assert (target / "model.keras").read_text() == "the previous, complete model"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]


def test_a_built_folder_replaces_the_old_one(tmp_path):
    target = tmp_path / "ckpt"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic.building(target) as tmp:
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"] and [p.name for p in target.iterdir()] == ["new.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    path = tmp_path / "state.json"
    atomic.write_json(path, {"epoch": 1})
    with pytest.raises(KeyboardInterrupt):
        atomic.write_with(path, lambda tmp: (tmp.write_text('{"epo'), (_ for _ in ()).throw(KeyboardInterrupt)))
    assert path.read_text() == '{\n  "epoch": 1\n}\n' and [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_the_temporary_name_keeps_the_suffix_writers_choose_their_format_by(tmp_path):
    path = tmp_path / "features.npy"
    atomic.write_with(path, lambda tmp: np.save(tmp, np.arange(3)))  # np.save would append .npy otherwise
    assert [p.name for p in tmp_path.iterdir()] == ["features.npy"] and np.load(path).tolist() == [0, 1, 2]
