"""Speed and accuracy measurements; run each as `python -m benchmarks.<name>` from the project root.

A benchmark prints its tables and nothing else: TensorFlow's C++ notices and its Python-side
retracing reports are dropped before any benchmark imports TensorFlow (see lessons.quiet).
"""
from lessons import quiet

quiet.silence_native_stderr()
quiet.quiet_tensorflow_python()
