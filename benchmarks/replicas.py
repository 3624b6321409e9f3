"""Fine-tuning steps a second with 1 and 2 replicas, on this machine's devices.

    python -m benchmarks.replicas [--image-size 160] [--batches 8]

Three runs of the same phase-2 epochs (MobileNetV2 from ``block_13`` up, the same global
batch of 2 x ``--batch-size`` photos), each in fresh processes, since a strategy is chosen
before TensorFlow touches a device:

- 1 replica: ``model.fit`` on the default strategy, as ``train`` runs on one device;
- 2 replicas in one process: ``MirroredStrategy`` (on a machine without GPUs, the CPU split
  into two logical devices, as ``train --devices 2`` does);
- 2 workers on 127.0.0.1: ``MultiWorkerMirroredStrategy`` from ``TF_CONFIG``, with
  :func:`lessons.distribute.fit`'s own step, as two machines would run.

The second epoch is timed (the first traces the step). On one CPU every replica shares the
same cores, so this measures what splitting costs, not a speed-up; on a machine with two
GPUs the 2-replica rows are the ones that should be faster.
"""
import argparse
import json
import os
import subprocess
import sys

from lessons import distribute, paths

# One run: JSON with the seconds of the timed epoch and its steps, from the chief.
RUN = """
import json, sys, time
from pathlib import Path
import numpy as np
from lessons import distribute, mobilenetv2, pipeline, quiet
quiet.quiet_tensorflow_python()
devices, size, batch, batches = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
strategy = distribute.strategy_for(int(devices) if devices.isdigit() else devices)
import keras
photos = sorted(Path(sys.argv[5]).glob("*/*.jpg"))[: batch * batches]
labels = np.arange(len(photos)) % 10
pixels = pipeline.load_images(photos, size, progress=False)
keras.utils.set_random_seed(0)
with strategy.scope():
    model = mobilenetv2.build_classifier(10, size)
    mobilenetv2.set_trainable_from(model, "block_13")
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=keras.losses.CategoricalCrossentropy(),
                  metrics=["accuracy"])
times = []
class Timer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        times.append(time.perf_counter())
    def on_epoch_end(self, epoch, logs=None):
        times[-1] = time.perf_counter() - times[-1]
train = pipeline.batches(pixels, labels, 10, batch, shuffle_seed=0)
distribute.fit(model, train, pipeline.batches(pixels[:batch], labels[:batch], 10, batch), strategy, 0, 2, [Timer()], 0)
if distribute.is_chief(strategy):
    print(json.dumps({"seconds": times[-1], "steps": batches, "replicas": distribute.replicas(strategy)}))
"""


def run(devices, args, tf_configs=(None,)):
    """Start one process per TF_CONFIG (one, without a cluster) and return the chief's result."""
    processes = []
    for tf_config in tf_configs:
        env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"} | ({"TF_CONFIG": tf_config} if tf_config else {})
        processes.append(subprocess.Popen(
            [sys.executable, "-c", RUN, devices, str(args.image_size), str(args.global_batch), str(args.batches),
             str(paths.SAMPLE_DATA)], cwd=paths.REPO, env=env, stdout=subprocess.PIPE, text=True))
    outputs = [process.communicate(timeout=1200)[0] for process in processes]
    if any(process.returncode for process in processes):
        raise SystemExit(f"a run with devices={devices} failed")
    return json.loads(outputs[0].splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=160)
    parser.add_argument("--global-batch", type=int, default=32)
    parser.add_argument("--batches", type=int, default=3, help="steps an epoch (the sample set has 100 photos)")
    args = parser.parse_args()

    results = {
        "1 replica (model.fit)": run("1", args),
        "2 replicas, one process (MirroredStrategy)": run("2", args),
        "2 workers on 127.0.0.1 (MultiWorkerMirroredStrategy)": run("all", args, distribute.local_cluster(2)),
    }
    one = results["1 replica (model.fit)"]
    print(f"phase-2 steps at {args.image_size} px, global batch {args.global_batch}, {os.cpu_count()} CPU cores:")
    for name, r in results.items():
        rate = r["steps"] / r["seconds"]
        print(f"  {name:<55} {rate:6.2f} steps/s  x{rate / (one['steps'] / one['seconds']):.2f}")


if __name__ == "__main__":
    main()
