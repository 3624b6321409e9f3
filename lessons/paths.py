"""Where the course finds its data, weights and checkpoints.

A fresh clone has ``data/sample``, the ImageNet weights (``weights/``) and the reference
checkpoint. On the course's own machines a ``shared/`` folder beside the project adds the
full photo sets; ``LESSONS_SHARED`` points elsewhere.
"""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DATA = REPO / "data" / "sample"
# Where `python -m lessons download waste` puts the course's 4,396 photos (not part of a clone).
WASTE_FULL = REPO / "data" / "waste-full"
CHECKPOINTS = REPO / "checkpoints"
REFERENCE_CHECKPOINT = CHECKPOINTS / "waste-mobilenetv2"
# The ImageNet MobileNetV2 (alpha 1.0, no top) weights, shipped so that nothing needs a download.
IMAGENET_WEIGHTS = REPO / "weights" / "mobilenet_v2_1.0_224_no_top_imagenet_jcm.weights.h5"


def sample_photos():
    """The first sample photo of each class, in class order: one a class, to try a model or a figure on."""
    return [sorted(folder.glob("*.jpg"))[0] for folder in sorted(SAMPLE_DATA.iterdir()) if folder.is_dir()]


def student_checkpoint(fast=False):
    """Where week 4 saves the student's own checkpoint, and week 5 and the app find it.

    Fast-mode runs (CI, `make test`) get a folder of their own, so that running the tests
    never overwrites a student's full training run.
    """
    return CHECKPOINTS / ("my-waste-mobilenetv2-fast" if fast else "my-waste-mobilenetv2")


def shared_dir():
    """The shared folder (the full data sets) when there is one, else None."""
    path = Path(os.environ.get("LESSONS_SHARED", REPO.parent / "shared"))
    return path if path.is_dir() else None


def shared_path(relative):
    """A path inside the shared folder if it exists there, else None."""
    root = shared_dir()
    if root is None:
        return None
    path = root / relative
    return path if path.exists() else None
