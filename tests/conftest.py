"""Shared fixtures: the sample photos, a small checkpoint trained once, ../shared when present."""
import os
import re
import shutil
import subprocess
import sys

import matplotlib
import pytest

from lessons import data, paths

matplotlib.use("Agg")  # figures are drawn, never shown: no window, whatever the machine

SMALL_SIZE = 96  # fast, and still the real MobileNetV2 graph (alpha 1.0)


def weights_for_tests():
    """The ImageNet weights the course ships: never a download, never random."""
    return str(paths.IMAGENET_WEIGHTS)


@pytest.fixture(scope="session")
def sample():
    """data/sample, scanned: 100 photos, 10 classes."""
    return data.scan(paths.SAMPLE_DATA, progress=False)


@pytest.fixture
def folder(tmp_path):
    """A writable copy of data/sample."""
    return shutil.copytree(paths.SAMPLE_DATA, tmp_path / "photos")


@pytest.fixture(autouse=True)
def close_figures():
    """Every test leaves no figure open (pyplot keeps them all otherwise)."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def images_in(fig):
    return sum(len(ax.images) for ax in fig.axes)


@pytest.fixture(scope="module")
def small_classifier():
    """A fresh classifier at SMALL_SIZE from the ImageNet weights, one a test module."""
    from lessons import mobilenetv2

    return mobilenetv2.build_classifier(10, SMALL_SIZE, weights=weights_for_tests())


@pytest.fixture(scope="session")
def shared_dir():
    root = paths.shared_dir()
    if root is None:
        pytest.skip("needs ../shared (the full data sets), which a fresh clone does not have")
    return root


@pytest.fixture(scope="session")
def imagenet_weights():
    return weights_for_tests()


@pytest.fixture(scope="session")
def reference():
    if not (paths.REFERENCE_CHECKPOINT / "model.keras").exists():
        pytest.fail("the reference checkpoint checkpoints/waste-mobilenetv2 is missing from the project")
    return paths.REFERENCE_CHECKPOINT


# TensorFlow prints its C++ oneDNN notice on any x86 CPU with this set (by default only on some
# CPUs): every command-line test runs the noisy path, so that the noise cannot come back unseen.
NOISY_CPU = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="1")
# What TensorFlow and LiteRT print on their own: absl's C++ log lines (I0000 ...), oneDNN's and
# XNNPACK's notices, and the Python-side retracing reports.
NATIVE_NOTICE = re.compile(r"oneDNN|absl::|XNNPACK|^[IWEF]\d{4} |WARNING:tensorflow", re.MULTILINE)


def run_cli(*args, check=True):
    """``python -m lessons ARGS`` in a real subprocess, as a user would run it."""
    result = subprocess.run([sys.executable, "-m", "lessons", *map(str, args)], capture_output=True, text=True,
                            cwd=paths.REPO, timeout=900, env=NOISY_CPU)
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def small_checkpoint(tmp_path_factory):
    """A checkpoint trained by the command line on data/sample (both phases, small images)."""
    out = tmp_path_factory.mktemp("checkpoints") / "sample-small"
    run_cli("train", "--data", paths.SAMPLE_DATA, "--out", out, "--image-size", SMALL_SIZE,
            "--weights", weights_for_tests(), "--phase1-epochs", 3, "--phase2-epochs", 2, "--batch-size", 16,
            "--fine-tune-from", "block_15", "--seed", 1)
    return out


@pytest.fixture
def small_copy(small_checkpoint, tmp_path):
    """A private copy of the small checkpoint that a test may modify."""
    return shutil.copytree(small_checkpoint, tmp_path / "copy")
