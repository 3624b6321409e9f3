"""The MobileNetV2 Workbook's teaching site (Gradio).

    python app.py                                  # the reference checkpoint
    python app.py --checkpoint checkpoints/mine    # or WORKBOOK_CHECKPOINT=checkpoints/mine

Upload a photo of waste to a fine-tuned MobileNetV2 (the reference checkpoint or your own),
see its top classes and where it looked (Grad-CAM), and play with each week's idea in its
own tab. The checkpoint is loaded once and warmed up; requests are served by its fastest
format (TFLite INT8 when exported).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import gradio as gr

from lessons import checkpoint, gradcam, images, paths
from lessons.inference import Classifier

CHECKPOINT_ENV = "WORKBOOK_CHECKPOINT"
MAX_FILE_SIZE = "15mb"

from gradio.events import Dependency

class PhotoInput(gr.Image):
    """An image input that hands the raw upload to ``lessons.images``.

    Gradio's own image preprocessing decodes the upload first and fails with a generic
    error on a file that is not an image, truncated or a decompression bomb; the course's
    loader says what is wrong instead (and applies EXIF rotation, CMYK, 16-bit ...).
    """

    def get_block_name(self):
        return "image"  # drawn in the browser by Gradio's own image component

    def preprocess(self, payload):
        if payload is None:
            return None
        if payload.url and payload.url.startswith("data:"):  # a pasted or webcam image
            return super().preprocess(payload)
        return payload.path
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component


class Served:
    """Checkpoints loaded once each: the fast runtime for answers, Keras for Grad-CAM."""

    def __init__(self):
        self.loaded = {}

    def get(self, directory):
        key = str(Path(directory).resolve())
        if key not in self.loaded:
            fast = Classifier.load(directory, runtime="auto")
            explainer = fast if fast.runtime.name == "keras" else Classifier.load(directory, runtime="keras")
            self.loaded[key] = (fast, explainer, warm_up(fast, explainer))
        return self.loaded[key]


def warm_up(fast, explainer, calls=20):
    """Trace the graphs once, then time the served path: the model card's latency."""
    photo = fast.pixels(sorted(paths.SAMPLE_DATA.glob("*/*.jpg"))[0])
    gradcam.heatmap(explainer.runtime.model, photo)
    fast.predict_pixels(photo[None])
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        fast.predict_pixels(photo[None])
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def available_checkpoints(extra=None):
    """Checkpoint directories under checkpoints/ (and ``extra``), as dropdown choices."""
    found = sorted(p for p in paths.CHECKPOINTS.glob("*") if (p / checkpoint.META_FILE).is_file())
    if extra and Path(extra).resolve() not in [p.resolve() for p in found]:
        found.insert(0, Path(extra))
    return [(p.name, str(p)) for p in found]


def model_card(fast, latency):
    meta = fast.meta
    served = meta.get("exports", {}).get(fast.runtime.name, {})
    accuracy = served.get("test_accuracy", meta.get("test", {}).get("accuracy"))
    size = fast.runtime.path.stat().st_size / 1e6
    lines = [
        f"**Checkpoint** `{fast.directory.name}` · MobileNetV2 alpha {meta.get('alpha')} at {fast.image_size} px",
        f"**Classes** ({len(fast.labels)}): {', '.join(fast.labels)}",
        f"**Test accuracy** {accuracy:.1%} on {meta['test']['photos']} held-out photos" if accuracy is not None
        else "**Test accuracy** not recorded",
        f"**Served as** {fast.runtime.name} (`{fast.runtime.path.name}`, {size:.1f} MB)"
        + (", averaged with the mirror image" if meta.get("test_time_flip") else ""),
        f"**Measured latency** {latency * 1e3:.1f} ms a photo on this server (model only, median of 20)",
    ]
    return "\n\n".join(lines)


def classify(photo, choice, served, top_k=3):
    """(label probabilities, Grad-CAM overlay, model card) for one uploaded photo."""
    if photo is None:
        raise gr.Error("Upload a photo, take one with the webcam or paste one first.")
    try:
        fast, explainer, latency = served.get(choice)
    except checkpoint.CheckpointError as error:
        raise gr.Error(f"That checkpoint cannot be used: {error}") from None
    try:
        pixels = fast.pixels(photo)
    except images.ImageError as error:
        raise gr.Error(str(error).replace(str(photo), "The upload")) from None
    probabilities = fast.predict_pixels(pixels[None])[0]
    ranked = fast.ranked(probabilities, top_k)
    cam, _ = gradcam.heatmap(explainer.runtime.model, pixels, fast.labels.index(ranked[0].label))
    return ({p.label: p.probability for p in ranked}, gradcam.overlay(pixels, cam), model_card(fast, latency))


def classifier_tab(served, default):
    with gr.Tab("Classify a photo"):
        gr.Markdown("Upload a photo of a piece of waste (or use the webcam, or paste one). The network answers "
                    "with its three likeliest classes; the overlay shows which regions argued for the first one "
                    "(Grad-CAM). Photos are not stored.")
        with gr.Row():
            with gr.Column():
                photo = PhotoInput(sources=["upload", "webcam", "clipboard"], type="filepath", label="Photo")
                choice = gr.Dropdown(available_checkpoints(default), value=str(default), label="Checkpoint")
                button = gr.Button("Classify", variant="primary")
            with gr.Column():
                label = gr.Label(num_top_classes=3, label="Top classes")
                overlay = gr.Image(type="pil", label="Where it looked (Grad-CAM)", interactive=False)
        card = gr.Markdown(model_card(*_card_args(served, default)))
        examples = [[str(sorted(d.glob("*.jpg"))[0])] for d in sorted(paths.SAMPLE_DATA.iterdir()) if d.is_dir()]
        gr.Examples(examples, inputs=[photo], label="Held-out sample photos (one a class)")
        button.click(lambda p, c: classify(p, c, served), [photo, choice], [label, overlay, card], api_name="classify")
        choice.change(lambda c: model_card(*_card_args(served, c)), choice, card, api_name=False)


def _card_args(served, choice):
    try:
        fast, _, latency = served.get(choice)
    except checkpoint.CheckpointError as error:
        raise gr.Error(f"That checkpoint cannot be used: {error}") from None
    return fast, latency


def build(default_checkpoint):
    served = Served()
    served.get(default_checkpoint)  # fail at start, naming the file, not at the first request
    with gr.Blocks(title="MobileNetV2 Workbook") as demo:
        gr.Markdown("# MobileNetV2 Workbook\nA fine-tuned MobileNetV2 sorting waste photos, and the ideas "
                    "behind it, week by week.")
        classifier_tab(served, default_checkpoint)
    return demo


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path,
                        default=os.environ.get(CHECKPOINT_ENV, paths.REFERENCE_CHECKPOINT),
                        help=f"checkpoint directory (default: ${CHECKPOINT_ENV} or the reference checkpoint)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--share", action="store_true", help="also serve through a public gradio.live link")
    args = parser.parse_args(argv)
    try:
        demo = build(args.checkpoint)
    except checkpoint.CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # Two requests at a time on a 2-core machine: more would only queue inside TensorFlow.
    demo.queue(default_concurrency_limit=2)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, max_file_size=MAX_FILE_SIZE,
                show_error=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())