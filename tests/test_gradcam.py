"""Grad-CAM: the maths, and that it points at the object."""
import numpy as np
import pytest
from lessons import gradcam, images, mobilenetv2
from lessons import receptive_field as rf
from lessons.figures.gradcam import maps_figure
from lessons.inference import Predictor
from lessons.paths import SAMPLE_DATA


@pytest.fixture(scope="module")
def reference_model(reference):
    return Predictor.load(reference, runtime="keras")


def test_with_a_linear_head_grad_cam_is_the_class_activation_map(small_checkpoint):
    clf = Predictor.load(small_checkpoint, runtime="keras")
    model = clf.runtime.model
    pixels = clf.pixels(sorted(SAMPLE_DATA.glob("metal/*.jpg"))[0])
    cam, index = gradcam.GradCam(model)(pixels)
    features = mobilenetv2.features_model(model)  # pooled; the map itself is the base's output
    fmap = mobilenetv2.base_of(model)(model.get_layer("preprocess")(pixels[None].astype("float32"))).numpy()[0]
    kernel = model.get_layer(mobilenetv2.OUTPUT_NAME).kernel.numpy()
    expected = np.maximum(fmap @ kernel[:, index], 0)
    np.testing.assert_allclose(cam, expected / expected.max(), atol=1e-4)
    assert index == int(np.argmax(model.predict(pixels[None], verbose=0)))
    assert features.output.shape[-1] == kernel.shape[0]


def test_it_points_at_the_object(reference_model):
    """A photo shrunk into one corner of an empty grey canvas: the map must light up there."""
    photo = images.load_pixels(sorted(SAMPLE_DATA.glob("shoes/*.jpg"))[0], 224)
    canvas = rf.on_canvas(photo, 112, corner=(112, 112))  # bottom-right quadrant
    cam, _ = gradcam.GradCam(reference_model.runtime.model)(canvas)
    half = cam.shape[0] // 2
    assert cam[half:, half:].sum() > 0.5 * cam.sum()


def test_the_overlay_keeps_the_photo_size(reference_model):
    pixels = reference_model.pixels(sorted(SAMPLE_DATA.glob("glass/*.jpg"))[0])
    cam, _ = gradcam.GradCam(reference_model.runtime.model)(pixels)
    picture = gradcam.overlay(pixels, cam)
    assert picture.size == (224, 224) and picture.mode == "RGB"
    assert 0 <= cam.min() and cam.max() == pytest.approx(1.0)


def test_the_maps_figure_shows_each_photo_as_cells_and_upsampled():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    photos = [np.full((64, 64, 3), value, np.uint8) for value in (0, 128, 255)]
    cams = [np.eye(7), np.ones((7, 7)), np.zeros((7, 7))]
    fig = maps_figure(photos, cams, ["a", "b", "c"])
    axes = np.array(fig.axes).reshape(2, 3)
    assert [ax.get_title() for ax in axes[0]] == ["a", "b", "c"]
    assert axes[0, 0].get_ylabel() == "as computed: 7×7 cells"
    cells = axes[0, 0].get_images()[1]  # the map, over the photo
    assert cells.get_array().shape == (7, 7) and cells.get_interpolation() == "nearest"
    assert cells.get_extent() == [-0.5, 63.5, 63.5, -0.5]
    assert axes[1, 2].get_images()[0].get_array().shape == (64, 64, 3)  # the overlay, at the photo's size
    plt.close(fig)
