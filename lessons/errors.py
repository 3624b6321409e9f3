"""Turning a library's exception into the one line a course error message quotes.

Public API: :func:`first_line`.
"""


def first_line(error):
    """Library errors can run over many lines (h5py, Keras, LiteRT); one says what went wrong."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
