"""Single-photo inference: model.predict vs a compiled call vs TFLite FP32 vs INT8.

    python -m benchmarks.inference_latency [--checkpoint DIR] [--repeats 50]

Runs the four side by side on the same photos, one call each in turn
(:func:`lessons.latency.measure`), so that a busy machine slows all alike, and prints
median and p90 latencies, speed-ups over ``model.predict``
and the accuracy of each on the checkpoint's test photos (when the photo folder it was
trained on is here; on data/sample, its held-out photos, otherwise).
"""
import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np

from lessons import checkpoint, data, export, latency, paths, pipeline
from lessons.inference import Predictor


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=paths.REFERENCE_CHECKPOINT)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(shutil.copytree(args.checkpoint, Path(tmp) / args.checkpoint.name))
        keras_clf = Predictor.load(directory, "keras")
        fp32_file = directory / checkpoint.TFLITE_FILES["fp32"]
        if not fp32_file.exists():  # the reference checkpoint ships only INT8, to stay small
            fp32_file.write_bytes(export.convert(keras_clf.runtime.model, "fp32"))
        runtimes = {
            "model.predict": lambda x: keras_clf.runtime.model.predict(x, verbose=0),
            "compiled call": keras_clf.runtime,
            "tflite fp32": Predictor.load(directory, "fp32").runtime,
            "tflite int8": Predictor.load(directory, "int8").runtime,
        }
        photos, labels = _test_photos(directory)
        pixels = pipeline.load_images(photos, keras_clf.image_size)
        results = latency.measure(runtimes, pixels, calls=args.repeats, warmup=2)
        accuracy = {name: float(np.mean(_predict(run, pixels) == labels)) for name, run in runtimes.items()}

    print(f"{args.checkpoint.name} at {keras_clf.image_size}px, one photo a call, {args.repeats} calls each")
    print(latency.format_table(results, baseline="model.predict"))
    print("accuracy on", len(labels), "test photos (one view, no mirror image):",
          ", ".join(f"{name} {value:.1%}" for name, value in accuracy.items()))
    speed_up = results["model.predict"].median / results["tflite int8"].median
    lost = (accuracy["compiled call"] - accuracy["tflite int8"]) * 100
    print(f"INT8: {speed_up:.0f}x faster than model.predict (target >= 20x), {lost:.1f} points of accuracy lost "
          "(target <= 1)")


def _test_photos(directory):
    try:
        return checkpoint.split_photos(directory, "test")
    except checkpoint.CheckpointError:
        labels = checkpoint.read(directory).labels
        sample = data.scan(paths.SAMPLE_DATA)
        print("(the training photos are not here: measuring accuracy on data/sample)")
        return sample.paths(), np.array([labels.index(sample.class_names[i]) for i in sample.labels])


def _predict(run, pixels, batch=32):
    return np.concatenate([run(pixels[i:i + batch]) for i in range(0, len(pixels), batch)]).argmax(axis=1)


if __name__ == "__main__":
    main()
