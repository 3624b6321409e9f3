"""Serving checkpoints to the teaching site: loaded once, warmed up, described, launched.

``app.py`` holds the Gradio layout; everything it serves comes from here, and so does
what week 5 and the benchmarks use to start the same site with the same settings.

Public API: :class:`Checkpoints` (the checkpoints a site offers, by name, and what a
visitor gets from them), :class:`Served` (one loaded checkpoint: answers, Grad-CAM, model
card), the teaching tabs' figures (:func:`conv_cost_plot`, :func:`spiral_plot`,
:func:`block_shapes`, :func:`field_plot`, :func:`notebook_link`), :func:`app_settings` and
:func:`launch` (how the site starts), :class:`AppProcess` (the real site in a subprocess,
for tests and benchmarks).
"""
import argparse
import collections
import functools
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
from lessons.images import ImageError

CHECKPOINT_ENV = "WORKBOOK_CHECKPOINT"
MAX_FILE_SIZE = "15mb"
# Two requests at a time on a 2-core machine: more would only queue inside TensorFlow.
CONCURRENCY = 2
WARM_UP_CALLS = 20
# What error messages call a visitor's photo: Gradio keeps it in a temporary file whose path means nothing to them.
UPLOAD_NAME = "The upload"


@dataclass
class Served:
    """One checkpoint ready to answer: the fastest runtime, Grad-CAM on the Keras model,
    and its measured latency (for the model card)."""

    predictor: object  # lessons.inference.Predictor, on its fastest runtime
    explainer: object  # lessons.gradcam.GradCam, on the Keras model
    latency: float  # seconds a photo, median of WARM_UP_CALLS

    @classmethod
    def load(cls, directory):
        """Load ``directory`` once and time it; raises :class:`CheckpointError` in one line."""
        from lessons import gradcam, latency
        from lessons.inference import Predictor

        fast = Predictor.load(directory, runtime="auto")
        keras_model = fast if fast.runtime.name == "keras" else Predictor.load(directory, runtime="keras")
        explainer = gradcam.GradCam(keras_model.runtime.model)
        photo = fast.pixels(paths.sample_photo_per_class()[0])
        explainer(photo)  # traces the Grad-CAM graph now, not in the first visitor's request
        seconds = latency.measure({"served": fast}, photo, calls=WARM_UP_CALLS, warmup=1)["served"].median
        return cls(fast, explainer, seconds)

    def answer(self, photo, top_k=3, name=None):
        """({label: probability} of the ``top_k`` likeliest classes, Grad-CAM overlay) of one photo.

        Raises :class:`lessons.images.ImageError` for anything that is not a usable photo,
        calling it ``name`` (default: its path).
        """
        from lessons import gradcam

        pixels = self.predictor.pixels(photo, name)
        ranked = self.predictor.ranked(self.predictor.predict_pixels(pixels[None])[0], top_k)
        cam, _ = self.explainer(pixels, self.predictor.labels.index(ranked[0].label))
        return {p.label: p.probability for p in ranked}, gradcam.overlay(pixels, cam)

    def card(self):
        """The model card, in Markdown: classes, held-out accuracy, file, format, latency."""
        clf = self.predictor
        # The accuracy of the file actually served, when an export recorded it; else the Keras model's.
        accuracy, photos = clf.meta.accuracy_of(clf.runtime.name)
        lines = [
            f"**Checkpoint** `{clf.directory.name}` · MobileNetV2 alpha {clf.meta.alpha} at {clf.image_size} px",
            f"**Classes** ({len(clf.labels)}): {', '.join(clf.labels)}",
            f"**Test accuracy** {accuracy:.1%} on {photos} held-out photos",
            f"**Served as** {clf.runtime.name} (`{clf.runtime.path.name}`, "
            f"{clf.runtime.path.stat().st_size / 1e6:.1f} MB)"
            + (", averaged with the mirror image" if clf.meta.test_time_flip else ""),
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

    # What a visitor gets: whatever they must fix is raised as gradio.Error, which the page shows.

    def classify(self, photo, chosen):
        """(label probabilities, Grad-CAM overlay, model card) of an uploaded ``photo`` (a path)
        by the checkpoint called ``chosen``."""
        import gradio as gr

        if photo is None:
            raise gr.Error("Upload a photo, take one with the webcam or paste one first.")
        served = self._for_visitor(chosen)
        try:
            probabilities, overlay = served.answer(photo, name=UPLOAD_NAME)
        except ImageError as error:
            raise gr.Error(str(error)) from None
        return probabilities, overlay, served.card()

    def card(self, chosen):
        """The model card of the checkpoint called ``chosen``."""
        return self._for_visitor(chosen).card()

    def _for_visitor(self, chosen):
        import gradio as gr

        try:
            return self.get(chosen)
        except CheckpointError as error:
            raise gr.Error(f"That checkpoint cannot be used: {error}") from None


# ---- the teaching tabs: what each control redraws ----------------------------------------
# Gradio hands a slider's value over as a float; the figures count in whole numbers.

def notebook_link(name):
    """A link that downloads the week's notebook ``name`` from this server (see :func:`launch`)."""
    return f"[Open this week's notebook](/gradio_api/file={paths.REPO / 'weeks' / name})"


def conv_cost_plot(kernel_size, c_in, c_out, size):
    """Week 1: :func:`lessons.figures.conv_cost.conv_cost_figure`."""
    from lessons.figures import conv_cost, output

    return output.closed(conv_cost.conv_cost_figure(int(kernel_size), int(c_in), int(c_out), int(size)))


def spiral_plot(dimensions, activation):
    """Week 2: :func:`lessons.figures.manifold.recovery_figure`."""
    from lessons.figures import manifold, output

    return output.closed(manifold.recovery_figure(int(dimensions), activation))


def block_shapes(image_size):
    """Week 2: (the table of every block's shapes, the memory each needs) at ``image_size`` px."""
    import pandas as pd

    from lessons import architecture, block_memory
    from lessons.figures import output
    from lessons.figures.blocks import memory_figure

    base = shared_backbone(int(image_size))
    return (pd.DataFrame(architecture.shapes_table(base)),
            output.closed(memory_figure(block_memory.block_memory(base), int(image_size))))


def field_plot(layer, photo):
    """Week 3: :func:`lessons.figures.receptive_field.field_figure` of ``layer``'s centre unit."""
    from lessons.figures import output, receptive_field

    return output.closed(receptive_field.field_figure(photo, layer))


@functools.lru_cache(maxsize=4)
def shared_backbone(image_size):
    """MobileNetV2's base at ``image_size``, built once per size (the week-3 tab's is reused)."""
    from lessons import mobilenetv2, receptive_field

    if image_size == receptive_field.IMAGE_SIZE:
        return receptive_field.field_backbone().base
    return mobilenetv2.build_backbone(image_size)


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
