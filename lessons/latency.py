"""How long one photo takes, measured fairly: warm-up, many calls, median and p90.

A single timing says little. The first calls of a runtime pay one-off costs (tracing a
``tf.function``, setting up XNNPACK), and on a shared machine any call can be slowed by
someone else's job. So :func:`measure`

* calls every runtime a few times untimed first (the warm-up),
* then times many calls of one photo each and reports the median (a typical request)
  and the 90th percentile (a slow one, but not the rare hiccup),
* and interleaves the runtimes, one call each in turn, so that a busy moment slows all
  of them alike instead of whichever happened to be measured then.

    results = measure({"keras": keras_classifier, "int8": int8_classifier}, photos)
    print(format_table(results, baseline="keras"))

Public API: :class:`Latency`, :func:`as_callable`, :func:`measure`, :func:`format_table`,
:func:`tflite_runner`.
"""
import time
from dataclasses import dataclass

import numpy as np

from lessons import tflite_file
from lessons.text_table import text_table


@dataclass
class Latency:
    """The timed calls of one runtime, in seconds, in the order they were made."""

    name: str
    seconds: list

    @property
    def median(self):
        return float(np.median(self.seconds))

    @property
    def p90(self):
        """The 90th percentile (linear interpolation between calls, numpy's default)."""
        return float(np.percentile(self.seconds, 90))


def as_callable(runtime):
    """What to time: a :class:`lessons.inference.Predictor`'s whole prediction path
    (``predict_pixels``, test-time flip included), or any callable taking a uint8 batch."""
    return getattr(runtime, "predict_pixels", runtime)


def measure(runtimes, photos, calls=50, warmup=3, clock=time.perf_counter):
    """{name: :class:`Latency`} of ``runtimes`` ({name: Predictor or callable}), one photo a call.

    ``photos`` is a uint8 (n, size, size, 3) batch (or one photo); call i of every runtime
    gets photo i mod n. In round i the runtimes take their turn starting from number
    i mod (number of runtimes), so that none always runs first, or always right after the
    same neighbour.
    """
    photos = np.asarray(photos)
    photos = photos[None] if photos.ndim == 3 else photos
    if not len(photos):
        raise ValueError("measure() needs at least one photo.")
    if calls < 1 or warmup < 0:
        raise ValueError(f"calls must be at least 1 and warmup at least 0 (got {calls} and {warmup}).")
    runs = {name: as_callable(runtime) for name, runtime in runtimes.items()}
    for run in runs.values():
        for _ in range(warmup):
            run(photos[:1])
    names = list(runs)
    seconds = {name: [] for name in names}
    for i in range(calls):
        photo = photos[i % len(photos)][None]
        first = i % len(names)
        for name in names[first:] + names[:first]:
            started = clock()
            runs[name](photo)
            seconds[name].append(clock() - started)
    return {name: Latency(name, seconds[name]) for name in names}


def format_table(results, baseline=None):
    """A text table of median and p90 in milliseconds, and speed-ups over ``baseline``."""
    rows = [{"runtime": name, "median ms": latency.median * 1e3, "p90 ms": latency.p90 * 1e3}
            | ({f"speed-up vs {baseline}": results[baseline].median / latency.median} if baseline else {})
            for name, latency in results.items()]
    return text_table(rows, {"median ms": ".1f", "p90 ms": ".1f", f"speed-up vs {baseline}": lambda x: f"{x:.1f}x"})


def tflite_runner(path, image_size=None, threads=1):
    """A callable that times a ``.tflite`` file alone: one photo in, the raw output out.

    ``threads`` sets how many CPU threads LiteRT may use (a phone benchmark often uses one big
    core); ``image_size`` resizes the file's input first: a fully convolutional network with
    global pooling runs at any size, so a file exported at 96 px can be timed at 224 px.
    """
    interpreter = tflite_file.interpreter_class()(model_path=str(path), num_threads=threads)
    given = interpreter.get_input_details()[0]
    if image_size:
        interpreter.resize_tensor_input(given["index"], [1, image_size, image_size, 3])
    interpreter.allocate_tensors()
    output = interpreter.get_output_details()[0]["index"]

    def run(batch):
        interpreter.set_tensor(given["index"], np.asarray(batch[:1], dtype=given["dtype"]))
        interpreter.invoke()
        return interpreter.get_tensor(output)
    return run
