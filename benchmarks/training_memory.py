"""Phase-2 training's peak memory and speed as the photo set grows: one array in memory vs streamed.

    python -m benchmarks.training_memory [--photos 1000] [--image-size 224] [--steps 20]

Builds sets of 1x, 2x and 4x ``--photos`` photos (the sample photos again under new names,
as :mod:`benchmarks.evaluate_memory` does), then runs ``--steps`` fine-tuning steps of the
real MobileNetV2 (from ``block_13`` up, augmented, batches of 32, as ``training.run_phase2``)
on each set both ways, each in a fresh process so that its peak resident memory (ru_maxrss)
is its own. The steps are the start of an epoch: what an epoch holds in memory is there from
its first step (the whole array, or a few batches of the stream), and a fixed number of
steps keeps the benchmark minutes long whatever the set's size. The two ways:

- "one array": how training read photos before streaming (``pipeline.load_images`` into one
  array, then ``tf.data.Dataset.from_tensor_slices``, which copies it into a tensor);
- "streamed": how it reads them now (a :class:`lessons.streaming.PhotoStream` through
  :func:`lessons.pipeline.batches`, decoding each batch while the one before trains).

The runs alternate, so that a busy machine slows both alike. Prints peak memory, photos a
second of the steps alone and of loading + steps (a run loads its array once, then trains
many epochs; the stream decodes the photos again every epoch), and the ratios.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.evaluate_memory import MULTIPLES, photo_set
from lessons import paths

# One run in a fresh process: JSON with its peak memory and its photos a second.
RUN = """
import json, resource, sys, time
from pathlib import Path
import numpy as np
from lessons import mobilenetv2, pipeline, quiet, streaming
quiet.quiet_tensorflow_python()
import keras, tensorflow as tf

way, folder, size, steps = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
photos = sorted(folder.glob("*/*.jpg"))
classes = sorted({p.parent.name for p in photos})
labels = np.array([classes.index(p.parent.name) for p in photos])
keras.utils.set_random_seed(0)
model = mobilenetv2.build_classifier(len(classes), size)
mobilenetv2.set_trainable_from(model, "block_13")
model.compile(optimizer=keras.optimizers.Adam(1e-4),
              loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1), metrics=["accuracy"])
augment = pipeline.augmentation(0)
started = time.perf_counter()
if way == "one array":
    pixels = pipeline.load_images(photos, size, progress=False)
    onehot = np.eye(len(classes), dtype=np.float32)[labels]
    batches = (tf.data.Dataset.from_tensor_slices((pixels, onehot)).shuffle(len(photos), seed=0).batch(32)
               .map(lambda x, y: (augment(tf.cast(x, tf.float32), training=True), y)).prefetch(tf.data.AUTOTUNE))
else:
    batches = pipeline.batches(streaming.PhotoStream(photos, size, labels), labels, len(classes), 32, shuffle_seed=0,
                               augment=augment)
loaded = time.perf_counter()
model.fit(batches, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
done = time.perf_counter()
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
trained = 32 * steps
print(json.dumps({"peak_mb": peak_mb, "training": trained / (done - loaded), "with_load": trained / (done - started)}))
"""

WAYS = ("one array", "streamed")


def measure(way, folder, image_size, steps):
    result = subprocess.run([sys.executable, "-c", RUN, way, str(folder), str(image_size), str(steps)], capture_output=True,
                            text=True, cwd=paths.REPO, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=1000, help="photos in the 1x set")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--steps", type=int, default=20, help="training steps a run (batches of 32)")
    args = parser.parse_args()

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        sets = {m: photo_set(Path(tmp) / f"x{m}", m * args.photos) for m in MULTIPLES}
        for multiple, folder in sets.items():
            for way in WAYS:
                r = results[way, multiple] = measure(way, folder, args.image_size, args.steps)
                print(f"{way:<10} {multiple * args.photos:>6} photos: peak {r['peak_mb']:7.0f} MB, training "
                      f"{r['training']:5.1f} photos/s, loading + training {r['with_load']:5.1f} photos/s", flush=True)

    print(f"\n{args.steps} phase-2 steps at {args.image_size} px; peak memory at 4x the photos / at 1x, and speed:")
    for way in WAYS:
        growth = results[way, 4]["peak_mb"] / results[way, 1]["peak_mb"]
        print(f"  {way:<10} memory x{growth:.2f} from {args.photos} to {4 * args.photos} photos"
              + ("  (target: within 20 %)" if way == "streamed" else ""))
    for key, what in (("training", "training alone"), ("with_load", "loading + training")):
        speed = [results["streamed", m][key] / results["one array", m][key] for m in MULTIPLES]
        print(f"  streamed / one array, photos a second of {what}: {', '.join(f'{s:.2f}' for s in speed)} "
              "at 1x, 2x, 4x")


if __name__ == "__main__":
    main()
