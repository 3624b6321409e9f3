"""Two-phase training: caching is exact, runs resume, checkpoints are never half-written."""
import dataclasses
import json
import shutil

import numpy as np
import pytest

from lessons import checkpoint, data, mobilenetv2, paths, pipeline, splits, streaming, training
from lessons.inference import Predictor
from lessons.paths import SAMPLE_DATA
from tests.conftest import SMALL_SIZE, weights_for_tests


def small_config(**changes):
    settings = dict(data=SAMPLE_DATA, image_size=SMALL_SIZE, weights=weights_for_tests(), batch_size=16,
                    phase1_epochs=3, phase2_epochs=2, fine_tune_from="block_16", patience=10)
    return training.TrainConfig(**{**settings, **changes})


@pytest.fixture(scope="module")
def sample_arrays():
    dataset = data.scan(SAMPLE_DATA, progress=False)
    split = splits.split(dataset, seed=0)
    x = {p: pipeline.load_images(dataset.paths(getattr(split, p)), SMALL_SIZE, progress=False)
         for p in ("train", "val")}
    y = {p: dataset.labels[getattr(split, p)] for p in ("train", "val")}
    return x, y


@pytest.fixture(scope="module")
def sample_streams():
    dataset = data.scan(SAMPLE_DATA, progress=False)
    split = splits.split(dataset, seed=0)
    return {p: streaming.PhotoStream(dataset.paths(getattr(split, p)), SMALL_SIZE, dataset.labels[getattr(split, p)])
            for p in ("train", "val")}


def test_cached_features_learn_the_same_head_as_the_frozen_graph(sample_streams, tmp_path):
    """With augmentation and dropout off, caching changes the cost of phase 1, not its result."""
    heads = {}
    initial = None
    for cached in (True, False):
        config = small_config(cache_features=cached, augment=False, dropout=0.0, phase1_epochs=4)
        clf = mobilenetv2.build_classifier(10, SMALL_SIZE, weights=config.weights, dropout=0.0)
        initial = initial or clf.get_layer(mobilenetv2.OUTPUT_NAME).get_weights()
        clf.get_layer(mobilenetv2.OUTPUT_NAME).set_weights(initial)
        run = training.PartialRun(tmp_path / f"cached-{cached}", config)
        recorder = training.run_phase1(clf, run, config, sample_streams, verbose=0)
        heads[cached] = (clf.get_layer(mobilenetv2.OUTPUT_NAME).get_weights(), [r["loss"] for r in recorder.rows])
    (w_cached, b_cached), losses_cached = heads[True]
    (w_graph, b_graph), losses_graph = heads[False]
    assert not np.allclose(w_cached, initial[0]), "the head did learn"
    np.testing.assert_allclose(losses_cached, losses_graph, rtol=1e-4)
    np.testing.assert_allclose(w_cached, w_graph, atol=1e-4)
    np.testing.assert_allclose(b_cached, b_graph, atol=1e-4)


def test_cached_features_are_a_memory_mapped_file_equal_to_the_features_in_memory(sample_streams, sample_arrays,
                                                                                  tmp_path):
    clf = mobilenetv2.build_classifier(10, SMALL_SIZE, weights=weights_for_tests())
    run = training.PartialRun(tmp_path / "ckpt", small_config())
    features, labels = run.features("val", clf, sample_streams["val"], verbose=0)
    assert isinstance(features, np.memmap) and (run.dir / "features_val.npy").exists()
    x, y = sample_arrays
    np.testing.assert_allclose(features, training.extract_features(clf, x["val"], verbose=0), atol=1e-5)
    np.testing.assert_array_equal(labels, y["val"])


def _break_a_training_photo_after_the_scan(monkeypatch):
    """A photo that scans well, then turns unreadable before training reads it (a disk, a sync)."""
    broken, split = [], splits.split

    def split_then_break(dataset, *args, **kwargs):
        parts = split(dataset, *args, **kwargs)
        broken.append(dataset.paths(parts.train)[0])
        broken[0].write_bytes(b"no longer a JPEG")
        return parts

    monkeypatch.setattr(training.splits, "split", split_then_break)
    return broken


@pytest.mark.parametrize("cached", [True, False], ids=["cached-features", "photos"])
def test_a_photo_unreadable_mid_run_stops_training_naming_it_and_writes_nothing(tmp_path, monkeypatch, cached):
    shutil.copytree(SAMPLE_DATA, tmp_path / "photos")
    broken = _break_a_training_photo_after_the_scan(monkeypatch)
    out = tmp_path / "ckpt"
    config = small_config(data=tmp_path / "photos", phase1_epochs=1, phase2_epochs=1, cache_features=cached)
    with pytest.raises(data.DataError, match="could not be read during the run") as error:
        training.train(config, out, verbose=0)
    assert str(broken[0]) in str(error.value) and "--skip-bad-files" in str(error.value)
    assert not out.exists()


