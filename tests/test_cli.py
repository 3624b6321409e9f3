"""The command line end to end: train (in the fixture), evaluate, predict, export."""
import json

import numpy as np
import pytest

from lessons import checkpoint
from lessons.inference import Predictor
from lessons.paths import SAMPLE_DATA
from tests.conftest import NATIVE_NOTICE, run_cli

PHOTOS = sorted(SAMPLE_DATA.glob("*/*.jpg"))


@pytest.fixture(scope="module")
def small(small_checkpoint):
    """The checkpoint the commands run, loaded in this process: what their answers must equal."""
    return Predictor.load(small_checkpoint)


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "export"])
def test_every_command_has_help(command):
    assert "usage: python -m lessons " + command in run_cli(command, "--help").stdout


def test_evaluate_json_contract(small_checkpoint, small):
    result = run_cli("evaluate", "--checkpoint", small_checkpoint, "--data", SAMPLE_DATA, "--json")
    report = json.loads(result.stdout)
    predicted = [small.labels[i] for i in small.probabilities(PHOTOS).argmax(axis=1)]
    right = [label == photo.parent.name for label, photo in zip(predicted, PHOTOS)]
    assert report["photos"] == len(PHOTOS) and report["accuracy"] == pytest.approx(np.mean(right), abs=1e-9)
    assert set(report["per_class"]) == {p.name for p in SAMPLE_DATA.iterdir() if p.is_dir()}
    assert {"precision", "recall", "f1", "support"} <= set(report["per_class"]["glass"])
    # Evaluating on photos it trained on is allowed, but the user is told.
    assert "were used in training" in result.stderr and "--split test" in result.stderr


def test_evaluate_on_the_recorded_test_split(small_checkpoint, tmp_path):
    figure = tmp_path / "confusion.png"
    result = run_cli("evaluate", "--checkpoint", small_checkpoint, "--split", "test", "--json", "--figure", figure)
    report = json.loads(result.stdout)
    _, meta = checkpoint.read(small_checkpoint)
    assert report["photos"] == meta.test.photos
    assert report["accuracy"] == pytest.approx(meta.test.accuracy, abs=1e-9)
    assert figure.stat().st_size > 10_000


def test_predict_json_goes_on_past_a_bad_image(small_checkpoint, small, tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    result = run_cli("predict", "--checkpoint", small_checkpoint, "--json", PHOTOS[0], bad, PHOTOS[1], check=False)
    assert result.returncode != 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["image"] for line in lines] == [str(PHOTOS[0]), str(PHOTOS[1])]
    # The three likeliest classes, likeliest first, with the model's own probabilities.
    probabilities = small.probabilities([PHOTOS[0]])[0]
    top = np.argsort(-probabilities)[:3]
    assert [p["label"] for p in lines[0]["predictions"]] == [small.labels[i] for i in top]
    np.testing.assert_allclose([p["probability"] for p in lines[0]["predictions"]], probabilities[top], atol=1e-5)
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and str(bad) in errors[0] and "not an image" in errors[0]


def test_a_missing_checkpoint_is_one_clear_line(tmp_path):
    result = run_cli("predict", "--checkpoint", tmp_path / "nothing", PHOTOS[0], check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("error: Checkpoint directory") and "Traceback" not in result.stderr


def test_train_refuses_a_folder_with_bad_photos(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "broken.jpg").write_bytes(b"\xff\xd8\xff")
    result = run_cli("train", "--data", tmp_path, "--out", tmp_path / "ckpt", "--weights", "none", check=False)
    assert result.returncode == 2 and "a/broken.jpg" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "ckpt").exists()


@pytest.mark.slow
def test_export_writes_both_tflite_files_and_checks_them(small_copy):
    result = run_cli("export", "--checkpoint", small_copy)
    assert "int8" in result.stdout and "agrees with keras" in result.stdout
    # The converter's chatter stays out: stderr has the progress bars only.
    assert "TensorSpec" not in result.stdout and not NATIVE_NOTICE.search(result.stderr)
    assert [line for line in result.stderr.splitlines() if line.strip() and "photo/s]" not in line] == []
    _, meta = checkpoint.read(small_copy)
    for kind in ("fp32", "int8"):
        assert (small_copy / checkpoint.TFLITE_FILES[kind]).stat().st_size == meta.exports[kind].bytes
    assert meta.exports["fp32"].agreement_with_keras >= 0.95
    assert meta.exports["int8"].bytes < meta.exports["fp32"].bytes / 3
    assert meta.exports["int8"].calibration_photos > 0
    # Both formats serve predictions through the same command.
    for runtime in ("fp32", "int8"):
        out = run_cli("predict", "--checkpoint", small_copy, "--runtime", runtime, "--json", PHOTOS[0]).stdout
        assert json.loads(out)["predictions"][0]["label"]
