"""The student edition of the weekly notebooks: solutions replaced by stubs, no outputs.

In the instructor's notebooks (``weeks/``) every exercise's solution sits inside a function,
between ``### BEGIN SOLUTION`` and ``### END SOLUTION``. The student edition keeps the
function and its ``check_...()`` call and replaces the solution with a stub that raises
``NotImplementedError``: the check then tells the student the function "is not written
yet", and the notebook still runs top to bottom. nbval's markers go too (they are for CI).

Why an edition of its own rather than collapsed cells: a student writes the exercise in the
very cell that would hold the solution, and GitHub shows collapsed cells open. So the edition
is committed in ``student/`` (its Colab badges open it), and each of its notebooks says where
the worked solutions are: the same week in ``weeks/``, with the outputs of a real run.

    python -m lessons student-edition [OUTDIR]     (default: student/)

Public API: :func:`strip_solutions`, :func:`student_notebook`, :func:`write`, :data:`STUDENT`.
"""
import re
from pathlib import Path

from lessons import colab, paths

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
WEEKS = paths.REPO / "weeks"
STUDENT = paths.REPO / "student"
NBVAL_MARKER = re.compile(r"^# NBVAL_\w+\n?", re.MULTILINE)


def strip_solutions(source, where="cell"):
    """``source`` with each solution block replaced by the stub, at the block's indentation."""
    out, indent = [], None
    for number, line in enumerate(source.splitlines(), 1):
        marker = line.strip()
        if marker == BEGIN:
            if indent is not None:
                raise ValueError(f"{where}, line {number}: {BEGIN} inside another solution")
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + stub for stub in STUB]
        elif marker == END:
            if indent is None:
                raise ValueError(f"{where}, line {number}: {END} without {BEGIN}")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise ValueError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out)


def where_the_solutions_are(source_path):
    """The note the student edition adds below a week's title."""
    solutions = f"weeks/{Path(source_path).stem}.ipynb"
    return (f"*This is the student edition: each exercise's solution is replaced by `raise NotImplementedError()`, "
            f"for you to write. The worked solutions, and the outputs of a real run, are in "
            f"[{solutions}](../{solutions}): try first, then compare.*")


def student_notebook(source_path):
    """The student version of one weekly notebook (from its percent .py source)."""
    import jupytext

    name = Path(source_path).name
    notebook = jupytext.read(source_path)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            source = strip_solutions(cell.source, f"{name} cell {index}")
            cell.source = NBVAL_MARKER.sub("", source)
            cell.outputs, cell.execution_count = [], None
        elif colab.BADGE_MARKER in cell.source:
            cell.source = colab.badge_cell(STUDENT / f"{Path(source_path).stem}.ipynb")
        elif cell.source.startswith("# Week"):
            title, _, rest = cell.source.partition("\n")
            cell.source = f"{title}\n\n{where_the_solutions_are(source_path)}\n{rest}"
    # Students get plain notebooks, not Jupytext pairs that would write .py files beside them.
    notebook.metadata.pop("jupytext", None)
    return notebook


def write(outdir=STUDENT, weeks_dir=WEEKS):
    """Write the student edition of every weekly notebook into ``outdir``; returns the paths."""
    import jupytext

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(Path(weeks_dir).glob("week*.py")):
        target = outdir / f"{source.stem}.ipynb"
        jupytext.write(student_notebook(source), target, fmt="ipynb")
        written.append(target)
    if not written:
        raise ValueError(f"no weekly notebooks (week*.py) in {weeks_dir}")
    return written
