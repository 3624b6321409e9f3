"""The MobileNetV2 Workbook's teaching site (Gradio).

    python app.py                                  # the reference checkpoint
    python app.py --checkpoint checkpoints/mine    # or WORKBOOK_CHECKPOINT=checkpoints/mine

Upload a photo of waste to a fine-tuned MobileNetV2 (the reference checkpoint or your own),
see its top classes and where it looked (Grad-CAM), and play with each week's idea in its
own tab. The checkpoint is loaded once and warmed up; requests are served by its fastest
format (TFLite INT8 when exported).
"""
import argparse
import functools
import os
import sys
from pathlib import Path

import gradio as gr

from lessons import checkpoint, gradcam, images, latency, paths
from lessons.inference import Classifier

CHECKPOINT_ENV = "WORKBOOK_CHECKPOINT"
MAX_FILE_SIZE = "15mb"


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


class Served:
    """Checkpoints loaded once each: the fast runtime for answers, the Keras model for Grad-CAM."""

    def __init__(self):
        self.loaded = {}

    def get(self, directory):
        key = str(Path(directory).resolve())
        if key not in self.loaded:
            fast = Classifier.load(directory, runtime="auto")
            keras_clf = fast if fast.runtime.name == "keras" else Classifier.load(directory, runtime="keras")
            explainer = gradcam.GradCam(keras_clf.runtime.model)
            self.loaded[key] = (fast, explainer, warm_up(fast, explainer))
        return self.loaded[key]


def warm_up(fast, explainer, calls=20):
    """Trace the graphs once, then time the served path: the model card's latency."""
    photo = fast.pixels(sorted(paths.SAMPLE_DATA.glob("*/*.jpg"))[0])
    explainer(photo)
    return latency.measure({"served": fast}, photo, calls=calls, warmup=1)["served"].median


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
    cam, _ = explainer(pixels, fast.labels.index(ranked[0].label))
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
                label = gr.Label(num_top_classes=3, label="Top classes", elem_id="top-classes")
                overlay = gr.Image(type="pil", label="Where it looked (Grad-CAM)", interactive=False,
                                   elem_id="gradcam")
        card = gr.Markdown(model_card(*_card_args(served, default)))
        examples = [[str(sorted(d.glob("*.jpg"))[0])] for d in sorted(paths.SAMPLE_DATA.iterdir()) if d.is_dir()]
        gr.Examples(examples, inputs=[photo], label="Held-out sample photos (one a class)")

        def classify_photo(photo, checkpoint_dir):
            return classify(photo, checkpoint_dir, served)

        def show_card(checkpoint_dir):
            return model_card(*_card_args(served, checkpoint_dir))

        button.click(classify_photo, [photo, choice], [label, overlay, card], api_name="classify")
        choice.change(show_card, choice, card, api_name=False)


def _card_args(served, choice):
    try:
        fast, _, latency = served.get(choice)
    except checkpoint.CheckpointError as error:
        raise gr.Error(f"That checkpoint cannot be used: {error}") from None
    return fast, latency


def notebook_link(name):
    """A link that downloads the week's notebook from this server (see ``allowed_paths``)."""
    return f"[Open this week's notebook](/gradio_api/file={paths.REPO / 'weeks' / name})"


def figure_only(drawn):
    """The Figure of a widget function that returns (Figure, data)."""
    import matplotlib.pyplot as plt

    figure = drawn[0] if isinstance(drawn, tuple) else drawn
    plt.close(figure)  # Gradio renders it; keep pyplot from holding every figure ever drawn
    return figure


def conv_cost_tab():
    from widgets.conv_cost import conv_cost_figure

    with gr.Tab("Week 1 · Convolution cost"):
        gr.Markdown("A standard convolution looks at space and mixes channels in one step. MobileNetV2 splits it "
                    "into a depthwise convolution (one small filter per channel) and a 1×1 pointwise one: the "
                    "pair costs 1/C_out + 1/K² of the original. Move the sliders and watch the bars. "
                    + notebook_link("week1_depthwise_separable.ipynb"))
        sliders = [gr.Slider(1, 7, 3, step=1, label="kernel K"), gr.Slider(1, 1280, 64, step=1, label="C_in"),
                   gr.Slider(1, 1280, 128, step=1, label="C_out"), gr.Slider(1, 224, 56, step=1, label="map size")]
        plot = gr.Plot(figure_only(conv_cost_figure(3, 64, 128, 56)))

        def conv_cost(kernel_size, c_in, c_out, size):
            return figure_only(conv_cost_figure(int(kernel_size), int(c_in), int(c_out), int(size)))

        for slider in sliders:
            slider.release(conv_cost, sliders, plot, api_name=False)


