"""Small helpers for the weekly notebooks.

Public API: :func:`show_source`.
"""
import inspect


def show_source(obj):
    """Display the source of a :mod:`lessons` function or class, so that a notebook can
    teach the course's real code instead of a copy of it."""
    from IPython.display import Markdown, display

    display(Markdown(f"```python\n{inspect.getsource(obj).rstrip()}\n```"))