def test_a_photo_unreadable_mid_run_is_skipped_and_listed_with_skip_bad_files(tmp_path, monkeypatch, capsys):
    shutil.copytree(SAMPLE_DATA, tmp_path / "photos")
    broken = _break_a_training_photo_after_the_scan(monkeypatch)
    config = small_config(data=tmp_path / "photos", phase1_epochs=1, phase2_epochs=1, skip_bad_files=True)
    training.train(config, tmp_path / "ckpt", verbose=0)
    assert f"skipped, could not be read during the run: {broken[0]}" in capsys.readouterr().out
    meta = checkpoint.read(tmp_path / "ckpt").meta
    assert meta.test.photos == meta.split.counts["test"]  # a training photo broke, no test photo


def test_an_interrupted_run_resumes_from_its_last_completed_epoch(tmp_path, monkeypatch):
    config = small_config(phase1_epochs=3, phase2_epochs=3)
    out = tmp_path / "ckpt"
    original = training.PhaseRecorder.epoch_end

    def crash_in_phase_two(self, model, epoch, logs):
        original(self, model, epoch, logs)
        if self.phase == 2 and epoch == 5:
            raise KeyboardInterrupt  # the student closes the laptop

    monkeypatch.setattr(training.PhaseRecorder, "epoch_end", crash_in_phase_two)
    with pytest.raises(KeyboardInterrupt):
        training.train(config, out, verbose=0)
    assert not out.exists(), "no checkpoint until the run is complete"
    state = json.loads((out.with_name("ckpt.partial") / "phase2.json").read_text())
    assert [r["epoch"] for r in state["rows"]] == [4, 5]

    monkeypatch.setattr(training.PhaseRecorder, "epoch_end", original)
    training.train(config, out, verbose=0)
    history = checkpoint.read_json(out, checkpoint.HISTORY_FILE)
    assert [(r["epoch"], r["phase"]) for r in history] == [(1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (6, 2)]
    assert not out.with_name("ckpt.partial").exists()


def test_a_run_with_other_settings_does_not_resume_silently(tmp_path):
    out = tmp_path / "ckpt"
    training.PartialRun(out, small_config(seed=1))
    with pytest.raises(ValueError, match="other settings \\(seed\\)"):
        training.PartialRun(out, small_config(seed=2))
    training.PartialRun(out, small_config(seed=2), resume=False)  # --restart


def test_a_checkpoint_records_what_made_it(small_checkpoint):
    labels, meta = checkpoint.read(small_checkpoint)
    assert labels == list(data.scan(SAMPLE_DATA, progress=False).class_names)
    assert meta.image_size == SMALL_SIZE and meta.alpha == 1.0
    assert meta.command.startswith("python -m lessons train --data")
    assert meta.data.sha256 == data.scan(SAMPLE_DATA, progress=False).sha256
    assert meta.phase2.first_trainable_layer == "block_15_expand"
    # The recorded accuracy is that of the saved model on the recorded test photos.
    photos, labels = checkpoint.split_photos(small_checkpoint, "test")
    predicted = Predictor.load(small_checkpoint, runtime="keras").probabilities(photos).argmax(axis=1)
    assert meta.test.photos == len(photos)
    assert meta.test.accuracy == pytest.approx(np.mean(predicted == labels), abs=1e-9)
    if meta.weights.source != "none":
        assert meta.weights.sha256 == checkpoint.sha256_of(weights_for_tests())
    split = checkpoint.read_split(small_checkpoint)
    assert split.seed == 1 and len(split.train) + len(split.val) + len(split.test) == 100
    history = checkpoint.read_json(small_checkpoint, checkpoint.HISTORY_FILE)
    assert {r["phase"] for r in history} == {1, 2}
    assert (small_checkpoint / checkpoint.MODEL_FILE).stat().st_size < 12e6  # no optimizer state inside


def test_a_checkpoint_round_trip_predicts_exactly_as_the_model_in_memory(tmp_path, sample_arrays):
    x, _ = sample_arrays
    model = mobilenetv2.build_classifier(10, SMALL_SIZE, weights=weights_for_tests())
    model.get_layer(mobilenetv2.OUTPUT_NAME).set_weights([w + 0.01 for w in model.get_layer(mobilenetv2.OUTPUT_NAME).get_weights()])
    labels = [f"class {i}" for i in range(10)]
    meta = dataclasses.replace(checkpoint.read(paths.REFERENCE_CHECKPOINT).meta, image_size=SMALL_SIZE,
                               test_time_flip=False)  # the model alone, not averaged with the mirror image
    checkpoint.save(tmp_path / "ckpt", model, labels, meta)
    loaded = Predictor.load(tmp_path / "ckpt", runtime="keras")
    assert loaded.labels == labels
    np.testing.assert_allclose(loaded.predict_pixels(x["val"]), model.predict(x["val"], verbose=0), atol=1e-6)
