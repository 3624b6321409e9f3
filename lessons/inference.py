"""A checkpoint directory -> the top classes of any photo.

:class:`Predictor` loads a checkpoint once and then answers many requests. It runs the
Keras model or one of its TFLite exports (the same inputs and outputs, just faster), and
prepares every photo with :func:`lessons.images.load_pixels`, exactly as in training.

    clf = Predictor.load("checkpoints/waste-mobilenetv2")
    clf.top_k("data/sample/glass/gv2_glass_12.jpg")   # [("glass", 0.97), ("plastic", 0.02), ...]

Public API: :class:`Prediction`, :class:`KerasRuntime`, :class:`TFLiteRuntime`,
:class:`Predictor`.
"""
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lessons import checkpoint, images, tflite_file, mobilenetv2
from lessons.checkpoint import CheckpointError
from lessons.errors import first_line

RUNTIMES = ("keras", "fp32", "dynamic", "int8")
AUTO_ORDER = ("int8", "fp32", "dynamic", "keras")  # what "auto" picks first, when present


@dataclass
class Prediction:
    label: str
    probability: float


class KerasRuntime:
    """The ``model.keras`` file, called through a compiled ``tf.function``.

    ``model.predict`` sets up a data pipeline on every call (about 100 ms here for one
    photo); a traced function skips that (about 18 ms).
    """

    name = "keras"

    def __init__(self, directory):
        import keras
        import tensorflow as tf

        path = Path(directory) / checkpoint.MODEL_FILE
        if not path.is_file():
            raise CheckpointError(f"{path} is missing: train this checkpoint again (`python -m lessons train`) "
                                  "or copy the whole folder again.")
        try:
            # safe_mode refuses Lambda layers and other code hidden in a checkpoint.
            self.model = keras.models.load_model(path, compile=False, safe_mode=True)
        except Exception as error:
            raise CheckpointError(f"{path} could not be loaded as a Keras model ({first_line(error)}); "
                                  "train this checkpoint again or copy the whole folder again.") from None
        self.path = path
        self.outputs = int(self.model.output.shape[-1])
        self._call = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True)

    def __call__(self, pixels):
        return np.asarray(self._call(np.asarray(pixels, dtype=np.float32)))


class TFLiteRuntime:
    """A ``.tflite`` export run by the LiteRT interpreter (XNNPACK on the CPU)."""

    def __init__(self, directory, kind):
        Interpreter = tflite_file.interpreter_class()  # before the try: a missing runtime is no broken file
        path = Path(directory) / checkpoint.TFLITE_FILES[kind]
        if not path.is_file():
            raise CheckpointError(f"{path} is missing; run `python -m lessons export --checkpoint {directory}`.")
        try:
            self.interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count())
            self.interpreter.allocate_tensors()
        except Exception as error:
            raise CheckpointError(f"{path} could not be loaded as a TFLite model ({first_line(error)}); "
                                  f"export it again: `python -m lessons export --checkpoint {directory}`.") from None
        self.name, self.path = kind, path
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.outputs = int(self.output["shape"][-1])
        self._lock = threading.Lock()  # an interpreter runs one request at a time

    def __call__(self, pixels):
        results = []
        for image in np.asarray(pixels):
            with self._lock:
                self.interpreter.set_tensor(self.input["index"], image[None].astype(self.input["dtype"]))
                self.interpreter.invoke()
                raw = self.interpreter.get_tensor(self.output["index"])[0]
            scale, zero = self.output["quantization"]
            results.append((raw.astype(np.float32) - zero) * scale if scale else raw)
        return np.stack(results)


class Predictor:
    """A loaded checkpoint: labels, settings and a runtime that maps pixels to probabilities."""

    def __init__(self, directory, labels, meta, runtime):
        self.directory, self.labels, self.meta, self.runtime = Path(directory), labels, meta, runtime
        self.image_size = meta.image_size
        self._predict = mobilenetv2.with_flip(runtime) if meta.test_time_flip else runtime

    @classmethod
    def load(cls, directory, runtime="auto"):
        """Load a checkpoint once, to answer many photos.

        Args:
            directory: a checkpoint folder (``python -m lessons train``).
            runtime: which of its files runs: ``"keras"``, ``"fp32"``, ``"dynamic"``, ``"int8"``
                (see :data:`RUNTIMES`), or ``"auto"``: the fastest one present.

        Raises:
            CheckpointError: a file is missing or broken; the message names it.
        """
        directory = Path(directory)
        labels, meta = checkpoint.read(directory)
        if runtime == "auto":
            runtime = next(r for r in AUTO_ORDER if r == "keras" or (directory / checkpoint.TFLITE_FILES[r]).is_file())
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)} or auto, not {runtime!r}")
        engine = KerasRuntime(directory) if runtime == "keras" else TFLiteRuntime(directory, runtime)
        if engine.outputs != len(labels):
            raise CheckpointError(
                f"{engine.path} outputs {engine.outputs} classes but {directory / checkpoint.LABELS_FILE} "
                f"lists {len(labels)}; the two files come from different trainings."
            )
        return cls(directory, labels, meta, engine)

    def predict_pixels(self, pixels, batch_size=32):
        """(n, classes) probabilities of a uint8 (n, size, size, 3) batch, in chunks."""
        return np.concatenate([self._predict(pixels[i:i + batch_size]) for i in range(0, len(pixels), batch_size)])

    def pixels(self, source, name=None):
        """One photo as the model's input; raises :class:`lessons.images.ImageError`, calling it ``name``."""
        return images.load_pixels(source, self.image_size, name)

    def probabilities(self, sources):
        """(n, classes) probabilities for a list of photos (paths, bytes, PIL images, arrays)."""
        batch = np.stack([self.pixels(s) for s in sources])
        return self.predict_pixels(batch)

    def top_k(self, source, k=3):
        """The ``k`` likeliest classes of one photo, as :class:`Prediction` objects."""
        return self.top_k_batch([source], k)[0]

    def top_k_batch(self, sources, k=3):
        """:meth:`top_k` for many photos at once."""
        return [self.ranked(p, k) for p in self.probabilities(sources)]

    def ranked(self, probabilities, k=3):
        order = np.argsort(-probabilities, kind="stable")[:k]
        return [Prediction(self.labels[i], float(probabilities[i])) for i in order]
