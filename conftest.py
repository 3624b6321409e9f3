"""Settings for the whole test run, notebooks (weeks/, through nbval) included."""
import collections
import os
import time

# The notebooks' parameters cell reads this: CI runs the fast mode (fewer photos, steps and
# pixels; the same MobileNetV2). Kernels started by nbval inherit it.
os.environ.setdefault("WORKBOOK_MODE", "fast")

_notebook_seconds = collections.defaultdict(float)
_started = {}


def pytest_runtest_setup(item):
    _started[item.nodeid] = time.perf_counter()


def pytest_runtest_teardown(item):
    if item.nodeid.split("::")[0].endswith(".ipynb"):
        _notebook_seconds[item.nodeid.split("::")[0]] += time.perf_counter() - _started.pop(item.nodeid)


def pytest_terminal_summary(terminalreporter):
    if _notebook_seconds:
        terminalreporter.section("time per notebook (fast mode)")
        for notebook, seconds in sorted(_notebook_seconds.items()):
            terminalreporter.write_line(f"{seconds:7.1f} s  {notebook}")
        terminalreporter.write_line(f"{sum(_notebook_seconds.values()):7.1f} s  in all")
