"""The app's speed: server-side latency per photo, and end to end through gradio_client.

    python -m benchmarks.app_latency [--checkpoint DIR] [--calls 40] [--requests 6]

Server side: what one request costs the server to answer (decoding the upload,
letterboxing, the model, the mirror image when the checkpoint averages with it), for the
Keras model and for the fast path the app serves (TFLite INT8 when exported), interleaved
one call each in turn. Target: p50 <= 15 ms for the fast path at 224 px on this 2-core CPU.

End to end: a real server (``python app.py``) and 1, then 8, concurrent ``gradio_client``
clients, each sending photos one after another; every answer includes the Grad-CAM overlay
and the model card, as in the browser.
"""
import argparse
import concurrent.futures
import time
from pathlib import Path

import numpy as np
from gradio_client import Client, handle_file

from lessons import latency, paths, serving
from lessons.inference import Predictor


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=paths.REFERENCE_CHECKPOINT)
    parser.add_argument("--calls", type=int, default=40, help="server-side calls per path")
    parser.add_argument("--requests", type=int, default=6, help="end-to-end requests per client")
    args = parser.parse_args()
    photos = sorted(paths.SAMPLE_DATA.glob("*/*.jpg"))

    server_side(args.checkpoint, photos, args.calls)
    with serving.AppProcess(["--checkpoint", args.checkpoint]) as app:
        print(f"the site answered {app.start_seconds:.1f} s after `python app.py` started\n")
        for clients in (1, 8):
            end_to_end(app.url, Path(args.checkpoint).name, photos, clients, args.requests)


def server_side(checkpoint, photos, calls):
    keras_clf, fast = Predictor.load(checkpoint, "keras"), Predictor.load(checkpoint, "auto")
    uploads = [p.read_bytes() for p in photos]  # as the server receives them: encoded files
    served = {"keras": keras_clf, f"fast ({fast.runtime.name})": fast}
    runs = {name: (lambda content, c=clf: c.predict_pixels(c.pixels(content)[None])) for name, clf in served.items()}
    for run in runs.values():  # warm-up: tracing, XNNPACK set-up
        run(uploads[0])
    seconds = {name: [] for name in runs}
    for i in range(calls):
        for name, run in runs.items():
            started = time.perf_counter()
            run(uploads[i % len(uploads)])
            seconds[name].append(time.perf_counter() - started)
    results = {name: latency.Latency(name, s) for name, s in seconds.items()}
    print(f"server side, one photo a call (decode + letterbox + model), {calls} calls each:")
    print(latency.format_table(results, baseline="keras"))
    fast_p50 = results[f"fast ({fast.runtime.name})"].median * 1e3
    print(f"fast path p50 {fast_p50:.1f} ms (target <= 15 ms)\n")


def end_to_end(url, checkpoint, photos, clients, requests):
    def one_client(k):
        client = Client(url, verbose=False)
        times = []
        for i in range(requests):
            photo = photos[(k * requests + i) % len(photos)]
            started = time.perf_counter()
            client.predict(handle_file(str(photo)), checkpoint, api_name="/classify")
            times.append(time.perf_counter() - started)
        return times

    one_client(0)  # warm-up: the server's first request, the client's first connection
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        times = [t for client_times in pool.map(one_client, range(clients)) for t in client_times]
    wall = time.perf_counter() - started
    print(f"end to end, {clients} client(s) x {requests} requests: p50 {np.median(times) * 1e3:.0f} ms, "
          f"p95 {np.percentile(times, 95) * 1e3:.0f} ms, {len(times) / wall:.1f} requests/s")


if __name__ == "__main__":
    main()
