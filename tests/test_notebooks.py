"""The weekly notebooks: paired, executed, built to the course's pattern; the student edition."""
import json
import re
import subprocess
import sys

import jupytext
import nbformat
import pytest

from lessons import colab, paths, student_edition
from tests.conftest import NATIVE_NOTICE

SOURCES = sorted((paths.REPO / "weeks").glob("week*.py"))
NOTEBOOKS = sorted((paths.REPO / "weeks").glob("week*.ipynb"))


def cells(notebook):
    return [(c.cell_type, c.source.strip()) for c in notebook.cells]


def test_every_week_is_a_pair():
    assert SOURCES, "no weekly notebooks in weeks/"
    assert [p.with_suffix(".ipynb") for p in SOURCES] == NOTEBOOKS


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_the_ipynb_matches_its_py_source(source):
    paired = jupytext.read(source.with_suffix(".ipynb"))
    assert cells(jupytext.read(source)) == cells(paired), (
        f"{source.name} and its .ipynb have drifted apart: run `make notebooks` (or jupytext --sync, then execute)")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_the_ipynb_is_committed_executed_in_order(source):
    notebook = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    unexecuted = [i for i, c in enumerate(code) if c.execution_count is None]
    assert not unexecuted, f"code cells {unexecuted} of {source.stem}.ipynb were never run: run `make notebooks`"
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "executed out of order"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{source.stem}.ipynb was committed with an error: {errors[0].ename}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_a_week_follows_the_course_pattern(source):
    notebook = jupytext.read(source)
    first = notebook.cells[2]  # after the Colab badge and the setup cell
    assert first.cell_type == "markdown" and first.source.startswith("# Week")
    intro = first.source.lower()
    assert "goal" in intro and ("minute" in intro or "hour" in intro), "learning goals and a time estimate"
    parameters = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1 and "WORKBOOK_MODE" in parameters[0].source
    text = source.read_text()
    assert text.count(student_edition.BEGIN) >= 2, "at least two exercises a week"
    assert text.count(student_edition.BEGIN) == text.count(student_edition.END)
    assert "check_" in text and "# NBVAL_CHECK_OUTPUT" in text
    assert "self-check" in notebook.cells[-1].source.lower(), "the week ends with a self-check list"


def test_strip_solutions_keeps_the_function_and_its_indentation():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n\ncheck(f)"
    assert student_edition.strip_solutions(source) == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\ncheck(f)")


@pytest.mark.parametrize("broken", [
    "### BEGIN SOLUTION\nx = 1",
    "x = 1\n### END SOLUTION",
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
])
def test_unbalanced_solution_markers_are_refused(broken):
    with pytest.raises(ValueError, match="SOLUTION"):
        student_edition.strip_solutions(broken, "week9.py cell 3")


