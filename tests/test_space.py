"""The Hugging Face Space folder, and the container built from it, as the Hub and Docker would use them."""
import os
import re
import shlex
import subprocess
import sys

import pytest
from gradio_client import Client, handle_file

from lessons import paths, serving, space
from tests.conftest import run_cli

DOCKERFILE = paths.REPO / "Dockerfile"
ONE_PER_CLASS = paths.sample_photo_per_class()
# What the notebooks and tests need, and a Space must not install.
COURSE_ONLY = ("jupyter", "jupytext", "nbval", "pytest", "playwright", "ipywidgets", "gradio_client", "-e ")


@pytest.fixture(scope="module")
def space_dir(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("space") / "site"
    run_cli("space", outdir)
    return outdir


def settings(front_matter):
    return dict(re.findall(r"^(\w+): *(.+)$", front_matter, re.MULTILINE))


def gradio_pin(requirements):
    return re.search(r"^gradio==([\d.]+)$", requirements.read_text(), re.MULTILINE).group(1)


def test_the_front_matter_is_what_spaces_need(space_dir):
    config = settings(space.front_matter(space_dir / "README.md"))
    assert config["sdk"] == "gradio" and config["app_file"] == "app.py"
    assert config["sdk_version"] == gradio_pin(space_dir / "requirements.txt")
    assert tuple(map(int, config["python_version"].strip("\"'").split("."))) >= (3, 11)
    assert space.front_matter(space_dir / "README.md") == space.front_matter()  # the project's own


def test_requirements_are_the_sites_only(space_dir):
    requirements = (space_dir / "requirements.txt").read_text()
    assert "tensorflow-cpu==" in requirements and "gradio==" in requirements
    for name in COURSE_ONLY:
        assert name not in requirements, name


def test_binaries_go_to_lfs_and_the_site_has_all_it_needs(space_dir):
    attributes = (space_dir / ".gitattributes").read_text()
    binaries = [p for p in space_dir.rglob("*") if p.suffix in (".keras", ".tflite", ".h5", ".jpg", ".png")]
    assert binaries
    for suffix in {p.suffix for p in binaries}:
        assert f"*{suffix} filter=lfs diff=lfs merge=lfs -text" in attributes
    for needed in ("app.py", "lessons/serving.py", "lessons/figures/manifold.py", "weeks/week2_inverted_residuals.ipynb",
                   f"checkpoints/{paths.REFERENCE_CHECKPOINT.name}/model_int8.tflite",
                   f"weights/{paths.IMAGENET_WEIGHTS.name}", "weights/SOURCE.md", "data/sample/SOURCE.md"):
        assert (space_dir / needed).is_file(), needed
    assert not list(space_dir.rglob("__pycache__")) and not (space_dir / "tests").exists()
    assert not (space_dir / "widgets").exists()  # ipywidgets are for notebooks: the site draws with lessons.figures


def test_an_existing_folder_is_never_overwritten(space_dir):
    result = run_cli("space", space_dir, check=False)
    assert result.returncode == 2 and "not empty" in result.stderr
    assert (space_dir / "app.py").is_file()


def dockerfile_step(pattern):
    """The first RUN or HEALTHCHECK command of the Dockerfile matching ``pattern``, its lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return next(line for line in text.splitlines() if re.search(pattern, line))


def dockerfile_env():
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    env = next(line for line in text.splitlines() if line.startswith("ENV "))
    return dict(item.split("=", 1) for item in shlex.split(env[4:]))


def test_the_container_runs_the_space_as_a_user_with_a_health_check():
    text = DOCKERFILE.read_text()
    assert text.count("FROM python:3.11-slim") == 2 and "python -m lessons space /space" in text
    assert re.search(r"^USER (?!root)\w+", text, re.MULTILINE) and "EXPOSE 7860" in text
    assert dockerfile_env()["GRADIO_SERVER_NAME"] == "0.0.0.0"


@pytest.mark.slow
@pytest.mark.wall_clock
def test_the_space_builds_from_its_own_requirements_and_serves_offline(space_dir, tmp_path):
    """A clean venv, the Dockerfile's pip install of the Space's requirements.txt, the Space's app.py
    with no ../shared and no network: it starts and classifies sample photos."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = venv / "bin" / "python"
    # The Dockerfile's own install step, in the venv; pip's cache is kept (CI's time), not the image's --no-cache-dir.
    install = shlex.split(dockerfile_step(r"^RUN pip install").removeprefix("RUN "))
    install = [str(python), "-m", *[word for word in install if word != "--no-cache-dir"]]
    subprocess.run(install + ["--quiet"], cwd=space_dir, check=True, timeout=1200)

    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **dockerfile_env(), "HF_HUB_OFFLINE": "1",
           "LESSONS_SHARED": str(tmp_path / "no-shared"), "MPLCONFIGDIR": str(tmp_path / "mpl")}
    with serving.AppProcess(python=python, app_dir=space_dir, env=env) as app:
        print(f"\nthe Space's app.py answered {app.start_seconds:.1f} s after it started")
        client = Client(app.url, verbose=False)
        right = [client.predict(handle_file(str(photo)), paths.REFERENCE_CHECKPOINT.name, api_name="/classify")[0]
                 ["label"] == photo.parent.name for photo in ONE_PER_CLASS]
        assert sum(right) >= 8, right
        port = app.url.rstrip("/").rsplit(":", 1)[1]
        health = dockerfile_step(r"^HEALTHCHECK")
        budget = int(re.search(r"--timeout=(\d+)s", health).group(1))
        command = health.split(" CMD ", 1)[1].replace("7860", port).replace("python", str(python), 1)
        # Docker stops a check that outlives --timeout and counts it failed: the same budget here.
        subprocess.run(shlex.split(command), check=True, timeout=budget)
