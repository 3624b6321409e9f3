"""The from-scratch baseline CNN and the comparison table."""
import dataclasses

import numpy as np
import pytest

from lessons import baseline, checkpoint, paths
from lessons import mobilenetv2


@pytest.fixture(scope="module")
def tiny_run():
    """Two epochs on random pixels: enough to see the weights move and the history fill."""
    rng = np.random.default_rng(0)
    x = {part: rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8) for part, n in (("train", 12), ("val", 6))}
    y = {part: rng.integers(0, 3, len(x[part])) for part in x}
    return baseline.train_baseline(x, y, 3, epochs=2, batch_size=4, patience=10)


def test_the_baseline_is_a_small_cnn_taking_pixels():
    model = baseline.build_baseline(10, image_size=64)
    assert model.input.shape[1:] == (64, 64, 3) and model.output.shape[1:] == (10,)
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert [conv.filters for conv in convs] == list(baseline.WIDTHS)
    assert model.get_layer("stage4_pool").output.shape[1:3] == (2, 2), "the 1/32 grid of MobileNetV2"
    # 3x3 kernels without bias, BatchNormalization's gamma and beta, the dense head.
    channels = (3, *baseline.WIDTHS)
    expected = sum(9 * c_in * c_out + 2 * c_out for c_in, c_out in zip(channels, channels[1:]))
    expected += baseline.WIDTHS[-1] * 10 + 10
    assert mobilenetv2.trainable_parameters(model) == expected
    # The parameters do not depend on the image size (global pooling before the head).
    assert mobilenetv2.trainable_parameters(baseline.build_baseline(10, image_size=224)) == expected


def test_the_baseline_takes_0_255_pixels_and_outputs_probabilities():
    model = baseline.build_baseline(4, image_size=32)
    probabilities = np.asarray(model(np.full((2, 32, 32, 3), 255.0)))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)


def test_training_records_every_epoch_and_changes_the_weights(tiny_run):
    assert [row["epoch"] for row in tiny_run.history] == [1, 2]
    assert set(tiny_run.history[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    assert tiny_run.seconds > 0
    fresh = baseline.build_baseline(3, 32)
    kernel = tiny_run.model.get_layer("stage1_conv").get_weights()[0]
    assert kernel.shape == fresh.get_layer("stage1_conv").get_weights()[0].shape
    assert tiny_run.trainable == mobilenetv2.trainable_parameters(fresh)
    # Same seed, same initial weights: training moved them.
    import keras

    keras.utils.set_random_seed(0)
    initial = baseline.build_baseline(3, 32).get_layer("stage1_conv").get_weights()[0]
    assert not np.allclose(kernel, initial)


def test_early_stopping_keeps_the_best_epoch():
    rng = np.random.default_rng(1)
    x = {part: rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8) for part in ("train", "val")}
    y = {part: rng.integers(0, 2, 8) for part in x}
    run = baseline.train_baseline(x, y, 2, epochs=6, batch_size=4, patience=1, lr=0.05, augment=False)
    assert 2 <= len(run.history) <= 6


def a_meta(**changes):
    """The reference checkpoint's meta.json with the numbers these tests choose."""
    meta = checkpoint.read(paths.REFERENCE_CHECKPOINT).meta
    parts = {name: dataclasses.replace(getattr(meta, name), **fields) for name, fields in changes.items()
             if isinstance(fields, dict)}
    return dataclasses.replace(meta, **{**changes, **parts})


META = a_meta(phase1={"test_accuracy": 0.8, "seconds": 12.0},
              phase2={"test_accuracy": 0.9, "seconds": 340.0, "fine_tune_from": "block_13"},
              test={"photos": 15}, trainable_parameters=1_689_000)


def test_the_comparison_rows_come_from_meta_and_the_baseline_run(tiny_run):
    rows = [baseline.baseline_row(tiny_run, 0.25, 15), *baseline.phase_rows(META, 12_810, "your run")]
    assert [r["accuracy"] for r in rows] == [0.25, 0.8, 0.9]
    assert [r["trainable"] for r in rows] == [tiny_run.trainable, 12_810, 1_689_000]
    assert [r["seconds"] for r in rows[1:]] == [12.0, 340.0]
    assert rows[2]["model"] == "your run: phase 2 (from block_13)"
    text = baseline.format_comparison(rows)
    lines = text.splitlines()
    assert len(lines) == 4 and "test accuracy" in lines[0]
    assert "80.0%" in lines[2] and "12,810" in lines[2] and "340 s" in lines[3]
    assert len({len(line) for line in lines}) == 1, "aligned columns"
