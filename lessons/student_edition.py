"""The student edition of the weekly notebooks: solutions replaced by stubs, no outputs.

In the instructor's notebooks every exercise's solution sits inside a function, between
``### BEGIN SOLUTION`` and ``### END SOLUTION``. The student edition keeps the function
and its ``check_...()`` call and replaces the solution with a stub that raises
``NotImplementedError``: the check then tells the student the function "is not written
yet", and the notebook still runs top to bottom.

    python -m lessons student-edition OUTDIR
"""
from pathlib import Path

from lessons import paths

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
WEEKS = paths.REPO / "weeks"


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


def student_notebook(source_path):
    """The student version of one weekly notebook (from its percent .py source)."""
    import jupytext

    notebook = jupytext.read(source_path)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, f"{Path(source_path).name} cell {index}")
            cell.outputs, cell.execution_count = [], None
    # Students get plain notebooks, not Jupytext pairs that would write .py files beside them.
    notebook.metadata.pop("jupytext", None)
    return notebook


def write(outdir, weeks_dir=WEEKS):
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
