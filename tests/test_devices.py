"""Training says where it runs; mixed precision where it helps, float32 wherever it is saved."""
import numpy as np
import pytest

from lessons import devices, mobilenetv2, training
from lessons.paths import SAMPLE_DATA

ON_GPU = bool(devices.gpus())


def test_the_device_is_named():
    line = devices.describe()
    assert ("GPU" in line and "CPU" not in line) if ON_GPU else line.startswith("the CPU (TensorFlow sees no GPU")


def test_under_mixed_precision_the_head_still_outputs_float32():
    with devices.precision("mixed_float16"):
        clf = mobilenetv2.build_classifier(3, 32, weights="none")
    assert mobilenetv2.base_of(clf).get_layer("Conv1").compute_dtype == "float16"
    assert clf.output.dtype == "float32"
    restored = mobilenetv2.build_classifier(3, 32, weights="none")
    assert mobilenetv2.base_of(restored).get_layer("Conv1").compute_dtype == "float32"


@pytest.mark.skipif(ON_GPU, reason="on a GPU, mixed precision is allowed")
def test_mixed_precision_on_a_cpu_is_refused_before_any_work(tmp_path):
    config = training.TrainConfig(data=SAMPLE_DATA, mixed_precision=True)
    with pytest.raises(ValueError, match="--mixed-precision .* no GPU"):
        training.train(config, tmp_path / "never")
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(not ON_GPU, reason="needs a GPU that TensorFlow can see (none on this machine)")
@pytest.mark.slow
def test_a_mixed_precision_run_saves_a_float32_checkpoint(tmp_path):
    from lessons.inference import Predictor

    config = training.TrainConfig(data=SAMPLE_DATA, image_size=96, phase1_epochs=2, phase2_epochs=1,
                                  batch_size=16, mixed_precision=True)
    out = training.train(config, tmp_path / "mixed", verbose=0)
    clf = Predictor.load(out, runtime="keras")
    assert mobilenetv2.base_of(clf.runtime.model).get_layer("Conv1").compute_dtype == "float32"
    probabilities = clf.probabilities(sorted(SAMPLE_DATA.glob("*/*.jpg"))[:2])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
