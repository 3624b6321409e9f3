"""Shared fixtures: the sample photos, a small checkpoint trained once, ../shared when present."""
import shutil
import subprocess
import sys

import pytest

from lessons import paths
from lessons.model import offline_weights

SMALL_SIZE = 96  # fast, and still the real MobileNetV2 graph (alpha 1.0)


def weights_for_tests():
    """The ImageNet weights from ../shared when there, else random ('none'): never a download."""
    return offline_weights()[0]


@pytest.fixture(scope="session")
def shared_dir():
    root = paths.shared_dir()
    if root is None:
        pytest.skip("needs ../shared (full data sets, ImageNet weights), which a fresh clone does not have")
    return root


@pytest.fixture(scope="session")
def imagenet_weights(shared_dir):
    path = shared_dir / paths.SHARED_WEIGHTS_FILE
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return str(path)


@pytest.fixture(scope="session")
def reference():
    if not (paths.REFERENCE_CHECKPOINT / "model.keras").exists():
        pytest.fail("the reference checkpoint checkpoints/waste-mobilenetv2 is missing from the project")
    return paths.REFERENCE_CHECKPOINT


def run_cli(*args, check=True):
    """``python -m lessons ARGS`` in a real subprocess, as a user would run it."""
    result = subprocess.run([sys.executable, "-m", "lessons", *map(str, args)], capture_output=True, text=True,
                            cwd=paths.REPO, timeout=900)
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
