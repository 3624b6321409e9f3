"""The MobileNetV2 Workbook's real code.

Every number a notebook shows is computed here and tested in ``tests/``. Modules are
imported on demand (``from lessons import data``) so that ``python -m lessons --help``
does not pay for loading TensorFlow.
"""
import os

# TensorFlow prints C++ start-up lines to stderr that differ from run to run; they
# clutter notebooks (and break nbval) without telling a student anything.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
