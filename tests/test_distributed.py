"""lessons.distribute: several devices and several workers train as one device would.

A strategy must be chosen before TensorFlow starts, so what trains runs in a fresh
process (``python -m tests.test_distributed ROLE OUT``): two logical CPU devices, or two
workers on 127.0.0.1 that find each other through TF_CONFIG. Each run trains phase 2 of
the real MobileNetV2 (the shipped ImageNet weights, 32 px, seeded, no dropout) with SGD,
whose update is linear in the gradient: equal gradients give equal weights.
"""
import contextlib
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lessons import distribute, paths
from lessons.distribute import ClusterError

SIZE = 32
WEIGHTS = str(paths.IMAGENET_WEIGHTS)  # the shipped ImageNet weights (alpha 1.0): random ones give features near 0
TIMEOUT = 150  # seconds any process of these tests may run: nothing may hang CI


# What the subprocesses run.

def _photos():
    """20 sample photos in a fixed mix of classes: 13 train (batches of 8 and 5), 7 validate."""
    from lessons import data, pipeline

    dataset = data.scan(paths.SAMPLE_DATA, progress=False)
    chosen = np.random.default_rng(0).permutation(len(dataset))[:20]
    pixels = pipeline.load_images(dataset.paths(chosen), SIZE, progress=False)
    return pixels, dataset.labels[chosen], len(dataset.class_names)


def _train(strategy, train_count, epochs=1, callbacks=()):
    """The same seeded model trained under ``strategy``: (model, history)."""
    import keras

    from lessons import pipeline
    from lessons import mobilenetv2

    pixels, labels, classes = _photos()
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = mobilenetv2.build_classifier(classes, SIZE, weights=WEIGHTS, dropout=0.0)
        mobilenetv2.set_trainable_from(model, 15)  # blocks 15, 16 and the top conv train; BatchNorm stays frozen
        model.compile(optimizer=keras.optimizers.SGD(0.01), metrics=["accuracy"],
                      loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1))
    train = pipeline.batches(pixels[:train_count], labels[:train_count], classes, batch_size=8)
    val = pipeline.batches(pixels[13:], labels[13:], classes, batch_size=4)
    return model, distribute.fit(model, train, val, strategy, 0, epochs, callbacks, verbose=0)


def _save(out, tag, model, history):
    np.savez(out / f"{tag}.npz", *[w.numpy() for w in model.trainable_weights])
    (out / f"{tag}.json").write_text(json.dumps(history))


def _devices(out):
    """One step on a global batch of 8: on two logical CPU devices, then on one."""
    import tensorflow as tf

    strategy = distribute.strategy_for(2)
    assert distribute.replicas(strategy) == 2 and distribute.is_chief(strategy)
    assert not distribute.is_multi_worker(strategy)
    _save(out, "two_devices", *_train(strategy, train_count=8))
    _save(out, "one_device", *_train(tf.distribute.get_strategy(), train_count=8))
    with pytest.raises(RuntimeError, match="call strategy_for before building a model"):
        distribute.strategy_for(3)


