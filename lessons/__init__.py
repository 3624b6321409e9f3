"""The MobileNetV2 Workbook's real code.

Every number a notebook shows is computed here and tested in ``tests/``. Modules are
imported on demand (``from lessons import data``) so that ``python -m lessons --help``
does not pay for loading TensorFlow.

In a notebook, ``import lessons`` comes first: it keeps TensorFlow's C++ start-up notices
and its retracing reports out of the cell outputs (see :mod:`lessons.quiet`).

Public API: the modules, one concept each (README's "Layout" maps them to the weeks), and
``__version__``.
"""
import os
import sys

# TensorFlow prints C++ start-up lines to stderr that differ from run to run; they
# clutter notebooks (and break nbval) without telling a student anything.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

if "ipykernel" in sys.modules:  # a Jupyter or Colab kernel: what reaches stderr lands in the cell outputs
    from lessons import quiet

    quiet.silence_native_stderr()
    quiet.quiet_tensorflow_python()

__version__ = "0.1.0"
