"""Serving checkpoints to the teaching site: loaded once, warmed up, described, launched.

``app.py`` holds the Gradio layout; everything it serves comes from here, and so does
what week 5 and the benchmarks use to start the same site with the same settings.

Public API: :class:`Checkpoints` (the checkpoints a site offers, by name), :class:`Served`
(one loaded checkpoint: answers, Grad-CAM, model card), :func:`app_settings` and
:func:`launch` (how the site starts), :class:`AppProcess` (the real site in a subprocess,
for tests and benchmarks).
"""
import argparse
import collections
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from lessons import checkpoint, paths
from lessons.checkpoint import CheckpointError

CHECKPOINT_ENV = "WORKBOOK_CHECKPOINT"
MAX_FILE_SIZE = "15mb"
# Two requests at a time on a 2-core machine: more would only queue inside TensorFlow.
CONCURRENCY = 2
WARM_UP_CALLS = 20


@dataclass
class Served:
    """One checkpoint ready to answer: the fastest runtime, Grad-CAM on the Keras model,
    and its measured latency (for the model card)."""

    classifier: object  # lessons.inference.Classifier, on its fastest runtime
    explainer: object  # lessons.gradcam.GradCam, on the Keras model
    latency: float  # seconds a photo, median of WARM_UP_CALLS

    @classmethod
    def load(cls, directory):
        """Load ``directory`` once and time it; raises :class:`CheckpointError` in one line."""
        from lessons import gradcam, latency
        from lessons.inference import Classifier

        fast = Classifier.load(directory, runtime="auto")
        keras_model = fast if fast.runtime.name == "keras" else Classifier.load(directory, runtime="keras")
        explainer = gradcam.GradCam(keras_model.runtime.model)
        photo = fast.pixels(_first_sample_photo())
        explainer(photo)  # traces the Grad-CAM graph now, not in the first visitor's request
        seconds = latency.measure({"served": fast}, photo, calls=WARM_UP_CALLS, warmup=1)["served"].median
        return cls(fast, explainer, seconds)

    def answer(self, photo, top_k=3):
        """({label: probability} of the ``top_k`` likeliest classes, Grad-CAM overlay) of one photo.

        Raises :class:`lessons.images.ImageError` for anything that is not a usable photo.
        """
        from lessons import gradcam

        pixels = self.classifier.pixels(photo)
        ranked = self.classifier.ranked(self.classifier.predict_pixels(pixels[None])[0], top_k)
        cam, _ = self.explainer(pixels, self.classifier.labels.index(ranked[0].label))
        return {p.label: p.probability for p in ranked}, gradcam.overlay(pixels, cam)

    def card(self):
        """The model card, in Markdown: classes, held-out accuracy, file, format, latency."""
        clf = self.classifier
        meta = clf.meta
        # The accuracy of the file actually served, when an export recorded it; else the Keras model's.
        tested = meta.get("exports", {}).get(clf.runtime.name) or meta.get("test") or {}
        accuracy = tested.get("test_accuracy", tested.get("accuracy"))
        photos = tested.get("test_photos", tested.get("photos"))
        lines = [
            f"**Checkpoint** `{clf.directory.name}` · MobileNetV2 alpha {meta.get('alpha')} at {clf.image_size} px",
            f"**Classes** ({len(clf.labels)}): {', '.join(clf.labels)}",
            f"**Test accuracy** {accuracy:.1%} on {photos} held-out photos" if accuracy is not None and photos
            else "**Test accuracy** not recorded",
            f"**Served as** {clf.runtime.name} (`{clf.runtime.path.name}`, "
            f"{clf.runtime.path.stat().st_size / 1e6:.1f} MB)"
            + (", averaged with the mirror image" if meta.get("test_time_flip") else ""),
            f"**Measured latency** {self.latency * 1e3:.1f} ms a photo on this server "
            f"(model only, median of {WARM_UP_CALLS})",
        ]
        return "\n\n".join(lines)


