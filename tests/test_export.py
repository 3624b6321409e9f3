"""lessons.export: what a plain ReLU would need where MobileNetV2 has ReLU6."""
import numpy as np
import pytest

from lessons import export
from lessons import mobilenetv2


@pytest.fixture(scope="module")
def classifier():
    import keras

    keras.utils.set_random_seed(0)
    return mobilenetv2.build_classifier(3, image_size=32, weights="none")


def test_relu6_input_peaks_has_a_column_per_relu6_of_the_base(classifier):
    photos = np.random.default_rng(0).integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    names, peaks = export.relu6_input_peaks(classifier, photos, batch_size=2)
    assert len(names) == 35 and names[0] == "Conv1_relu" and names[-1] == "out_relu"  # the stem, 33 in blocks, the top
    assert peaks.shape == (5, 35)


def test_relu6_input_peaks_are_the_largest_values_before_the_clip(classifier):
    import keras

    photos = np.random.default_rng(1).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    names, peaks = export.relu6_input_peaks(classifier, photos)
    base = mobilenetv2.base_of(classifier)
    before_clip = keras.Model(base.input, base.get_layer("bn_Conv1").output)  # what Conv1_relu receives
    scaled = photos.astype(np.float32) / 127.5 - 1
    expected = np.asarray(before_clip(scaled, training=False)).max(axis=(1, 2, 3))
    np.testing.assert_allclose(peaks[:, names.index("Conv1_relu")], expected, rtol=1e-5)
