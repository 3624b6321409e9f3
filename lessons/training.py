"""Two-phase transfer learning of MobileNetV2, from a photo folder to a checkpoint.

Phase 1 trains only the new head on the frozen ImageNet base. Because the base does not
change, its features can be computed once and cached: every epoch then costs a pass over
a (photos x 1280) array instead of a pass through 150 layers. Phase 2 unfreezes the top
blocks and fine-tunes them, at a learning rate ten times lower, through the whole graph.

Photos are read from disk batch by batch (:class:`lessons.streaming.PhotoStream` in a
``tf.data`` pipeline, :func:`lessons.pipeline.batches`) and the cached features are a
memory-mapped ``.npy``, so memory does not grow with the number of photos. On several
GPUs or machines :func:`train` runs under a ``tf.distribute`` strategy
(:mod:`lessons.distribute`), and only the chief writes.

Each epoch is recorded in a ``<checkpoint>.partial`` folder beside the destination (model,
best weights, early-stopping state, cached features): an interrupted run resumes from its
last completed epoch, and the checkpoint directory itself is only written at the end.

Public API: :class:`TrainConfig`, :class:`PhaseRecorder`, :class:`PartialRun`,
:func:`run_phase1`, :func:`run_phase2`, :func:`fit`, :func:`extract_features`,
:func:`save_features`, :func:`train`, :class:`HeldOutPredictions`.
"""
import dataclasses
import json
import math
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tqdm.auto import tqdm

from lessons import (atomic, checkpoint, data, devices, distribute, evaluation, metadata, mobilenetv2, paths, pipeline,
                     splits, streaming)

PARTIAL_SUFFIX = ".partial"


@dataclass
class TrainConfig:
    """Every setting of a training run; the whole of it is recorded in meta.json."""

    data: str
    image_size: int = 224
    alpha: float = 1.0
    weights: str = None  # "imagenet", a .weights.h5 path or "none"; None: model.default_weights()
    seed: int = 0
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    min_per_class: int = data.MIN_PER_CLASS
    skip_bad_files: bool = False
    batch_size: int = 32
    dropout: float = 0.2
    hidden_units: int = 0
    label_smoothing: float = 0.1
    augment: bool = True
    cache_features: bool = True
    phase1_epochs: int = 30
    phase1_lr: float = 1e-3
    phase2_epochs: int = 10
    fine_tune_from: str = "block_13"
    phase2_lr: float = None  # None: ten times lower than phase1_lr
    patience: int = 4
    test_time_flip: bool = False
    mixed_precision: bool = False

    def __post_init__(self):
        self.data = str(self.data)
        self.weights = str(self.weights) if self.weights is not None else mobilenetv2.default_weights()
        self.fine_tune_from = str(self.fine_tune_from)
        mobilenetv2.parse_block(self.fine_tune_from)  # fail now, not after phase 1
        if self.phase2_lr is None:
            self.phase2_lr = self.phase1_lr / 10