class Checkpoints:
    """The checkpoints a site offers, by the names a student knows (their folder names).

    Every folder under ``root`` with a ``meta.json``, and ``default`` wherever it is. Each
    is loaded on first use and kept; one that cannot be loaded raises
    :class:`CheckpointError` (one line naming the file) each time it is chosen, while the
    others keep serving.
    """

    def __init__(self, default, root=paths.CHECKPOINTS):
        default = Path(default).resolve()
        found = {p.name: p.resolve() for p in sorted(Path(root).glob("*")) if (p / checkpoint.META_FILE).is_file()}
        # The default comes first; under its folder name unless another checkpoint has that name.
        self.default = default.name if found.get(default.name, default) == default else str(default)
        self.directories = {self.default: default, **{n: p for n, p in found.items() if p != default}}
        self._loaded = {}
        self._lock = threading.Lock()

    def names(self):
        return list(self.directories)

    def get(self, name):
        """The :class:`Served` checkpoint called ``name``, loaded once."""
        if name not in self.directories:
            raise CheckpointError(f"No checkpoint called {name!r}; choose one of {', '.join(self.directories)}.")
        with self._lock:  # two first requests at once must not load it twice
            if name not in self._loaded:
                self._loaded[name] = Served.load(self.directories[name])
            return self._loaded[name]


def _first_sample_photo():
    return sorted(paths.SAMPLE_DATA.glob("*/*.jpg"))[0]


def app_settings(argv=()):
    """The site's settings: command-line options over environment variables over defaults."""
    parser = argparse.ArgumentParser(prog="python app.py", description="The MobileNetV2 Workbook's teaching site.")
    parser.add_argument("--checkpoint", type=Path, default=os.environ.get(CHECKPOINT_ENV, paths.REFERENCE_CHECKPOINT),
                        help=f"checkpoint directory to start on (default: ${CHECKPOINT_ENV} or the reference one)")
    port = os.environ.get("GRADIO_SERVER_PORT")
    parser.add_argument("--port", type=int, default=int(port) if port else None,
                        help="default: $GRADIO_SERVER_PORT, else 7860 or the next free port")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="0.0.0.0 to serve other machines (a container does)")
    parser.add_argument("--share", action="store_true", default=in_colab(),
                        help="also serve through a public gradio.live link (the default in Colab)")
    return parser.parse_args(list(argv))


def in_colab():
    return "google.colab" in sys.modules


def launch(demo, settings=None, block=True, **options):
    """Start ``demo`` as every copy of the site does: queue, upload cap, notebook links.

    ``block=False`` returns at once (from a notebook), with Gradio's (app, url, share url).
    """
    settings = settings or app_settings()
    demo.queue(default_concurrency_limit=CONCURRENCY)
    return demo.launch(server_name=settings.host, server_port=settings.port, share=settings.share,
                       max_file_size=MAX_FILE_SIZE, show_error=True, prevent_thread_lock=not block,
                       # The teaching tabs link to the weekly notebooks, served from weeks/.
                       allowed_paths=[str(paths.REPO / "weeks")], **options)


class AppProcess:
    """``python app.py`` in a subprocess, for tests and benchmarks: started, reached, stopped.

    Its output is drained by a thread (a full pipe would block the server) and kept, the
    last lines of it, for error messages. Use as a context manager::

        with AppProcess(["--checkpoint", "checkpoints/waste-mobilenetv2"]) as app:
            Client(app.url)
    """

    def __init__(self, args=(), app_dir=paths.REPO, python=sys.executable, env=None, timeout=240):
        self.command = [str(python), "app.py", *map(str, args), "--port", str(free_port())]
        self.app_dir, self.env, self.timeout = Path(app_dir), env, timeout
        self.output = collections.deque(maxlen=200)
        self.url = f"http://127.0.0.1:{self.command[-1]}/"

    def __enter__(self):
        started = time.monotonic()
        self.process = subprocess.Popen(self.command, cwd=self.app_dir, env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self._drain = threading.Thread(target=lambda: self.output.extend(self.process.stdout), daemon=True)
        self._drain.start()
        while time.monotonic() - started < self.timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.process.returncode}:\n{self.log()}")
            try:
                urllib.request.urlopen(self.url, timeout=2)
                self.start_seconds = time.monotonic() - started
                return self
            except OSError:
                time.sleep(0.5)
        self.__exit__()
        raise RuntimeError(f"app.py did not answer within {self.timeout} s:\n{self.log()}")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._drain.join(timeout=5)  # its last lines read: log() is whole once the process is stopped

    def log(self):
        return "".join(self.output)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
