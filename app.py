"""The MobileNetV2 Workbook's teaching site (Gradio): its layout.

    python app.py                                  # the reference checkpoint
    python app.py --checkpoint checkpoints/mine    # or WORKBOOK_CHECKPOINT=checkpoints/mine
    gradio app.py                                  # the same, reloading when a file changes

Upload a photo of waste to a fine-tuned MobileNetV2 (the reference checkpoint or your own),
see its top classes and where it looked (Grad-CAM), and play with each week's idea in its
own tab. What the site serves (checkpoints loaded once and warmed up, the model card, the
launch settings) is :mod:`lessons.serving`; this file is the page, with the module-level
``demo`` that Gradio's reload mode and Hugging Face Spaces look for.
"""
import sys

import gradio as gr

from lessons import manifold, paths, quiet, serving
from lessons import receptive_field as rf
from lessons.checkpoint import CheckpointError


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


def classifier_tab(checkpoints):
    with gr.Tab("Classify a photo"):
        gr.Markdown("Upload a photo of a piece of waste (or use the webcam, or paste one). The network answers "
                    "with its three likeliest classes; the overlay shows which regions argued for the first one "
                    "(Grad-CAM). Photos are not stored.")
        with gr.Row():
            with gr.Column():
                photo = PhotoInput(sources=["upload", "webcam", "clipboard"], type="filepath", label="Photo")
                choice = gr.Dropdown(checkpoints.names(), value=checkpoints.default, label="Checkpoint")
                button = gr.Button("Classify", variant="primary")
            with gr.Column():
                label = gr.Label(num_top_classes=3, label="Top classes", elem_id="top-classes")
                overlay = gr.Image(type="pil", label="Where it looked (Grad-CAM)", interactive=False,
                                   elem_id="gradcam")
        # Loads the default checkpoint now: a broken one stops the site at start, naming the file.
        card = gr.Markdown(checkpoints.get(checkpoints.default).card())
        gr.Examples([[str(p)] for p in paths.sample_photo_per_class()], inputs=[photo],
                    label="Held-out sample photos (one a class)")
        button.click(checkpoints.classify, [photo, choice], [label, overlay, card], api_name="classify")
        choice.change(checkpoints.card, choice, card, api_name=False)


def conv_cost_tab():
    with gr.Tab("Week 1 · Convolution cost"):
        gr.Markdown("A standard convolution looks at space and mixes channels in one step. MobileNetV2 splits it "
                    "into a depthwise convolution (one small filter per channel) and a 1×1 pointwise one: the "
                    "pair costs 1/C_out + 1/K² of the original. Move the sliders and watch the bars. "
                    + serving.notebook_link("week1_depthwise_separable.ipynb"))
        sliders = [gr.Slider(1, 7, 3, step=1, label="kernel K"), gr.Slider(1, 1280, 64, step=1, label="C_in"),
                   gr.Slider(1, 1280, 128, step=1, label="C_out"), gr.Slider(1, 224, 56, step=1, label="map size")]
        plot = gr.Plot(serving.conv_cost_plot(*(slider.value for slider in sliders)))
        for slider in sliders:
            slider.release(serving.conv_cost_plot, sliders, plot, api_name=False)


def spiral_tab():
    with gr.Tab("Week 2 · ReLU and the spiral"):
        gr.Markdown("A 2-D spiral is lifted into n dimensions by a random matrix, passed through an activation and "
                    "recovered. With few dimensions ReLU destroys the spiral: information is lost for good. That is "
                    "why MobileNetV2's bottleneck (the narrow projection) has no ReLU: it is *linear*. "
                    + serving.notebook_link("week2_inverted_residuals.ipynb"))
        n = gr.Slider(2, 30, 3, step=1, label="dimensions n")
        activation = gr.Radio([(label, name) for name, label in manifold.LABELS.items()], value="relu",
                              label="activation")
        plot = gr.Plot(serving.spiral_plot(n.value, activation.value))
        n.release(serving.spiral_plot, [n, activation], plot, api_name=False)
        activation.change(serving.spiral_plot, [n, activation], plot, api_name=False)


def block_shapes_tab():
    with gr.Tab("Week 2 · Block by block"):
        gr.Markdown("Each bottleneck block expands its narrow input t times, filters it depthwise and projects it "
                    "back down: narrow → wide → narrow, the inverse of ResNet's. The table reads every block of the "
                    "real Keras model at the chosen image size; the plot shows the memory each needs. "
                    + serving.notebook_link("week2_inverted_residuals.ipynb"))
        size = gr.Slider(96, 448, 224, step=32, label="image size (px)")
        rows, memory = serving.block_shapes(size.value)
        table = gr.Dataframe(rows, label="MobileNetV2 blocks")
        plot = gr.Plot(memory)
        size.release(serving.block_shapes, size, [table, plot], api_name=False)


def receptive_field_tab():
    with gr.Tab("Week 3 · Receptive field"):
        gr.Markdown("Every unit of a layer sees a window of the photo: its theoretical receptive field (the box). "
                    "The gradient shows what it *effectively* looks at (the heatmap): a centre-weighted region "
                    "well inside the box. Pick a layer and a photo. "
                    + serving.notebook_link("week3_receptive_fields.ipynb"))
        photos = paths.sample_photo_per_class()
        with gr.Row():
            layer = gr.Dropdown(rf.layer_choices(), value=rf.DEFAULT_LAYER, label="layer")
            photo = gr.Dropdown([(p.parent.name, str(p)) for p in photos], value=str(photos[0]), label="photo")
        plot = gr.Plot()
        for control in (layer, photo):
            control.change(serving.field_plot, [layer, photo], plot, api_name=False)
        return [layer, photo], plot


def build(default_checkpoint):
    """The whole site, starting on ``default_checkpoint`` (loaded now: a broken one raises
    :class:`CheckpointError` here, naming the file, not at the first request)."""
    checkpoints = serving.Checkpoints(default_checkpoint)
    with gr.Blocks(title="MobileNetV2 Workbook") as site:
        gr.Markdown("# MobileNetV2 Workbook\nA fine-tuned MobileNetV2 sorting waste photos, and the ideas "
                    "behind it, week by week.")
        classifier_tab(checkpoints)
        conv_cost_tab()
        spiral_tab()
        block_shapes_tab()
        inputs, plot = receptive_field_tab()
        # The receptive field's first picture is drawn when a visitor arrives, not at start.
        site.load(serving.field_plot, inputs, plot, api_name=False)
    return site


quiet.silence_native_stderr()  # TensorFlow's C++ notices would flood the server's log
SETTINGS = serving.app_settings(sys.argv[1:] if __name__ == "__main__" else ())
try:
    demo = build(SETTINGS.checkpoint)
except CheckpointError as error:
    if __name__ != "__main__":
        raise
    print(f"error: {error}", file=sys.stderr)
    sys.exit(2)

if __name__ == "__main__":
    serving.launch(demo, SETTINGS)
