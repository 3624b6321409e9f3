"""A checkpoint's Keras model -> TFLite files for fast CPU and phone inference.

* **fp32**: the same float arithmetic in a lighter runtime (no Python graph overhead).
* **dynamic**: dynamic-range quantisation: weights stored as 8-bit integers (a quarter of
  the size), activations still float; no calibration photos needed.
* **int8**: full-integer quantisation. Weights *and* activations become 8-bit integers;
  the range of every activation is measured on real training photos (calibration), so
  the exported model takes uint8 pixels and runs on integer-only hardware.

Each export is checked on the checkpoint's test photos: its accuracy, and how often its
top class agrees with the Keras model's.

Public API: :data:`CALIBRATION_PHOTOS`, :func:`convert`, :func:`export`,
:func:`relu6_input_peaks`, :func:`format_results`.
"""
import contextlib
import io
import warnings
from pathlib import Path

import numpy as np

from lessons import atomic, checkpoint, metadata, pipeline
from lessons import mobilenetv2
from lessons.inference import Predictor
from lessons.text_table import text_table

CALIBRATION_PHOTOS = 200


def convert(model, kind, calibration=None):
    """The ``.tflite`` bytes of ``model`` as ``kind`` (fp32, dynamic or int8).

    ``int8`` needs ``calibration``: a uint8 batch of training photos.
    """
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if kind == "int8":
        if calibration is None or not len(calibration):
            raise ValueError("INT8 export needs calibration photos.")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([image[None].astype(np.float32)] for image in calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        # Pixels are 0..255 already, so the uint8 input needs no scaling at all.
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    elif kind == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]  # without calibration data: weights only
    elif kind != "fp32":
        raise ValueError(f"unknown export kind {kind!r}: use fp32, dynamic or int8")
    # Keras prints the SavedModel it writes for the converter ("Saved artifact at ...", a TensorSpec
    # per endpoint) on stdout: internals of the conversion, not a result. The warning is meant for
    # TF1's quantized_input_stats; here the input's range comes from the calibration photos.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs were expected")
        return converter.convert()


def export(directory, kinds=("fp32", "int8"), data_root=None, progress=True):
    """Write the TFLite exports into the checkpoint and record their checks in meta.json.

    Args:
        directory: a checkpoint folder (``python -m lessons train``); the files go into it.
        kinds: which of ``"fp32"``, ``"dynamic"``, ``"int8"`` to write.
        data_root: where the checkpoint's photos are, if not where it was trained
            (INT8 calibrates on its training photos; every file is checked on its test photos).
        progress: show progress bars while photos load.

    Returns:
        ``{kind: lessons.metadata.Export}``, with a ``"keras"`` entry for comparison.
    """
    directory = Path(directory)
    keras_clf = Predictor.load(directory, runtime="keras")
    size = keras_clf.image_size
    calibration, _ = checkpoint.split_photos(directory, "train", data_root, limit=CALIBRATION_PHOTOS)
    test_paths, test_labels = checkpoint.split_photos(directory, "test", data_root)
    test = pipeline.load_images(test_paths, size, progress)
    reference = keras_clf.predict_pixels(test).argmax(axis=1)
    results = {"keras": _record(directory / checkpoint.MODEL_FILE, reference, reference, test_labels)}
    for kind in kinds:
        pixels = pipeline.load_images(calibration, size, progress) if kind == "int8" else None
        path = directory / checkpoint.TFLITE_FILES[kind]
        atomic.write_bytes(path, convert(keras_clf.runtime.model, kind, pixels))
        predicted = Predictor.load(directory, runtime=kind).predict_pixels(test).argmax(axis=1)
        results[kind] = _record(path, predicted, reference, test_labels,
                                len(calibration) if kind == "int8" else None)
    _, meta = checkpoint.read(directory)
    for kind, record in results.items():
        meta = meta.with_export(kind, record)
    checkpoint.write_meta(directory, meta)
    return results


def _record(path, predicted, reference, labels, calibration_photos=None):
    return metadata.Export(path.name, path.stat().st_size, float(np.mean(predicted == labels)),
                           float(np.mean(predicted == reference)), int(len(labels)), calibration_photos)


def relu6_input_peaks(model, pixels, batch_size=32):
    """(ReLU6 layer names, (photos, layers) array): the largest value each ReLU6 *receives* per photo.

    ReLU6 clips at 6 whatever comes in, so the INT8 file can store its output with the fixed
    scale 6/255. These peaks are the range a plain (unclipped) ReLU in the same place would need,
    which only calibration photos can estimate.
    """
    import keras

    base = mobilenetv2.base_of(model)
    relus = [layer for layer in base.layers if isinstance(layer, keras.layers.ReLU) and layer.max_value == 6]
    # One number per photo and layer, computed inside the graph: the activations themselves would
    # take gigabytes for a few hundred photos at 224 px.
    probe = keras.Model(base.input, [keras.ops.max(layer.input, axis=(1, 2, 3)) for layer in relus])
    preprocess = model.get_layer(mobilenetv2.PREPROCESS_NAME)
    peaks = []
    for i in range(0, len(pixels), batch_size):
        scaled = preprocess(np.asarray(pixels[i:i + batch_size], dtype=np.float32))
        peaks.append(np.stack([np.asarray(p) for p in probe(scaled, training=False)], axis=1))
    return [layer.name for layer in relus], np.concatenate(peaks)


def format_results(results):
    rows = [{"format": kind, "file": r.file, "MB": r.bytes / 1e6, "test accuracy": r.test_accuracy,
             "agrees with keras": r.agreement_with_keras} for kind, r in results.items()]
    return text_table(rows, {"MB": ".1f", "test accuracy": ".1%", "agrees with keras": ".1%"})
