"""Training on several GPUs or machines: one ``tf.distribute`` strategy, chosen up front.

:func:`strategy_for` picks it before TensorFlow touches a device (afterwards the CPU can
no longer be split, nor a cluster joined): this machine's GPUs, its CPU cut into logical
devices (to rehearse multi-device training on a laptop), or, when ``TF_CONFIG`` describes
a cluster, ``MultiWorkerMirroredStrategy``. That one's constructor waits for every worker
without limit and ignores SIGTERM, so the peers are awaited here first, with a timeout;
and its collectives get a timeout, so that a worker that dies makes the others fail, not hang.

:func:`fit` trains under any of them. Keras 3's ``model.fit`` fails under the multi-worker
strategy (keras-team/keras#20585: "unsupported type ... PerReplica"), so there :func:`fit`
runs a step of its own: each global batch split across the replicas of every worker, the
gradient of its mean loss summed across them, and the logs that ``fit`` would write.

Public API: :class:`ClusterError`, ``EXAMPLE_TF_CONFIG``, :class:`Cluster`,
:func:`cluster_from_env`, :func:`local_cluster`, :func:`strategy_for`, :func:`replicas`, :func:`is_chief`,
:func:`is_multi_worker`, :func:`fit`.
"""
import json
import os
import socket
import time
from dataclasses import dataclass

EXAMPLE_TF_CONFIG = json.dumps({"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]},
                                "task": {"type": "worker", "index": 0}})
TASK_TYPES = ("chief", "worker")  # the jobs that MultiWorkerMirroredStrategy trains with


class ClusterError(RuntimeError):
    """``TF_CONFIG`` is malformed, or names a worker that cannot be reached."""


@dataclass(frozen=True)
class Cluster:
    """The training tasks of ``TF_CONFIG``, the chief (if any) first, and which one this is."""

    workers: tuple  # "host:port" of each
    task_type: str
    task_index: int
    rank: int  # this task's place in ``workers``: 0 is the chief

    @property
    def address(self):
        return self.workers[self.rank]


def cluster_from_env(environ=os.environ):
    """The :class:`Cluster` that ``TF_CONFIG`` describes; None when it is unset or empty."""
    text = environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        _refuse(f"is not valid JSON ({error})")
    return _parse(config)


def _refuse(problem):
    raise ClusterError(f"TF_CONFIG {problem}. Every machine sets the same 'cluster' and its own 'task', "
                       f"e.g. TF_CONFIG='{EXAMPLE_TF_CONFIG}' (unset TF_CONFIG to train on one machine).")


def _parse(config):
    """The :class:`Cluster` of a decoded ``TF_CONFIG``; :class:`ClusterError` on its first problem."""
    cluster, task = (config.get(key) if isinstance(config, dict) else None for key in ("cluster", "task"))
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        _refuse("needs a 'cluster' and a 'task' object")
    if set(cluster) - set(TASK_TYPES) or not cluster:
        _refuse(f"'cluster' must list 'worker' addresses (and at most one 'chief'), not {sorted(cluster)}")
    jobs = {job: cluster.get(job, []) for job in TASK_TYPES}
    if not all(isinstance(tasks, list) for tasks in jobs.values()) or len(jobs["chief"]) > 1:
        _refuse("'cluster' must map 'worker' to a list of \"host:port\" strings and 'chief' to a list of one")
    workers = jobs["chief"] + jobs["worker"]
    for address in workers:
        host, _, port = address.rpartition(":") if isinstance(address, str) else ("", "", "")
        if not host or not port.isdecimal() or not 0 < int(port) < 65536:
            _refuse(f"has the address {address!r}; each must be \"host:port\" with a port from 1 to 65535")
    if len(set(workers)) < len(workers):
        _refuse(f"lists an address twice in {workers}")
    task_type, index = task.get("type"), task.get("index")
    if task_type not in TASK_TYPES or task_type not in cluster:
        _refuse(f"'task' 'type' is {task_type!r}; it must be one of the cluster's jobs {sorted(cluster)}")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(jobs[task_type]):
        _refuse(f"'task' 'index' is {index!r}; the cluster's {len(jobs[task_type])} {task_type} task(s) "
                f"are numbered from 0")
    return Cluster(tuple(workers), task_type, index, index + (len(jobs["chief"]) if task_type == "worker" else 0))


def local_cluster(workers=2):
    """A ``TF_CONFIG`` for each of ``workers`` processes on this machine (127.0.0.1, ports free
    now): several machines rehearsed on one, as the tests and ``benchmarks/replicas.py`` do."""
    sockets = [socket.create_server(("127.0.0.1", 0)) for _ in range(workers)]  # held together: all different
    addresses = [f"127.0.0.1:{s.getsockname()[1]}" for s in sockets]
    for s in sockets:
        s.close()
    return [json.dumps({"cluster": {"worker": addresses}, "task": {"type": "worker", "index": i}})
            for i in range(workers)]