@pytest.fixture(scope="module")
def student_notebooks(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("student")
    result = subprocess.run([sys.executable, "-m", "lessons", "student-edition", outdir],
                            capture_output=True, text=True, cwd=paths.REPO)
    assert result.returncode == 0, result.stderr
    return sorted(outdir.glob("*.ipynb"))


def test_the_student_edition_has_no_solutions_no_outputs_and_no_ci_markers(student_notebooks):
    assert [p.stem for p in student_notebooks] == [p.stem for p in SOURCES]
    for path in student_notebooks:
        text = path.read_text()
        assert student_edition.BEGIN not in text and "NotImplementedError" in text and "NBVAL_" not in text
        notebook = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")
        assert "jupytext" not in notebook.metadata
        badge, title = notebook.cells[0].source, notebook.cells[2].source
        assert f"/blob/{colab.BRANCH}/student/{path.name}" in badge, "its Colab badge opens the student edition"
        assert f"(../weeks/{path.name})" in title, "it says where the worked solutions are"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_the_committed_student_edition_is_current(source, student_notebooks):
    committed = student_edition.STUDENT / f"{source.stem}.ipynb"
    assert committed.exists(), f"student/{committed.name} is missing: run `python -m lessons student-edition`"
    fresh = next(p for p in student_notebooks if p.stem == source.stem)
    assert cells(nbformat.read(committed, as_version=4)) == cells(nbformat.read(fresh, as_version=4)), (
        f"student/{committed.name} is older than weeks/{source.name}: run `python -m lessons student-edition`")


@pytest.mark.slow
def test_the_student_edition_runs_and_its_checks_explain_the_stubs():
    """A student who runs an untouched notebook gets a message per exercise, not a crash."""
    from nbclient import NotebookClient

    for path in sorted(student_edition.STUDENT.glob("week*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(notebook, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(paths.REPO / "weeks")}}).execute()
        checks = [c for c in notebook.cells if c.cell_type == "code" and "NotImplementedError" in c.source]
        outputs = ["".join(o.get("text", "") for o in c.outputs) for c in notebook.cells
                   if c.cell_type == "code" and "check_" in c.source]
        stubbed = [text for text in outputs if "not written yet" in text]
        assert len(stubbed) >= len(checks) >= 2, (path.name, json.dumps(outputs)[:500])
        assert all("✗" in text for text in stubbed)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_each_week_opens_in_colab_and_sets_itself_up(source):
    """The badge for the week's own path and the setup cell, as lessons/colab.py writes them."""
    notebook = jupytext.read(source)
    badge, setup = notebook.cells[0], notebook.cells[1]
    assert badge.cell_type == "markdown" and badge.source == colab.badge_cell(source), (
        f"{source.name}: run `python -m lessons.colab` to refresh its Colab badge")
    assert f"/blob/{colab.BRANCH}/weeks/{source.stem}.ipynb" in badge.source
    assert setup.cell_type == "code" and setup.source == colab.setup_cell(), (
        f"{source.name}: run `python -m lessons.colab` to refresh its setup cell")


def test_the_setup_cell_does_nothing_outside_colab():
    result = subprocess.run([sys.executable, "-c", colab.setup_cell()], capture_output=True, text=True,
                            cwd=paths.REPO, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("Not in Colab") and result.stdout.count("\n") == 1


def test_colab_keeps_its_own_tensorflow():
    requirements = (paths.REPO / "requirements-colab.txt").read_text()
    installs = [line.split(";")[0].strip() for line in requirements.splitlines() if line and not line.startswith("#")]
    assert not [r for r in installs if r.startswith("tensorflow")], installs
    site = (paths.REPO / "requirements.txt").read_text()
    for package in ("keras", "ai-edge-litert", "gradio"):  # the same pins as the course's own
        assert next(r for r in installs if r.startswith(package + "=")) in site
    assert f"tensorflow-cpu=={colab.SUPPORTED_TENSORFLOW[-1]}.*" in site


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_the_committed_outputs_carry_no_tensorflow_notices(source):
    notebook = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    streams = [o.text for c in notebook.cells if c.cell_type == "code" for o in c.outputs
               if o.output_type == "stream"]
    noisy = [text for text in streams if NATIVE_NOTICE.search(text)]
    assert not noisy, f"{source.stem}.ipynb shows TensorFlow's own notices: {noisy[0][:300]}"


def printed(week):
    """Everything the committed ``weeks/{week}.ipynb`` printed."""
    notebook = nbformat.read(paths.REPO / "weeks" / f"{week}.ipynb", as_version=4)
    return "".join(o.text for c in notebook.cells if c.cell_type == "code" for o in c.outputs
                   if o.output_type == "stream")


def test_weeks_4_and_5_show_a_full_run_of_a_model_that_works():
    """GitHub and Colab show the committed outputs: a full run from ImageNet weights, not fast mode's."""
    week4, week5 = printed("week4_transfer_learning"), printed("week5_deployment")
    assert re.search(r"^full mode: .* at 224 px$", week4, re.MULTILINE), "week 4 is committed in fast mode"
    assert "base weights: ImageNet weights" in week4
    phase2 = re.search(r"^phase2: .*test accuracy ([\d.]+)%$", week4, re.MULTILINE)
    int8 = re.search(r"^int8 +test accuracy +([\d.]+)%", week5, re.MULTILINE)
    assert float(phase2.group(1)) > 80 and float(int8.group(1)) > 80, (phase2.group(0), int8.group(0))
    assert re.search(r"^MobileNetV2 alpha 1.0 at 224 px", week5, re.MULTILINE), "week 5 used a fast-mode checkpoint"