class PhaseRecorder:
    """Early stopping, best weights and an epoch log that survive an interruption.

    After every epoch it saves the model (with its optimizer state) and the best weights
    so far, then its own state (``phase<N>.json``), which is the commit point: a resumed
    run starts from the last epoch whose state was written.
    """

    def __init__(self, phase, run_dir, patience):
        self.phase, self.run_dir, self.patience = phase, Path(run_dir), patience
        self.state_file = self.run_dir / f"phase{phase}.json"
        state = json.loads(self.state_file.read_text()) if self.state_file.exists() else {}
        self.rows = state.get("rows", [])
        self.best = state.get("best", math.inf)
        self.best_epoch = state.get("best_epoch")
        self.wait = state.get("wait", 0)
        self.done = state.get("done", False)

    @property
    def best_weights(self):
        return self.run_dir / f"phase{self.phase}_best.weights.h5"

    @property
    def epochs_run(self):
        return self.rows[-1]["epoch"] if self.rows else 0

    def last_model(self, epoch=None):
        return self.run_dir / f"phase{self.phase}_epoch{epoch or self.epochs_run}.keras"

    def callback(self):
        import keras

        recorder = self

        class Callback(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                recorder.epoch_end(self.model, epoch + 1, logs or {})
                if recorder.wait >= recorder.patience:
                    self.model.stop_training = True

        return Callback()

    def epoch_end(self, model, epoch, logs):
        previous = self.last_model() if self.rows else None
        self.rows.append({"epoch": epoch, "phase": self.phase, **{k: float(v) for k, v in logs.items()}})
        if logs["val_loss"] < self.best:
            self.best, self.best_epoch, self.wait = float(logs["val_loss"]), epoch, 0
            atomic.write_with(self.best_weights, model.save_weights)
        else:
            self.wait += 1
        atomic.write_with(self.last_model(), model.save)
        self.save()
        if previous:
            previous.unlink(missing_ok=True)

    def mark_done(self):
        """The phase is over and its final weights are saved: a resumed run skips it."""
        self.done = True
        self.save()

    def save(self):
        atomic.write_json(self.state_file, {"rows": self.rows, "best": self.best, "best_epoch": self.best_epoch,
                                                "wait": self.wait, "done": self.done})

    def summary(self):
        best = next((r for r in self.rows if r["epoch"] == self.best_epoch), {})
        return {"epochs_run": len(self.rows), "best_epoch": self.best_epoch,
                "best_val_accuracy": best.get("val_accuracy"), "best_val_loss": best.get("val_loss")}


class PartialRun:
    """The ``<checkpoint>.partial`` folder of a run in progress.

    It holds the run's settings (``config.json``, with the number of replicas), one state
    file per phase, the models and weights those name, and the cached features. A run with
    other settings never resumes from it: that would mix two experiments in one checkpoint.

    ``scratch=True`` (the workers of a cluster other than the chief): the run is kept in a
    temporary folder, started from a copy of the chief's ``.partial`` folder when there is
    one to resume, so that every worker resumes from the same epoch and none leaves files.
    """

    def __init__(self, out_dir, config, resume=True, replicas=1, scratch=False):
        partial = Path(out_dir).with_name(Path(out_dir).name + PARTIAL_SUFFIX)
        self._scratch = Path(tempfile.mkdtemp(prefix=f"{partial.name}-worker-")) if scratch else None
        self.dir = self._scratch / partial.name if scratch else partial
        if scratch and resume and partial.exists():
            shutil.copytree(partial, self.dir)
        config_file = self.dir / "config.json"
        settings = dataclasses.asdict(config) | {"replicas": replicas}
        if resume and config_file.exists():
            saved = json.loads(config_file.read_text())
            if saved != settings:
                changed = sorted(k for k in settings if saved.get(k) != settings[k])
                raise ValueError(f"{self.dir} holds an interrupted run with other settings ({', '.join(changed)}). "
                                 "Repeat the same command to resume it, or pass --restart to discard it.")
            print(f"resuming the interrupted run in {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir.mkdir(parents=True)
            atomic.write_json(config_file, settings)

    def recorder(self, phase, patience):
        return PhaseRecorder(phase, self.dir, patience)

    def features(self, part, model, stream, verbose=1):
        """``(features, labels)`` of the photos of ``stream``: the frozen base's pooled features,
        computed once per run and kept in the run folder as a memory-mapped ``.npy`` that phase 1
        reads batch by batch, however many photos there are."""
        path, labels = self.dir / f"features_{part}.npy", self.dir / f"labels_{part}.npy"
        if not path.exists():
            with atomic.replacing(path) as features:  # the features file is the commit point: last
                found = save_features(model, stream, features, verbose)
                atomic.write_with(labels, lambda tmp: np.save(tmp, found))
        return np.load(path, mmap_mode="r"), np.load(labels)

    def remove(self):
        shutil.rmtree(self._scratch or self.dir, ignore_errors=True)


def run_phase1(model, run, config, photos, verbose=1):
    """Train the head on the frozen base; returns its :class:`PhaseRecorder`.

    ``photos``: a :class:`lessons.streaming.PhotoStream` (or an array and its labels) per part,
    ``{"train": ..., "val": ...}``.
    """
    recorder = run.recorder(1, config.patience)
    final = run.dir / "phase1_final.weights.h5"
    mobilenetv2.set_trainable_from(model, None)
    if not recorder.done:
        if config.cache_features:
            inputs = {part: run.features(part, model, photos[part], verbose) for part in ("train", "val")}
            trainee, augment = mobilenetv2.head_model(model), None
        else:
            inputs, trainee = {part: _with_labels(photos[part]) for part in ("train", "val")}, model
            augment = pipeline.augmentation(config.seed) if config.augment else None
        trainee = fit(trainee, recorder, inputs, config, config.phase1_lr, augment, 0, config.phase1_epochs,
                      verbose)
        mobilenetv2.copy_head_weights(trainee, model)
        atomic.write_with(final, model.save_weights)
        recorder.mark_done()
    model.load_weights(final)
    return recorder


def run_phase2(model, run, config, photos, first_epoch, verbose=1):
    """Fine-tune from ``config.fine_tune_from`` up; returns its :class:`PhaseRecorder`."""
    recorder = run.recorder(2, config.patience)
    final = run.dir / "phase2_final.weights.h5"
    if config.phase2_epochs <= 0:
        return recorder
    mobilenetv2.set_trainable_from(model, config.fine_tune_from)
    if not recorder.done:
        augment = pipeline.augmentation(config.seed + 10) if config.augment else None
        inputs = {part: _with_labels(photos[part]) for part in ("train", "val")}
        trainee = fit(model, recorder, inputs, config, config.phase2_lr, augment, first_epoch,
                      first_epoch + config.phase2_epochs, verbose)
        atomic.write_with(final, trainee.save_weights)
        recorder.mark_done()
    model.load_weights(final)
    return recorder


def _with_labels(photos):
    """A part given as a PhotoStream, or as an (inputs, labels) pair, as an (inputs, labels) pair."""
    return (photos, photos.labels) if isinstance(photos, streaming.PhotoStream) else photos


def fit(trainee, recorder, inputs, config, lr, augment, first_epoch, last_epoch, verbose):
    """``trainee.fit`` from where the recorder left off; returns the model with its best weights.

    ``inputs``: ``{"train": (inputs, labels), "val": (inputs, labels)}``, read by :func:`lessons.pipeline.batches`.

    A resumed phase continues with the model saved after its last completed epoch, which
    carries the optimizer's state too (Adam's moments), so no step is taken twice. Called
    inside a ``tf.distribute`` strategy's scope, it trains under that strategy.
    """
    import keras
    import tensorflow as tf

    if recorder.epochs_run:
        trainee = keras.models.load_model(recorder.last_model(), safe_mode=True)
    else:
        trainee.compile(optimizer=keras.optimizers.Adam(lr),
                        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
                        metrics=["accuracy"])
    num_classes = trainee.output.shape[-1]
    train = pipeline.batches(*inputs["train"], num_classes, config.batch_size, shuffle_seed=config.seed,
                             augment=augment)
    val = pipeline.batches(*inputs["val"], num_classes, config.batch_size)
    start = max(first_epoch, recorder.epochs_run)
    if start < last_epoch and recorder.wait < recorder.patience:
        # model.fit on one machine; under several, the same epochs by lessons.distribute's own step.
        distribute.fit(trainee, train, val, tf.distribute.get_strategy(), start, last_epoch,
                       [recorder.callback()], verbose)
    if recorder.best_weights.exists():
        trainee.load_weights(recorder.best_weights)
    return trainee


def extract_features(model, pixels, verbose=1):
    """The frozen base's pooled features of ``pixels``: the one pass phase 1 needs."""
    return mobilenetv2.predict(mobilenetv2.features_model(model), pixels, verbose)


def _on_this_worker(model):
    """``model``'s outputs for a batch of pixels, computed by this process alone: under several
    machines ``model.predict`` is a collective that every worker must join, batch for batch."""
    import tensorflow as tf

    call = tf.function(lambda pixels: model(pixels, training=False), reduce_retracing=True)
    return lambda pixels: call(pixels).numpy()


def save_features(model, stream, path, verbose=1):
    """:func:`extract_features` of the photos of ``stream``, written to ``path`` (``.npy``) batch
    by batch, so that neither the photos nor their features need to fit in memory; returns the
    labels of the photos written (all of them, unless the stream skips unreadable ones)."""
    features = mobilenetv2.features_model(model)
    predict = _on_this_worker(features)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(len(stream), features.output.shape[-1]))
    labels, written = [], 0
    with tqdm(total=len(stream), desc="features of the frozen base", unit="photo", disable=not verbose,
              leave=False) as bar:
        for _, pixels, batch_labels in stream.batches(mobilenetv2.PREDICT_BATCH):
            out[written:written + len(pixels)] = predict(pixels)
            written += len(pixels)
            labels.append(batch_labels)
            bar.update(len(pixels))
    del out  # flushed to disk
    if written < len(stream):  # photos skipped on the way: keep the rows written, read from disk as they go
        rows = np.load(path, mmap_mode="r")
        atomic.write_with(path, lambda tmp: np.save(tmp, rows[:written]))
        del rows  # the map of the file just replaced
    return np.concatenate(labels) if labels else np.zeros(0, np.int64)


def train(config, out_dir, command="", resume=True, verbose=1, devices="all"):
    """Run both phases on ``config.data`` and write a checkpoint directory to ``out_dir``.

    Args:
        config: a :class:`TrainConfig`, every setting of the run (all recorded in meta.json).
        out_dir: the checkpoint directory to write; it appears whole, or not at all.
        command: the command line that started the run, recorded in meta.json.
        resume: go on from an interrupted run with the same settings (False starts afresh).
        verbose: Keras' verbosity (0 silent, 1 progress bars, 2 one line an epoch).
        devices: "all" GPUs, or how many (a CPU without GPUs is split into that many logical
            devices); with a ``TF_CONFIG`` cluster, every worker's. See :mod:`lessons.distribute`.
    """
    import keras

    strategy = distribute.strategy_for(devices)  # first: before TensorFlow touches a device
    replicas, chief = distribute.replicas(strategy), distribute.is_chief(strategy)
    _check_precision(config, strategy)
    scaled = _scaled(config, replicas)
    print(f"training on {_describe(strategy)}"
          + (", in mixed precision (float16 arithmetic, float32 weights)" if config.mixed_precision else ""))
    out_dir = Path(out_dir)
    run = PartialRun(out_dir, config, resume, replicas, scratch=not chief)
    try:
        dataset = data.scan(config.data, config.min_per_class, config.skip_bad_files, progress=verbose > 0)
        split = splits.split(dataset, config.seed, config.val_fraction, config.test_fraction)
        _report_split(dataset, split)
        photos = {part: streaming.PhotoStream(dataset.paths(getattr(split, part)), config.image_size,
                                              dataset.labels[getattr(split, part)], config.skip_bad_files)
                  for part in ("train", "val", "test")}

        keras.utils.set_random_seed(config.seed)
        with strategy.scope(), _precision(config), streaming.failures_named(photos.values()):
            model = _classifier(config, len(dataset.class_names))
            phase1, phase2, results, predictions = _both_phases(model, run, scaled, photos, verbose)
        if config.mixed_precision:
            model = _float32_copy(model, config, len(dataset.class_names))
            predictions = _held_out(model, photos["test"])  # the record is of the float32 model saved
        _report_skipped(photos)
        served = predictions.flipped if config.test_time_flip else predictions.plain
        test = evaluation.report(predictions.labels, served, dataset.class_names,
                                 dataset.paths(split.test[predictions.found]))
        if chief:
            meta = _meta(config, dataset, split, phase1, phase2, test, results, command, model, scaled, replicas)
            checkpoint.save(out_dir, model, dataset.class_names, meta, split.record(dataset), phase1.rows + phase2.rows)
            run.remove()
    finally:
        if not chief:
            run.remove()  # a worker's records never outlive it; the chief's stay for a resume
    shown = Path(out_dir).resolve()
    shown = shown.relative_to(paths.REPO) if shown.is_relative_to(paths.REPO) else shown
    print(f"test accuracy {test.accuracy:.1%} on {len(test.labels)} held-out photos; "
          + (f"checkpoint written to {shown}" if chief else "the chief writes the checkpoint"))
    return out_dir


def _both_phases(model, run, config, photos, verbose):
    """Phase 1, then phase 2, each timed and scored on the test photos for the record only
    (nothing is chosen by these numbers); the test predictions after phase 2."""
    started = time.perf_counter()
    phase1 = run_phase1(model, run, config, photos, verbose)
    results = {"phase1": {"seconds": time.perf_counter() - started, **_held_out(model, photos["test"]).scores()}}
    started = time.perf_counter()
    phase2 = run_phase2(model, run, config, photos, phase1.epochs_run, verbose)
    predictions = _held_out(model, photos["test"])
    results["phase2"] = {"seconds": time.perf_counter() - started, **predictions.scores()}
    return phase1, phase2, results, predictions


def _precision(config):
    return devices.precision("mixed_float16" if config.mixed_precision else "float32")


def _check_precision(config, strategy):
    if config.mixed_precision and not devices.gpus():
        raise ValueError("--mixed-precision speeds up training on a GPU (float16 arithmetic); TensorFlow sees no "
                         "GPU here, where it would only slow training down. Leave the option out.")
    if config.mixed_precision and distribute.is_multi_worker(strategy):
        raise ValueError("--mixed-precision is for one machine: across several (TF_CONFIG) train in float32.")


def _scaled(config, replicas):
    """The settings each step uses with ``replicas`` in sync: ``batch_size`` photos per replica, and
    learning rates ``replicas`` times larger for a global batch ``replicas`` times larger (the
    linear scaling rule, Goyal et al. 2017). One replica: ``config`` itself."""
    return dataclasses.replace(config, batch_size=config.batch_size * replicas,
                               phase1_lr=config.phase1_lr * replicas, phase2_lr=config.phase2_lr * replicas)


def _describe(strategy):
    replicas = distribute.replicas(strategy)
    if replicas == 1 and not distribute.is_multi_worker(strategy):
        return devices.describe()
    where = ("several machines (TF_CONFIG), this one on " if distribute.is_multi_worker(strategy) else "") + \
        devices.describe()
    return f"{where}; {replicas} replicas in sync, so the batch and the learning rates are {replicas} times larger"


def _classifier(config, num_classes, weights=None):
    return mobilenetv2.build_classifier(num_classes, config.image_size, config.alpha,
                                config.weights if weights is None else weights, config.dropout, config.hidden_units)


def _float32_copy(model, config, num_classes):
    """The trained model rebuilt in float32: checkpoints run anywhere (CPU, TFLite) in float32.
    Mixed precision keeps its weights in float32, so the copy is exact."""
    copy = _classifier(config, num_classes, weights="none")
    copy.set_weights(model.get_weights())
    return copy


class HeldOutPredictions(NamedTuple):
    """The test photos read (indices into the stream), their labels, and the model's
    probabilities of each photo alone and averaged with its mirror image."""

    found: np.ndarray
    labels: np.ndarray
    plain: np.ndarray
    flipped: np.ndarray

    def scores(self):
        return {"test_accuracy": float(np.mean(self.plain.argmax(1) == self.labels)),
                "test_accuracy_flip": float(np.mean(self.flipped.argmax(1) == self.labels))}


def _held_out(model, stream):
    """:class:`HeldOutPredictions` of ``model`` on the test photos of ``stream``, in one pass."""
    both = mobilenetv2.plain_and_flipped(_on_this_worker(model))
    found, labels, probabilities = stream.predict(both, mobilenetv2.PREDICT_BATCH, progress=False)
    return HeldOutPredictions(found, labels, probabilities[:, 0], probabilities.mean(axis=1))


def _report_skipped(photos):
    for path in sorted(path for stream in photos.values() for path in stream.skipped):
        print(f"skipped, could not be read during the run: {path}")


def _report_split(dataset, split):
    s = split.summary()
    print(f"{len(dataset)} photos in {len(dataset.class_names)} classes -> train {s.counts['train']}, "
          f"val {s.counts['val']}, test {s.counts['test']}; {s.near_duplicate_groups} near-duplicate "
          f"groups ({s.photos_in_groups} photos) each kept inside one part")
    for group in split.cross_class_groups:
        print(f"  near-duplicates under different labels (a labelling error or a false match): {', '.join(group)}")


def _meta(config, dataset, split, phase1, phase2, test, results, command, model, scaled, replicas):
    import keras
    import tensorflow as tf

    weights = mobilenetv2.resolve_weights(config.weights)
    weights_file = Path(weights) if weights not in (None, "imagenet") else None
    weights = checkpoint.relative_to_repo(weights_file) if weights_file else str(weights or "none")
    cut = mobilenetv2.first_layer_of(model, config.fine_tune_from) if config.phase2_epochs > 0 else None
    return metadata.Metadata(
        format_version=metadata.FORMAT_VERSION,
        backbone="keras.applications.MobileNetV2", alpha=config.alpha, image_size=config.image_size,
        input="RGB pixels 0-255, letterboxed to a square with grey bars (lessons.images.load_pixels)",
        test_time_flip=config.test_time_flip,
        weights=metadata.Weights(weights, checkpoint.sha256_of(weights_file) if weights_file else None),
        data=metadata.DataSource(checkpoint.relative_to_repo(dataset.root), dataset.sha256, len(dataset),
                                 len(dataset.class_names), list(dataset.skipped)),
        split=split.summary(),
        phase1=metadata.Phase(**phase1.summary(), lr=config.phase1_lr, cached_features=config.cache_features,
                              **results["phase1"]),
        phase2=metadata.Phase(**phase2.summary(), lr=config.phase2_lr, fine_tune_from=config.fine_tune_from,
                              first_trainable_layer=cut[1] if cut else None, **results["phase2"]),
        test=metadata.HeldOut(test.accuracy, len(test.labels), config.test_time_flip, test.per_class),
        trainable_parameters=mobilenetv2.trainable_parameters(model),
        config=dataclasses.asdict(config) | {"weights": weights, "data": checkpoint.relative_to_repo(dataset.root)},
        replicas=metadata.Replicas(replicas, scaled.batch_size, scaled.phase1_lr, scaled.phase2_lr),
        command=command,
        versions={"keras": keras.__version__, "tensorflow": tf.__version__, "python": platform.python_version()},
    )
