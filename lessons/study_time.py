"""How long a week takes a student, computed from the notebook instead of guessed.

A week's time has three parts, each from something that can be counted:

- **reading**: the words of its Markdown cells at :data:`PROSE_WORDS_PER_MINUTE` and the lines
  of its code cells at :data:`CODE_LINES_PER_MINUTE` (technical text is read slowly);
- **running**: the seconds each code cell took in the executed ``.ipynb``, which Jupyter
  records in every cell's metadata (so the committed run is the measurement);
- **exercises**: :data:`MINUTES_PER_EXERCISE` for each solution a student writes. This is
  the one assumption; change it when students' own times are known.

``python -m lessons.study_time`` rewrites the ``**Time:**`` paragraph of every week from its
committed ``.ipynb`` (``make notebooks`` does, after executing them) and prints each week's
slowest cells; a test checks that no week states a time its notebook no longer supports.

Public API: :class:`Estimate`, :func:`estimate`, :func:`cell_seconds`, :func:`time_paragraph`,
:func:`write_time_paragraph`.
"""
import dataclasses
import re
import sys
from datetime import datetime
from pathlib import Path

from lessons import paths

PROSE_WORDS_PER_MINUTE = 150
CODE_LINES_PER_MINUTE = 15
MINUTES_PER_EXERCISE = 10
SOLUTION_MARKER = "### BEGIN SOLUTION"
TIME_PARAGRAPH = re.compile(r"^# \*\*Time:\*\*.*?(?=^#\n|^\n|\Z)", re.MULTILINE | re.DOTALL)
_WORD = re.compile(r"[A-Za-z0-9][\w'’.,%×-]*")
# The Time paragraph itself is not counted, so that rewriting it cannot change the estimate.
_TIME_IN_MARKDOWN = re.compile(r"^\*\*Time:\*\*.*?(?=\n\n|\Z)", re.MULTILINE | re.DOTALL)
_MARKUP = re.compile(r"<[^>]+>|\]\([^)]*\)|`{3}.*?`{3}", re.DOTALL)  # tags, link targets, fenced code


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A week's time in minutes, by part (``running`` is measured, the others counted)."""
    reading: float
    running: float
    exercises: int
    exercise_count: int

    @property
    def total(self):
        return self.reading + self.running + self.exercises


def _words(markdown):
    return len(_WORD.findall(_MARKUP.sub(" ", _TIME_IN_MARKDOWN.sub(" ", markdown))))


def cell_seconds(notebook):
    """``[(index of the code cell, seconds it ran, its first line)]`` from the timings Jupyter recorded."""
    timings = []
    code = [c for c in notebook.cells if c.cell_type == "code"]
    for index, cell in enumerate(code):
        execution = cell.metadata.get("execution", {})
        start, end = execution.get("iopub.execute_input"), execution.get("shell.execute_reply")
        if not (start and end):
            raise ValueError(f"code cell {index} carries no execution timing: execute the notebook "
                             "with Jupyter (make notebooks) before estimating its time")
        seconds = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
        first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
        timings.append((index, seconds, first_line))
    return timings


def estimate(notebook):
    """The :class:`Estimate` of an executed notebook (an ``nbformat`` notebook)."""
    markdown = sum(_words(c.source) for c in notebook.cells if c.cell_type == "markdown")
    code_lines = sum(len([ln for ln in c.source.splitlines() if ln.strip()])
                     for c in notebook.cells if c.cell_type == "code")
    exercises = sum(c.source.count(SOLUTION_MARKER) for c in notebook.cells if c.cell_type == "code")
    running = sum(seconds for _, seconds, _ in cell_seconds(notebook)) / 60
    return Estimate(reading=markdown / PROSE_WORDS_PER_MINUTE + code_lines / CODE_LINES_PER_MINUTE,
                    running=running, exercises=exercises * MINUTES_PER_EXERCISE, exercise_count=exercises)


def _minutes(value):
    """Rounded to 5 minutes (at least 5), as a student reads a schedule."""
    rounded = max(5, 5 * round(value / 5))
    hours, minutes = divmod(rounded, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"


def time_paragraph(found):
    """The Markdown ``**Time:**`` paragraph (percent-format comment lines) for an :class:`Estimate`."""
    text = (f"**Time:** about {_minutes(found.total)}: {_minutes(found.reading)} of reading "
            f"({PROSE_WORDS_PER_MINUTE} words or {CODE_LINES_PER_MINUTE} lines of code a minute), "
            f"{_minutes(found.running)} of running the cells (as long as they took in the committed run), "
            f"and {_minutes(found.exercises)} for "
            f"{found.exercise_count} exercises ({MINUTES_PER_EXERCISE} minutes each, an estimate). "
            "Computed by `python -m lessons.study_time`.")
    return "".join(f"# {line}\n" for line in _wrap(text))


def _wrap(text, width=100):
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + [line]


def write_time_paragraph(source):
    """Rewrite the ``**Time:**`` paragraph of a percent-format week from its executed ``.ipynb``;
    returns the :class:`Estimate`."""
    import nbformat

    source = Path(source)
    found = estimate(nbformat.read(source.with_suffix(".ipynb"), as_version=4))
    text = source.read_text(encoding="utf-8")
    if not TIME_PARAGRAPH.search(text):
        raise ValueError(f"{source.name} has no '# **Time:**' paragraph to rewrite")
    new = TIME_PARAGRAPH.sub(lambda _: time_paragraph(found), text, count=1)
    if new != text:
        source.write_text(new, encoding="utf-8")
    return found


def _report(source, found, slowest=3):
    import nbformat

    timings = sorted(cell_seconds(nbformat.read(source.with_suffix(".ipynb"), as_version=4)), key=lambda t: -t[1])
    cells = "; ".join(f"cell {index} {seconds:.0f} s ({line[:50]})" for index, seconds, line in timings[:slowest])
    return f"{source.stem}: {found.total:.0f} min in all; slowest: {cells}"


if __name__ == "__main__":
    for week in sorted((paths.REPO / "weeks").glob("week*.py")) if len(sys.argv) < 2 else map(Path, sys.argv[1:]):
        print(_report(week, write_time_paragraph(week)))
