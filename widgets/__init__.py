"""ipywidgets that let a student *see* each week's idea.

Every widget is a thin interface over functions of :mod:`lessons` (no maths of its own):
a module here offers the plotting functions (testable, and reused by the Gradio app) and
a ``show_...()`` that wires them to sliders.
"""