def _host_port(address):
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def _wait_for_peers(cluster, wait_seconds):
    """Return once every other worker accepts a connection; :class:`ClusterError` after ``wait_seconds``.

    Meanwhile this worker listens on its own port, so that the others see it too; the port
    is freed for TensorFlow's server as soon as every one has been seen.
    """
    dual = socket.has_dualstack_ipv6()  # IPv4 and IPv6 peers alike, as TensorFlow's server takes them
    try:
        listener = socket.create_server(("", _host_port(cluster.address)[1]), dualstack_ipv6=dual,
                                        family=socket.AF_INET6 if dual else socket.AF_INET)
    except OSError as error:
        raise ClusterError(f"This worker cannot listen on {cluster.address} ({error}): another program uses "
                           f"the port; choose a free one in TF_CONFIG, on every machine.") from None
    missing, deadline = [w for w in cluster.workers if w != cluster.address], time.monotonic() + wait_seconds
    with listener:
        while missing := [peer for peer in missing if not _answers(peer)]:
            if time.monotonic() > deadline:
                raise ClusterError(f"Worker(s) {', '.join(missing)} did not come up within {wait_seconds} s. "
                                   f"Start the same command on every machine of TF_CONFIG, and check that "
                                   f"the addresses and ports are right and reachable from {cluster.address}.")
            time.sleep(0.2)


def _answers(address):
    try:
        socket.create_connection(_host_port(address), timeout=1).close()
        return True
    except OSError:
        return False


def strategy_for(devices="all", wait_seconds=120, collective_timeout=300):
    """The ``tf.distribute`` strategy to train under; call it before any other TensorFlow op.

    With a ``TF_CONFIG`` cluster: ``MultiWorkerMirroredStrategy`` (each worker on all its
    GPUs, or its CPU; ``devices`` is not used). Else ``devices`` is "all" (every GPU; the
    default strategy with one GPU or none) or a number N: N GPUs, or, on a machine without
    GPUs, its CPU split into N logical devices.
    """
    import tensorflow as tf

    cluster = cluster_from_env()
    if cluster is not None:
        _wait_for_peers(cluster, wait_seconds)
        options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=collective_timeout)
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    gpus = tf.config.list_physical_devices("GPU")
    if devices == "all":
        return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise ValueError(f"devices={devices!r}: give 'all' or a number of devices from 1 up.")
    if gpus and len(gpus) < devices:
        raise ValueError(f"{devices} GPUs asked for, but TensorFlow sees {len(gpus)}: ask for at most "
                         f"{len(gpus)}, or 'all'.")
    if devices == 1:
        return tf.distribute.get_strategy()
    if gpus:
        return tf.distribute.MirroredStrategy([f"/gpu:{i}" for i in range(devices)])
    try:
        tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                                   [tf.config.LogicalDeviceConfiguration()] * devices)
    except RuntimeError:
        raise RuntimeError(f"The CPU cannot be split into {devices} devices once TensorFlow has started: "
                           f"call strategy_for before building a model or any other TensorFlow op.") from None
    return tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(devices)])


def replicas(strategy):
    """How many copies of the model train in step, each on its share of every global batch."""
    return strategy.num_replicas_in_sync


def is_multi_worker(strategy):
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy_or_cluster):
    """Whether this process speaks for the run (prints, writes results): always on one machine."""
    if isinstance(strategy_or_cluster, Cluster):
        return strategy_or_cluster.rank == 0
    return strategy_or_cluster.extended.should_checkpoint  # the chief, or worker 0 without one


def fit(model, train, val, strategy, initial_epoch, epochs, callbacks=(), verbose=1):
    """Train ``model``, built and compiled inside ``strategy.scope()``; returns ``{log: [per epoch]}``.

    ``train`` and ``val`` give (x, one-hot y) batches of the *global* batch size. The logs
    are ``model.fit``'s (loss, accuracy, val_loss, val_accuracy), and so are the callbacks'
    calls per epoch (not per batch): one may stop the training (``model.stop_training``) or
    save the model, which needs no other worker.
    """
    if model.distribute_strategy is not strategy:
        raise ValueError("The model was built outside strategy.scope(): build and compile it inside "
                         "`with strategy.scope():`, so that every replica shares its weights.")
    if not is_multi_worker(strategy):
        return model.fit(train, validation_data=val, initial_epoch=initial_epoch, epochs=epochs,
                         callbacks=list(callbacks), verbose=verbose, shuffle=False).history
    return _fit_multi_worker(model, train, val, strategy, initial_epoch, epochs, callbacks, verbose)


