"""Keep TensorFlow's and LiteRT's C++ log lines out of what a person reads.

TensorFlow and LiteRT write notices straight to the process's standard error (file
descriptor 2) from C++: ``oneDNN custom operations are on`` and absl's ``All log messages
before absl::InitializeLog()`` at import on CPUs with oneDNN kernels (AVX-512 VNNI and
newer), ``Created TensorFlow Lite XNNPACK delegate`` when an interpreter starts, the
converter's summaries during an export. ``TF_CPP_MIN_LOG_LEVEL`` silences only some of
them, and which ones appear depends on the CPU, so they break any contract about stderr
(``predict`` reports one line per unreadable photo) and clutter notebooks.

:func:`silence_native_stderr` points descriptor 2 at ``/dev/null`` for the rest of the
process and gives Python's ``sys.stderr`` a descriptor of its own, so the course's own
messages, warnings and tracebacks still arrive. Set ``LESSONS_NATIVE_LOGS=1`` to see the
C++ lines again (when TensorFlow itself misbehaves).

Public API: :func:`silence_native_stderr`, :func:`quiet_tensorflow_python`, ``KEEP_ENV``.
"""
import io
import logging
import os
import sys

KEEP_ENV = "LESSONS_NATIVE_LOGS"


def silence_native_stderr():
    """Drop what C++ code writes to file descriptor 2 from now on; Python's stderr stays.

    Returns True when it did so (False when ``LESSONS_NATIVE_LOGS`` asks to keep them, or
    when descriptor 2 cannot be redirected). Safe to call more than once.
    """
    if os.environ.get(KEEP_ENV) or getattr(silence_native_stderr, "done", False):
        return False
    try:
        sys.stderr.flush()
        if _writes_to_descriptor_2(sys.stderr):
            sys.stderr = _reopen(sys.stderr, os.dup(2))
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        return False
    silence_native_stderr.done = True
    return True


def quiet_tensorflow_python():
    """TensorFlow's Python-side notices (retracing reports, TensorSpec dumps) at ERROR only.

    Both describe how TensorFlow traced a function, not anything a student or a user of the
    command line can act on; errors still show. A filter, not a level: TensorFlow sets the
    level itself (to INFO in Jupyter) the first time it logs.
    """
    logger = logging.getLogger("tensorflow")
    if _errors_only not in logger.filters:
        logger.addFilter(_errors_only)


def _errors_only(record):
    return record.levelno >= logging.ERROR


def _writes_to_descriptor_2(stream):
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False  # Jupyter's streams have no descriptor: they are not affected


def _reopen(stream, descriptor):
    """A text stream like ``stream`` on another descriptor, flushed line by line."""
    return open(descriptor, "w", buffering=1, encoding=stream.encoding or "utf-8",
                errors=getattr(stream, "errors", None) or "backslashreplace", closefd=True)
