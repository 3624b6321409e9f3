"""Evaluation's peak memory and speed as the photo set grows: every photo in one array vs streamed.

    python -m benchmarks.evaluate_memory [--photos 1000] [--runtime int8]

Builds sets of 1x, 2x and 4x ``--photos`` photos (the sample photos repeated under new
names, as hard links), then scores each set with the reference checkpoint both ways, each
in a fresh process so that its peak resident memory (ru_maxrss) is its own: the way
`evaluate` read photos before (``pipeline.load_images``, then ``predict_pixels``) and the way it
does now (:class:`lessons.streaming.PhotoStream`). The runs alternate, so that a busy
machine slows both alike. Prints peak memory and photos a second, and the ratios.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from lessons import paths

# One run in a fresh process: JSON with its peak memory and its photos a second.
RUN = """
import json, resource, sys, time
from pathlib import Path
import lessons
from lessons import pipeline, streaming
from lessons.inference import Predictor

way, folder, runtime = sys.argv[1:]
photos = sorted(Path(folder).glob("*/*.jpg"))
clf = Predictor.load(lessons.paths.REFERENCE_CHECKPOINT, runtime)
started = time.perf_counter()
if way == "one array":
    probabilities = clf.predict_pixels(pipeline.load_images(photos, clf.image_size, progress=False))
else:
    _, _, probabilities = streaming.PhotoStream(photos, clf.image_size).predict(clf.predict_pixels, progress=False)
seconds = time.perf_counter() - started
assert len(probabilities) == len(photos)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
print(json.dumps({"peak_mb": peak_mb, "photos_per_s": len(photos) / seconds}))
"""

WAYS = ("one array", "streamed")
MULTIPLES = (1, 2, 4)


def photo_set(folder, count):
    """``count`` photos in class folders under ``folder``: the sample photos again and again, hard-linked."""
    sample = sorted(paths.SAMPLE_DATA.glob("*/*.jpg"))
    for i in range(count):
        photo = sample[i % len(sample)]
        target = folder / photo.parent.name / f"copy{i // len(sample)}_{photo.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(photo, target)
    return folder


def measure(way, folder, runtime):
    result = subprocess.run([sys.executable, "-c", RUN, way, str(folder), runtime], capture_output=True,
                            text=True, cwd=paths.REPO, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=1000, help="photos in the 1x set")
    parser.add_argument("--runtime", default="int8", choices=("keras", "fp32", "int8"))
    args = parser.parse_args()

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        sets = {m: photo_set(Path(tmp) / f"x{m}", m * args.photos) for m in MULTIPLES}
        for multiple, folder in sets.items():
            for way in WAYS:
                results[way, multiple] = measure(way, folder, args.runtime)
                print(f"{way:<10} {multiple * args.photos:>6} photos: peak {results[way, multiple]['peak_mb']:7.0f} MB,"
                      f" {results[way, multiple]['photos_per_s']:6.1f} photos/s", flush=True)

    print(f"\nreference checkpoint, {args.runtime} runtime; peak memory at 4x the photos / at 1x, and speed:")
    for way in WAYS:
        growth = results[way, 4]["peak_mb"] / results[way, 1]["peak_mb"]
        print(f"  {way:<10} memory x{growth:.2f} from {args.photos} to {4 * args.photos} photos"
              + ("  (target: within 20 %)" if way == "streamed" else ""))
    speed = [results["streamed", m]["photos_per_s"] / results["one array", m]["photos_per_s"] for m in MULTIPLES]
    print(f"  streamed / one array, photos a second: {', '.join(f'{s:.2f}' for s in speed)} at 1x, 2x, 4x "
          "(target: no worse than 1)")


if __name__ == "__main__":
    main()