def _fit_multi_worker(model, train, val, strategy, initial_epoch, epochs, callbacks, verbose):
    """What ``model.fit`` does, written out: per epoch a train pass, a val pass, the callbacks."""
    import keras

    if isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer):
        raise ValueError("Mixed precision (a LossScaleOptimizer) is not supported across several machines: "
                         "train in float32 there, or in mixed precision on one machine.")
    if not model.optimizer.built:  # in the scope, so that its variables are mirrored too
        with strategy.scope():
            model.optimizer.build(model.trainable_variables)
    train, val = (strategy.experimental_distribute_dataset(_shard_by_batch(ds)) for ds in (train, val))
    train_step, val_step = _step(model, strategy, train, training=True), _step(model, strategy, val, training=False)
    callbacks = keras.callbacks.CallbackList(list(callbacks), model=model)
    history, logs, model.stop_training = {}, {}, False
    callbacks.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        start = time.monotonic()
        callbacks.on_epoch_begin(epoch)
        logs = _epoch(train_step, train, val_step, val)
        callbacks.on_epoch_end(epoch, logs)
        for name, value in logs.items():
            history.setdefault(name, []).append(value)
        if verbose and is_chief(strategy):
            print(f"epoch {epoch + 1}/{epochs}: " + ", ".join(f"{k} {v:.4f}" for k, v in logs.items())
                  + f" ({time.monotonic() - start:.0f} s)", flush=True)
        if model.stop_training:
            break
    callbacks.on_train_end(logs)
    return history


def _epoch(train_step, train, val_step, val):
    """One epoch's logs; a :class:`ClusterError` when another worker stops answering midway."""
    import tensorflow as tf

    try:
        return {**_run(train_step, train, ""), **_run(val_step, val, "val_")}
    except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError) as error:
        reason = str(error.message).strip().splitlines()[0][:300]
        raise ClusterError(f"Another worker of the cluster stopped answering ({type(error).__name__}: {reason}). "
                           "The epochs finished so far are kept: start the same command again on every machine "
                           "to resume.") from error


def _shard_by_batch(dataset):
    """Each worker takes its share of every global batch (the data are arrays, not files)."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def _step(model, strategy, batches, training):
    """One distributed batch, compiled: (sum of the losses, correct, examples) over every replica.

    Each replica's loss is the compiled loss of its examples divided by the examples of
    the whole global batch (the last one may be smaller, and split unevenly), so that the
    summed gradients are those of the global batch's mean loss, as on one device.
    """
    import tensorflow as tf

    per_example_loss = _per_example(model.loss)

    def replica_step(x, y):
        examples = tf.shape(y)[0]
        with tf.GradientTape() as tape:
            predictions = model(x, training=training)
            losses = per_example_loss(y, predictions)
            extra = tf.add_n(model.losses) if model.losses else 0.0  # regularisation, once per batch
            if training:
                total = tf.distribute.get_replica_context().all_reduce("SUM", examples)
                loss = tf.nn.compute_average_loss(losses, global_batch_size=total)
                loss += tf.nn.scale_regularization_loss(extra)
        if training:
            variables = model.trainable_variables
            model.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        correct = tf.equal(tf.argmax(y, axis=-1), tf.argmax(predictions, axis=-1))
        return tf.stack([tf.reduce_sum(losses) + extra * tf.cast(examples, losses.dtype),
                         tf.reduce_sum(tf.cast(correct, losses.dtype)), tf.cast(examples, losses.dtype)])

    @tf.function(input_signature=[batches.element_spec])  # one trace, for the last (smaller) batch too
    def step(batch):
        return strategy.reduce("SUM", strategy.run(replica_step, args=batch), axis=None)

    return step


def _per_example(loss):
    """The compiled loss with the same settings (label smoothing...), one value per example."""
    import keras

    if not isinstance(loss, keras.losses.Loss):
        raise ValueError(f"Compile the model with a keras.losses.Loss object (e.g. CategoricalCrossentropy()), "
                         f"not {loss!r}: each replica applies its settings to its examples.")
    return type(loss).from_config({**loss.get_config(), "reduction": None})


def _run(step, batches, prefix):
    """One pass over ``batches``: the mean loss and the accuracy per example, as ``fit`` logs them."""
    loss = correct = examples = 0.0
    for batch in batches:
        batch_loss, batch_correct, batch_examples = step(batch).numpy()
        loss, correct, examples = loss + batch_loss, correct + batch_correct, examples + batch_examples
    return {f"{prefix}loss": float(loss / examples), f"{prefix}accuracy": float(correct / examples)}
