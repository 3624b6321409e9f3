"""Each week's time estimate: counted from its text, measured from its executed cells."""
import nbformat
import pytest

from lessons import paths, study_time

SOURCES = sorted((paths.REPO / "weeks").glob("week*.py"))


def executed(cells):
    """A notebook of ``(kind, source, seconds)`` cells, code cells timed as Jupyter records them."""
    notebook = nbformat.v4.new_notebook()
    for kind, source, seconds in cells:
        if kind == "markdown":
            notebook.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            cell = nbformat.v4.new_code_cell(source)
            cell.metadata["execution"] = {"iopub.execute_input": "2026-12-01T10:00:00.000000Z",
                                          "shell.execute_reply": f"2026-12-01T10:{seconds // 60:02d}:{seconds % 60:02d}.000000Z"}
            notebook.cells.append(cell)
    return notebook


def test_the_estimate_counts_words_lines_and_exercises_and_sums_measured_seconds():
    words = "**Time:** about 3 hours, not read.\n\n" + " ".join(["word"] * 300) + " <details><summary>Answer</summary> yes </details> [the paper](https://x.y/z)"
    notebook = executed([("markdown", words, 0), ("code", "x = 1\n\ny = 2\n", 90),
                         ("code", "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", 30)])
    found = study_time.estimate(notebook)
    # 300 words + "Answer yes the paper" (tags and link targets are not read); 6 non-blank code lines.
    assert found.reading == pytest.approx(304 / study_time.PROSE_WORDS_PER_MINUTE + 6 / study_time.CODE_LINES_PER_MINUTE)
    assert found.running == pytest.approx(2.0)
    assert (found.exercise_count, found.exercises) == (1, study_time.MINUTES_PER_EXERCISE)
    assert found.total == pytest.approx(found.reading + 2.0 + study_time.MINUTES_PER_EXERCISE)


def test_an_unexecuted_notebook_has_no_time_to_read():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    with pytest.raises(ValueError, match="execute the notebook"):
        study_time.estimate(notebook)


@pytest.mark.parametrize("minutes, text", [(2, "5 min"), (43, "45 min"), (60, "1 h"), (128, "2 h 10 min")])
def test_minutes_are_rounded_as_a_schedule_reads(minutes, text):
    assert study_time._minutes(minutes) == text


def test_the_paragraph_is_rewritten_in_place(tmp_path):
    source = tmp_path / "week9.py"
    source.write_text("# %% [markdown]\n# # Week 9\n#\n# **Time:** about 3 hours, guessed\n# over two lines.\n#\n"
                      "# Next paragraph.\n")
    nbformat.write(executed([("markdown", "one two three", 0), ("code", "x = 1", 600)]), source.with_suffix(".ipynb"))
    found = study_time.write_time_paragraph(source)
    text = source.read_text()
    assert "guessed" not in text and "# Next paragraph." in text and "# # Week 9\n#\n# **Time:** about" in text
    assert study_time.time_paragraph(found) in text and "10 min of running" in text


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_each_week_states_the_time_its_committed_run_supports(source):
    found = study_time.estimate(nbformat.read(source.with_suffix(".ipynb"), as_version=4))
    assert study_time.time_paragraph(found) in source.read_text(), (
        f"{source.name}: its **Time:** paragraph is out of date: run `python -m lessons.study_time`")
