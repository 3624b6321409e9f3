"""A week opened alone in a simulated Colab: Colab's package versions, a fake ``google.colab``, an empty folder.

The simulation rebuilds Colab's GPU runtime's versions that matter here (TensorFlow 2.20, Keras 3.13,
ipywidgets 7, Gradio 5, NumPy 2.0) in a fresh venv; Python is this machine's 3.11, not Colab's 3.12.
The notebook's setup cell then clones the course (from ``WORKBOOK_GIT_URL``: a repository made of this
working tree), installs requirements-colab.txt over Colab's packages and runs the week to its end in fast mode.
"""
import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from lessons import colab, paths

# Colab's GPU runtime, November 2026 (as reported in the course's issue 9).
COLAB_RUNTIME = ["tensorflow==2.20.0", "keras==3.13.2", "ipywidgets==7.7.1", "gradio==5.50.0", "numpy==2.0.2",
                 "ipykernel", "nbclient", "nbformat", "matplotlib", "pandas", "tqdm", "pillow"]
WEEKS = ["week1_depthwise_separable", "week4_transfer_learning"]
# Runs a notebook with the kernel of the venv's own Python, and writes it back with its outputs.
RUN_NOTEBOOK = """
import sys, nbformat, nbclient
notebook = nbformat.read(sys.argv[1], as_version=4)
nbclient.NotebookClient(notebook, timeout=1200, kernel_name="python3").execute()
nbformat.write(notebook, sys.argv[1])
"""


@pytest.fixture(scope="module")
def colab_python(tmp_path_factory):
    """The venv's Python, with a ``google.colab`` module imported at start-up, as in Colab."""
    root = tmp_path_factory.mktemp("colab")
    subprocess.run([sys.executable, "-m", "venv", root / "venv"], check=True)
    python = root / "venv" / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", *COLAB_RUNTIME], check=True, timeout=1800)
    fake = root / "fake"
    (fake / "google" / "colab").mkdir(parents=True)  # no google/__init__.py: protobuf shares the namespace
    (fake / "google" / "colab" / "__init__.py").write_text('"""A stand-in for Colab\'s own module."""\n')
    (fake / "sitecustomize.py").write_text("import google.colab  # Colab's kernels start with it imported\n")
    return python, fake


@pytest.fixture(scope="module")
def course_repository(tmp_path_factory):
    """A git repository of the working tree as it is (what a push would publish), for the setup cell to clone."""
    root = tmp_path_factory.mktemp("published")
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=paths.REPO,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, files):
        if (paths.REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(paths.REPO / name, root / name)
    for command in (["init", "--quiet"], ["add", "--all"], ["-c", "user.name=ci", "-c", "user.email=ci@localhost",
                                                             "commit", "--quiet", "-m", "snapshot"]):
        subprocess.run(["git", *command], cwd=root, check=True)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("week", WEEKS)
def test_a_week_runs_alone_in_a_simulated_colab(colab_python, course_repository, tmp_path, week):
    python, fake = colab_python
    folder = tmp_path / "content"  # an empty folder with the notebook alone, as Colab opens it from GitHub
    folder.mkdir()
    notebook = folder / f"{week}.ipynb"
    notebook.write_bytes((paths.REPO / "weeks" / notebook.name).read_bytes())
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(fake), "WORKBOOK_MODE": "fast",
           colab.GIT_URL_ENV: str(course_repository)}
    result = subprocess.run([python, "-c", RUN_NOTEBOOK, notebook], cwd=folder, env=env, capture_output=True,
                            text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    cells = nbformat.read(notebook, as_version=4).cells
    setup = "".join(o.get("text", "") for o in cells[1].outputs)
    assert f"Colab: the course is in {folder / colab.CLONE}" in setup
    assert not [o for c in cells for o in c.get("outputs", []) if o.output_type == "error"]
    clone = folder / colab.CLONE
    say_versions = "import tensorflow, keras; print(tensorflow.__version__, keras.__version__)"
    versions = subprocess.run([python, "-c", say_versions],
                              capture_output=True, text=True, env=env, cwd=clone).stdout.split()
    assert versions[0] == "2.20.0" and versions[1].startswith("3.15"), versions  # Colab's TF kept, Keras added