def spiral_tab():
    from widgets.manifold import LABELS, recovery_figure

    with gr.Tab("Week 2 · ReLU and the spiral"):
        gr.Markdown("A 2-D spiral is lifted into n dimensions by a random matrix, passed through an activation and "
                    "recovered. With few dimensions ReLU destroys the spiral: information is lost for good. That is "
                    "why MobileNetV2's bottleneck (the narrow projection) has no ReLU: it is *linear*. "
                    + notebook_link("week2_inverted_residuals.ipynb"))
        n = gr.Slider(2, 30, 3, step=1, label="dimensions n")
        activation = gr.Radio([(label, name) for name, label in LABELS.items()], value="relu", label="activation")
        plot = gr.Plot(figure_only(recovery_figure(3, "relu")))

        def spiral(dimensions, name):
            return figure_only(recovery_figure(int(dimensions), name))

        n.release(spiral, [n, activation], plot, api_name=False)
        activation.change(spiral, [n, activation], plot, api_name=False)


def block_shapes_tab():
    with gr.Tab("Week 2 · Block by block"):
        gr.Markdown("Each bottleneck block expands its narrow input t times, filters it depthwise and projects it "
                    "back down: narrow → wide → narrow, the inverse of ResNet's. The table reads every block of the "
                    "real Keras model at the chosen image size; the plot shows the memory each needs. "
                    + notebook_link("week2_inverted_residuals.ipynb"))
        size = gr.Slider(96, 448, 224, step=32, label="image size (px)")
        table = gr.Dataframe(block_rows(224), label="MobileNetV2 blocks")
        plot = gr.Plot(block_memory_plot(224))

        def shapes(image_size):
            return block_rows(int(image_size)), block_memory_plot(int(image_size))

        size.release(shapes, size, [table, plot], api_name=False)


@functools.lru_cache(maxsize=4)
def _base(image_size):
    from lessons import model as mv2

    return mv2.build_backbone(image_size, weights="none")  # shapes need no trained weights


def block_rows(image_size):
    import pandas as pd

    from lessons import blocks

    base = _base(image_size)
    rows = []
    for k in blocks.block_numbers(base):
        spec = blocks.read_block(base, k)
        expanded, depthwise, output = blocks.shapes_through_block(*spec.input_shape, spec.t, spec.c, spec.s)
        rows.append({"block": k, "t": spec.t, "c": spec.c, "s": spec.s, "input": "×".join(map(str, spec.input_shape)),
                     "expanded": "×".join(map(str, expanded)), "output": "×".join(map(str, output)),
                     "residual": "yes" if spec.residual else "no"})
    return pd.DataFrame(rows)


def block_memory_plot(image_size):
    from lessons import blocks

    return figure_only(blocks.memory_figure(blocks.block_memory(_base(image_size)), image_size))


def receptive_field_tab():
    from widgets.receptive_field import DEFAULT_LAYER, field_figure, layer_choices, sample_photos

    with gr.Tab("Week 3 · Receptive field"):
        gr.Markdown("Every unit of a layer sees a window of the photo: its theoretical receptive field (the box). "
                    "The gradient shows what it *effectively* looks at (the heatmap): a centre-weighted region "
                    "well inside the box. Pick a layer and a photo. " + notebook_link("week3_receptive_fields.ipynb"))
        photos = sample_photos()
        with gr.Row():
            layer = gr.Dropdown(layer_choices(), value=DEFAULT_LAYER, label="layer")
            photo = gr.Dropdown([(p.parent.name, str(p)) for p in photos], value=str(photos[0]), label="photo")
        plot = gr.Plot()

        def field(layer_name, photo_path):
            return figure_only(field_figure(photo_path, layer_name))

        for control in (layer, photo):
            control.change(field, [layer, photo], plot, api_name=False)
        return field, [layer, photo], plot


def build(default_checkpoint):
    served = Served()
    served.get(default_checkpoint)  # fail at start, naming the file, not at the first request
    with gr.Blocks(title="MobileNetV2 Workbook") as demo:
        gr.Markdown("# MobileNetV2 Workbook\nA fine-tuned MobileNetV2 sorting waste photos, and the ideas "
                    "behind it, week by week.")
        classifier_tab(served, default_checkpoint)
        conv_cost_tab()
        spiral_tab()
        block_shapes_tab()
        field, inputs, plot = receptive_field_tab()
        demo.load(field, inputs, plot, api_name=False)  # the first picture, drawn when a visitor arrives
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
                show_error=True, allowed_paths=[str(paths.REPO / "weeks")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