def _worker(out, epochs, collective_timeout, stall=0):
    """One worker of TF_CONFIG's cluster: trains, saves the model after every epoch, marks each.

    With ``stall`` it stops taking part after its first epoch, alive: a hung worker.
    """
    import keras

    class SaveAndMark(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.save(out / "model.keras")  # on every worker: no collective may be needed
            (out / f"epoch{epoch}").touch()
            time.sleep(TIMEOUT if stall else 0)

    strategy = distribute.strategy_for(wait_seconds=60, collective_timeout=collective_timeout)
    assert distribute.is_multi_worker(strategy) and distribute.replicas(strategy) == 2
    (out / f"chief_{distribute.is_chief(strategy)}").touch()
    _save(out, "worker", *_train(strategy, train_count=13, epochs=epochs, callbacks=[SaveAndMark()]))


def _wait(out, wait_seconds):
    """A worker whose peer never comes up: it must give up after ``wait_seconds``. Writes how long it waited
    (TensorFlow's import left out) to ``waited``."""
    importlib.import_module("tensorflow")  # before the clock starts: strategy_for imports it first

    started = time.monotonic()
    try:
        distribute.strategy_for(wait_seconds=wait_seconds)
    finally:
        (out / "waited").write_text(str(time.monotonic() - started))


def main(role, out, *args):
    {"devices": _devices, "worker": _worker, "wait": _wait}[role](Path(out), *map(int, args))


# Helpers of the tests.

def _start(role, out, *args, tf_config=None):
    out.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(PYTHONPATH=str(paths.REPO), **({"TF_CONFIG": tf_config} if tf_config else {}))
    with open(out / "log.txt", "w") as log:
        return subprocess.Popen([sys.executable, "-m", "tests.test_distributed", role, str(out), *map(str, args)],
                                cwd=paths.REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def _finish(process, out, timeout=TIMEOUT):
    """The process's exit status; killed (and the test failed) when it outlives ``timeout``."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"{out.name} still ran after {timeout} s:\n{_log(out)}")


def _log(out):
    return (out / "log.txt").read_text()[-3000:]


@contextlib.contextmanager
def _killed_at_end(processes):
    """Whatever happens in a test, none of its processes outlives it."""
    try:
        yield processes
    finally:
        for process, _ in processes:
            process.kill()
            process.wait()


def _workers(tmp_path, epochs):
    tf_configs = distribute.local_cluster(2)
    return [(_start("worker", tmp_path / f"worker{i}", epochs, 60, tf_config=tf_configs[i]),
             tmp_path / f"worker{i}") for i in range(2)]


def _weights(path):
    with np.load(path) as arrays:
        return [arrays[name] for name in arrays.files]


def _assert_same_training(a, b, atol):
    for x, y in zip(_weights(f"{a}.npz"), _weights(f"{b}.npz"), strict=True):
        np.testing.assert_allclose(x, y, atol=atol)
    logs_a, logs_b = (json.loads(Path(f"{run}.json").read_text()) for run in (a, b))
    assert logs_a.keys() == logs_b.keys()
    for name in logs_a:
        np.testing.assert_allclose(logs_a[name], logs_b[name], rtol=1e-5, err_msg=name)


# The tests.

def test_distributed_two_cpu_devices_take_the_same_step_as_one(tmp_path):
    process = _start("devices", tmp_path)
    assert _finish(process, tmp_path) == 0, _log(tmp_path)
    _assert_same_training(tmp_path / "two_devices", tmp_path / "one_device", atol=1e-5)
    assert set(json.loads((tmp_path / "one_device.json").read_text())) == {
        "loss", "accuracy", "val_loss", "val_accuracy"}


def test_distributed_two_workers_train_as_one_device(tmp_path):
    import tensorflow as tf

    with _killed_at_end(_workers(tmp_path, epochs=1)) as workers:
        reference, history = _train(tf.distribute.get_strategy(), train_count=13)  # meanwhile: model.fit, one device
        _save(tmp_path, "reference", reference, history)
        for process, out in workers:
            assert _finish(process, out) == 0, _log(out)
            assert (out / "model.keras").is_file() and (out / "epoch0").exists()
    # The same weights on both workers, bit for bit, and those of one device (here: the last
    # global batch, 5 photos, is split 3 and 2; its gradient is still the mean over all 5).
    _assert_same_training(tmp_path / "worker0/worker", tmp_path / "worker1/worker", atol=0)
    _assert_same_training(tmp_path / "worker0/worker", tmp_path / "reference", atol=1e-5)
    assert (tmp_path / "worker0/chief_True").exists() and (tmp_path / "worker1/chief_False").exists()


@pytest.mark.parametrize("fault, errors", [("killed", ("UnavailableError", "DeadlineExceededError")),
                                           ("stalled", ("DeadlineExceededError",))])
def test_distributed_a_lost_worker_makes_the_other_fail_not_hang(tmp_path, fault, errors):
    """Killed (kill -9) after its first epoch, or alive but stalled there: only the collective
    timeout can end the other's wait for a stalled worker, whose heartbeats go on."""
    collective_timeout, tf_configs = 60, distribute.local_cluster(2)  # 15 s timed out the first step on a loaded CI machine
    survivor = _start("worker", tmp_path / "survivor", 100, collective_timeout, tf_config=tf_configs[0])
    victim = _start("worker", tmp_path / "victim", 100, collective_timeout, int(fault == "stalled"),
                    tf_config=tf_configs[1])
    with _killed_at_end([(survivor, tmp_path / "survivor"), (victim, tmp_path / "victim")]):
        deadline = time.monotonic() + TIMEOUT
        while not (tmp_path / "victim/epoch0").exists():  # its first epoch is over: collectives have worked
            assert victim.poll() is None and time.monotonic() < deadline, _log(tmp_path / "victim")
            time.sleep(0.2)
        if fault == "killed":
            victim.kill()
        assert _finish(survivor, tmp_path / "survivor", timeout=collective_timeout + 45) != 0
        log = (tmp_path / "survivor/log.txt").read_text()
        assert any(error in log for error in errors), log[-3000:]
        assert "Another worker of the cluster stopped answering" in log and "to resume" in log, log[-3000:]


def test_distributed_a_worker_that_never_comes_up_is_named(tmp_path):
    wait, tf_config = 3, distribute.local_cluster(2)[0]
    absent = json.loads(tf_config)["cluster"]["worker"][1]
    process = _start("wait", tmp_path, wait, tf_config=tf_config)
    assert _finish(process, tmp_path, timeout=60) != 0
    log = _log(tmp_path)
    assert "ClusterError" in log and f"{absent} did not come up within {wait} s" in log, log
    # It gave up when its own wait was over: not at once, nor after the default wait; one more try at most.
    assert wait <= float((tmp_path / "waited").read_text()) < 2 * wait


@pytest.mark.parametrize("tf_config, problem", [
    ("{not json", "is not valid JSON"),
    ("[]", "needs a 'cluster' and a 'task'"),
    ('{"cluster": {"worker": ["a:1"]}}', "needs a 'cluster' and a 'task'"),
    ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "must list 'worker' addresses"),
    ('{"cluster": {"worker": "a:1"}, "task": {"type": "worker", "index": 0}}', "list of \"host:port\""),
    ('{"cluster": {"chief": ["a:1", "b:1"]}, "task": {"type": "chief", "index": 0}}', "'chief' to a list of one"),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}', "address 'localhost'"),
    ('{"cluster": {"worker": ["a:0"]}, "task": {"type": "worker", "index": 0}}', "port from 1 to 65535"),
    ('{"cluster": {"worker": ["a:65536"]}, "task": {"type": "worker", "index": 0}}', "port from 1 to 65535"),
    ('{"cluster": {"worker": [":80"]}, "task": {"type": "worker", "index": 0}}', "address ':80'"),
    ('{"cluster": {"worker": [1]}, "task": {"type": "worker", "index": 0}}', "address 1;"),
    ('{"cluster": {"worker": ["a:1", "a:1"]}, "task": {"type": "worker", "index": 0}}', "lists an address twice"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "chief", "index": 0}}', "'type' is 'chief'"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"index": 0}}', "'type' is None"),
    ('{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 2}}', "cluster's 2 worker task"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": "0"}}', "'index' is '0'"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": true}}', "'index' is True"),
])
def test_distributed_malformed_tf_config_is_explained(tf_config, problem):
    with pytest.raises(ClusterError, match="TF_CONFIG") as error:
        distribute.cluster_from_env({"TF_CONFIG": tf_config})
    assert problem in str(error.value)
    assert distribute.EXAMPLE_TF_CONFIG in str(error.value)  # and what a right one looks like


