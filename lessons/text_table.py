"""Aligned plain-text tables, for notebooks and the command line: one function for all of them.

Public API: :func:`text_table`.
"""


def text_table(rows, formats=None, gap=2):
    """``rows`` (dicts with the same keys, in column order) as aligned text: a header line, then
    a line a row. Numbers are right-aligned and text left-aligned, headers as their column.

    Args:
        rows: the table's rows, e.g. ``[{"class": "glass", "recall": 0.93}, ...]``.
        formats: ``{column: format spec}`` for the values of that column (``".1%"``, ``",d"``);
            a spec may also be a function of the value. ``None`` is shown as ``-``.
        gap: spaces between columns.
    """
    formats = formats or {}
    columns = list(rows[0])
    cells = [[_cell(row[column], formats.get(column, "")) for column in columns] for row in rows]
    numeric = [all(_is_number(row[column]) for row in rows) for column in columns]
    widths = [max(len(str(column)), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]

    def line(values):
        return (" " * gap).join(f"{value:>{width}}" if right else f"{value:<{width}}"
                                for value, width, right in zip(values, widths, numeric)).rstrip()

    return "\n".join([line(columns), *map(line, cells)])


def _cell(value, spec):
    if value is None:
        return "-"
    return spec(value) if callable(spec) else format(value, spec)


def _is_number(value):
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
