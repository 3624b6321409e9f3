"""``python -m lessons train`` on several devices and machines: one checkpoint, written by the chief.

Each run is a real ``train`` command in its own process (a strategy must be chosen before
TensorFlow touches a device), on the sample photos at a small size. Every name holds
"distributed", so ``pytest -k distributed`` selects these with tests/test_distributed.py.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np

from lessons import checkpoint, distribute, metadata, paths
from lessons.inference import Predictor
from tests.conftest import weights_for_tests
from tests.test_distributed import TIMEOUT

SIZE = 64
TRAIN = ["-m", "lessons", "train", "--data", str(paths.SAMPLE_DATA), "--image-size", str(SIZE),
         "--weights", weights_for_tests(), "--phase1-epochs", "2", "--phase2-epochs", "1",
         "--fine-tune-from", "block_16", "--batch-size", "8"]


def _train(out, who, *args, tf_config=None):
    """A ``train`` process writing ``out``; its output goes to ``out-<who>-log.txt``, its temporary
    files to ``tmp/`` beside ``out``."""
    (out.parent / "tmp").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"} | {"PYTHONPATH": str(paths.REPO),
                                                                       "TMPDIR": str(out.parent / "tmp")}
    env |= {"TF_CONFIG": tf_config} if tf_config else {}
    log = open(f"{out}-{who}-log.txt", "w")
    return subprocess.Popen([sys.executable, *TRAIN, "--out", str(out), *args], cwd=paths.REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT, text=True)


def _wait(process, timeout=TIMEOUT):
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"{process.args} still ran after {timeout} s") from None


def _log(out, who):
    return open(f"{out}-{who}-log.txt").read()


def _workers(out):
    return [_train(out, f"worker{i}", tf_config=tf_config) for i, tf_config in enumerate(distribute.local_cluster(2))]


def _scratch_folders(out):
    return sorted(p.name for p in (out.parent / "tmp").iterdir() if p.name.startswith(f"{out.name}.partial-"))


def _assert_one_working_checkpoint(out):
    assert sorted(p.name for p in out.parent.iterdir() if not p.name.endswith("-log.txt")) == [out.name, "tmp"]
    clf = Predictor.load(out, "keras")
    probabilities = clf.predict_pixels(np.full((2, SIZE, SIZE, 3), 128, np.uint8))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    return checkpoint.read(out).meta


def test_distributed_two_cpu_devices_train_a_checkpoint(tmp_path):
    out = tmp_path / "ckpt"
    assert _wait(_train(out, "run", "--devices", "2")) == 0, _log(out, "run")
    meta = _assert_one_working_checkpoint(out)
    assert meta.replicas == metadata.Replicas(in_sync=2, global_batch=16, phase1_lr=2e-3, phase2_lr=2e-4)
    assert "2 replicas in sync" in _log(out, "run")


def test_distributed_two_workers_train_both_phases_into_one_checkpoint(tmp_path):
    out = tmp_path / "ckpt"
    chief, other = _workers(out)
    assert [_wait(chief), _wait(other)] == [0, 0], _log(out, "worker0")[-3000:] + _log(out, "worker1")[-3000:]
    meta = _assert_one_working_checkpoint(out)
    assert meta.replicas.in_sync == 2 and {r["phase"] for r in checkpoint.read_json(out, "history.json")} == {1, 2}
    assert "the chief writes the checkpoint" in _log(out, "worker1")
    assert _scratch_folders(out) == [], "the other worker's records did not outlive it"


def test_distributed_a_killed_worker_stops_the_run_cleanly_and_it_resumes(tmp_path):
    out = tmp_path / "ckpt"
    chief, other = _workers(out)
    try:
        state = out.with_name("ckpt.partial") / "phase1.json"
        deadline = time.monotonic() + TIMEOUT
        while not state.exists():  # the first epoch is recorded: the workers have trained together
            assert chief.poll() is None and time.monotonic() < deadline, _log(out, "worker0")
            time.sleep(0.2)
        other.kill()
        assert _wait(chief, timeout=400) == 2
    finally:
        for process in (chief, other):
            process.kill()
            process.wait()
    log = _log(out, "worker0")
    assert "error: Another worker of the cluster stopped answering" in log and "Traceback" not in log, log[-3000:]
    assert not out.exists(), "no checkpoint from a broken run"
    epochs_done = len(json.loads(state.read_text())["rows"])

    chief, other = _workers(out)  # the same command on every machine: it resumes
    assert [_wait(chief), _wait(other)] == [0, 0], _log(out, "worker0")[-3000:]
    assert "resuming the interrupted run" in _log(out, "worker0") and "resuming" in _log(out, "worker1")
    history = checkpoint.read_json(out, "history.json")
    assert [r["epoch"] for r in history] == [1, 2, 3] and epochs_done >= 1
    _assert_one_working_checkpoint(out)
