"""Settings for the whole test run, notebooks (weeks/, through nbval) included."""
import collections
import os

import pytest

# The notebooks' parameters cell reads this: CI runs the fast mode (fewer photos, steps and
# pixels; the same MobileNetV2). Kernels started by nbval inherit it.
os.environ.setdefault("WORKBOOK_MODE", "fast")

# `make test` runs two pytest-xdist workers. Each group of tests runs on one worker, in order: a file
# (so that a module's fixtures are built once, as with --dist loadscope), except that everything that
# writes or reads the fast-mode checkpoint (checkpoints/my-waste-mobilenetv2-fast) is one group: week 4
# writes it, week 5 reads it, and the student edition writes it again.
FAST_CHECKPOINT_USERS = ("weeks/week4_", "weeks/week5_",
                         "tests/test_notebooks.py::test_the_student_edition_runs")


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: ignored when the tests run without it
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ByFileAndCheckpoint(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return "fast-checkpoint" if nodeid.startswith(FAST_CHECKPOINT_USERS) else nodeid.split("::")[0]

    return ByFileAndCheckpoint(config, log)


_notebook_seconds = collections.defaultdict(float)


def pytest_runtest_logreport(report):
    """Called where the reports arrive (the main process, with or without workers)."""
    notebook = report.nodeid.split("::")[0]
    if notebook.endswith(".ipynb"):
        _notebook_seconds[notebook] += report.duration


def pytest_terminal_summary(terminalreporter):
    if _notebook_seconds:
        terminalreporter.section("time per notebook (fast mode)")
        for notebook, seconds in sorted(_notebook_seconds.items()):
            terminalreporter.write_line(f"{seconds:7.1f} s  {notebook}")
        terminalreporter.write_line(f"{sum(_notebook_seconds.values()):7.1f} s  in all")

