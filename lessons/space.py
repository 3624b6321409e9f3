"""A self-contained Hugging Face Space (and container) folder of the teaching site.

    python -m lessons space OUTDIR

writes everything the site needs and nothing the notebooks or tests need: ``app.py``, the
``lessons`` package, the reference checkpoint, the ImageNet weights, the
sample photos, the executed notebooks the site links to, the slim ``requirements.txt``, a
``README.md`` whose front matter is the project's own (sdk, its version, Python version,
app file) and a ``.gitattributes`` that sends every binary to LFS/Xet, as the Hub requires.
The ``Dockerfile`` builds its image from the same folder. The folder is built beside
OUTDIR and moved into place whole; an existing, non-empty OUTDIR is never overwritten.

Public API: :func:`write`, :func:`front_matter`.
"""
import shutil
from pathlib import Path

from lessons import atomic, paths

# What the site needs, relative to the project (folders are copied whole, minus caches).
CONTENTS = ("app.py", "LICENSE", "requirements.txt", "lessons", "weights", "data/sample",
            "checkpoints/" + paths.REFERENCE_CHECKPOINT.name)
NOTEBOOKS = "weeks/*.ipynb"  # the teaching tabs link to them
BINARIES = ("*.keras", "*.tflite", "*.h5", "*.jpg", "*.jpeg", "*.png", "*.webp")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.partial", "*.tmp-*")


def front_matter(readme=paths.REPO / "README.md"):
    """The YAML front matter of ``readme`` (the Spaces configuration), with its ``---`` lines."""
    text = Path(readme).read_text(encoding="utf-8")
    if not text.startswith("---\n") or "\n---\n" not in text[4:]:
        raise ValueError(f"{readme} does not start with a front matter block between two '---' lines.")
    return text[:text.index("\n---\n", 4) + 5]


def write(outdir):
    """Write the Space folder ``outdir``; returns its path. Refuses an existing non-empty folder."""
    outdir = Path(outdir)
    if outdir.exists() and any(outdir.iterdir()):
        raise ValueError(f"{outdir} exists and is not empty; choose a new folder (nothing was written).")
    with atomic.building(outdir) as tmp:
        for relative in CONTENTS:
            _copy(paths.REPO / relative, tmp / relative)
        for notebook in sorted(paths.REPO.glob(NOTEBOOKS)):
            _copy(notebook, tmp / notebook.relative_to(paths.REPO))
        (tmp / "README.md").write_text(front_matter() + _README_BODY, encoding="utf-8")
        (tmp / ".gitattributes").write_text(
            "".join(f"{pattern} filter=lfs diff=lfs merge=lfs -text\n" for pattern in BINARIES))
    return outdir


def _copy(source, target):
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, ignore=SKIP)
    else:
        shutil.copy2(source, target)


_README_BODY = """
# MobileNetV2 Workbook: the teaching site

Upload a photo of waste to a MobileNetV2 fine-tuned on 3,074 real photos of ten kinds of
waste, see its three likeliest classes and where it looked (Grad-CAM), and play with the
ideas behind it, one tab a week: convolution cost, the ReLU spiral, the blocks, receptive
fields. The weekly notebooks that teach all of it are linked from each tab.

This folder was written by `python -m lessons space` from the MobileNetV2 Workbook; edit the
course, not this copy. Code: MIT (LICENSE). Photos: data/sample/SOURCE.md. ImageNet weights:
weights/SOURCE.md (Apache-2.0).
"""