def test_distributed_cluster_of_tf_config():
    assert distribute.cluster_from_env({}) is None and distribute.cluster_from_env({"TF_CONFIG": " "}) is None
    example = distribute.cluster_from_env({"TF_CONFIG": distribute.EXAMPLE_TF_CONFIG})
    assert example.workers == ("10.0.0.1:12345", "10.0.0.2:12345") and distribute.is_chief(example)
    cluster = {"chief": ["c:1"], "worker": ["w:1", "[::1]:2"]}
    ranks = {(kind, index): distribute.cluster_from_env(
        {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": kind, "index": index}})})
        for kind, index in [("chief", 0), ("worker", 0), ("worker", 1)]}
    assert [c.rank for c in ranks.values()] == [0, 1, 2]
    assert [distribute.is_chief(c) for c in ranks.values()] == [True, False, False]
    assert ranks["worker", 1].address == "[::1]:2" and ranks["worker", 1].task_index == 1


def test_distributed_device_counts_are_checked(monkeypatch):
    import tensorflow as tf

    monkeypatch.delenv("TF_CONFIG", raising=False)
    for devices in (0, -1, "two", True):
        with pytest.raises(ValueError, match="give 'all' or a number of devices from 1 up"):
            distribute.strategy_for(devices)
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind: ["GPU:0"] if kind == "GPU" else [])
    with pytest.raises(ValueError, match="2 GPUs asked for, but TensorFlow sees 1"):
        distribute.strategy_for(2)



def test_distributed_fit_refuses_what_it_would_train_wrongly():
    import keras
    import tensorflow as tf

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="built outside strategy.scope()"):
        distribute.fit(model, None, None, tf.distribute.MirroredStrategy(["/cpu:0"]), 0, 1)
    # Under MultiWorkerMirroredStrategy (run here on the default one, which is never multi-worker):
    model.compile(optimizer=keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD()), loss="mse")
    with pytest.raises(ValueError, match="Mixed precision .* is not supported across several machines"):
        distribute._fit_multi_worker(model, None, None, tf.distribute.get_strategy(), 0, 1, (), 0)
    with pytest.raises(ValueError, match="Compile the model with a keras.losses.Loss object"):
        distribute._per_example("categorical_crossentropy")
    smoothing = distribute._per_example(keras.losses.CategoricalCrossentropy(label_smoothing=0.1))
    assert smoothing.reduction is None and smoothing.get_config()["label_smoothing"] == 0.1


if __name__ == "__main__":
    main(*sys.argv[1:])
