"""The real MobileNetV2: weights settings, the head, freezing block by block."""
import re

import keras
import numpy as np
import pytest

from lessons import checkpoint, paths
from lessons import mobilenetv2
from lessons.mobilenetv2 import WeightsError


@pytest.fixture(scope="module")
def classifier():
    return mobilenetv2.build_classifier(10, image_size=96, weights="none")


def test_it_is_the_real_keras_mobilenetv2(classifier):
    base = mobilenetv2.base_of(classifier)
    assert len(base.layers) == 154  # with its input layer
    assert base.count_params() == 2_257_984
    reference = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights=None)
    assert [layer.name for layer in base.layers[1:]] == [layer.name for layer in reference.layers[1:]]


def test_the_head_and_the_preprocessing(classifier):
    assert classifier.output.shape[-1] == 10
    assert classifier.count_params() == 2_257_984 + 1280 * 10 + 10
    # Rescaling inside the model matches keras' own preprocess_input on raw pixels.
    pixels = np.random.default_rng(0).uniform(0, 255, (2, 96, 96, 3)).astype("float32")
    ours = classifier.get_layer("preprocess")(pixels)
    np.testing.assert_allclose(ours, keras.applications.mobilenet_v2.preprocess_input(pixels.copy()), atol=1e-6)


@pytest.mark.parametrize("block", ["block_13", 11, "block_16", "top"])
def test_freezing_by_block_matches_keras_counts(classifier, block):
    mobilenetv2.set_trainable_from(classifier, block)
    table = mobilenetv2.block_table(classifier)
    keras_trainable = sum(int(np.prod(w.shape)) for w in classifier.trainable_weights)
    keras_frozen = sum(int(np.prod(w.shape)) for w in classifier.non_trainable_weights)
    assert sum(r["trainable"] for r in table) == keras_trainable
    assert sum(r["frozen"] for r in table) == keras_frozen
    first = mobilenetv2.BLOCKS.index(mobilenetv2.parse_block(block))
    for part, row in zip(mobilenetv2.BLOCKS, table):
        assert (row["trainable"] > 0) == (mobilenetv2.BLOCKS.index(part) >= first), row


def test_the_cut_falls_on_a_block_boundary(classifier):
    index, name = mobilenetv2.set_trainable_from(classifier, "block_13")
    assert name == "block_13_expand"
    assert not mobilenetv2.base_of(classifier).layers[index - 1].trainable
    # "fine_tune_at = 100" from the TensorFlow tutorial would cut inside block 11:
    assert mobilenetv2.base_of(classifier).layers[100].name.startswith("block_11_")
    assert mobilenetv2.base_of(classifier).layers[100].name != mobilenetv2.first_layer_of(classifier, 11)[1]


def test_batchnorm_stays_frozen_and_in_inference_mode(classifier):
    mobilenetv2.set_trainable_from(classifier, "stem")
    base = mobilenetv2.base_of(classifier)
    assert not any(layer.trainable for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization))
    assert all(layer.trainable for layer in base.layers if isinstance(layer, keras.layers.Conv2D))
    # Even called in training mode, the base gives inference-mode outputs: BN uses its moving statistics.
    x = np.random.default_rng(1).uniform(0, 255, (4, 96, 96, 3)).astype("float32")
    np.testing.assert_allclose(classifier(x, training=True).numpy().sum(axis=1), 1, atol=1e-5)
    features = mobilenetv2.features_model(classifier)
    np.testing.assert_allclose(features(x, training=True), features(x, training=False), atol=1e-5)


def test_unfreezing_then_freezing_again_is_exact(classifier):
    mobilenetv2.set_trainable_from(classifier, 5)
    mobilenetv2.set_trainable_from(classifier, None)
    assert not classifier.get_layer("mobilenetv2").trainable_weights
    mobilenetv2.set_trainable_from(classifier, 16)
    assert all(not layer.trainable for layer in mobilenetv2.base_of(classifier).layers
               if mobilenetv2.block_of(layer.name) not in (16, "top"))


def test_unknown_blocks_are_refused():
    with pytest.raises(ValueError, match="Unknown block"):
        mobilenetv2.parse_block("block_17")


def test_a_missing_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        mobilenetv2.build_backbone(96, weights=tmp_path / "nope.weights.h5")
    (tmp_path / "w.h5").write_bytes(b"")
    with pytest.raises(WeightsError, match=r"must end in \.weights\.h5"):
        mobilenetv2.build_backbone(96, weights=tmp_path / "w.h5")


def test_imagenet_without_internet_names_the_setting(monkeypatch):
    from keras.src.applications import mobilenet_v2

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: Temporary failure in name resolution")

    monkeypatch.setattr(mobilenet_v2.file_utils, "get_file", offline)
    with pytest.raises(WeightsError) as error:
        mobilenetv2.build_backbone(96, weights="imagenet")
    assert "--weights" in str(error.value) and mobilenetv2.WEIGHTS_ENV in str(error.value)


def test_weights_setting_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(mobilenetv2.WEIGHTS_ENV, "none")
    assert mobilenetv2.default_weights() == "none" and mobilenetv2.resolve_weights() is None


def test_the_default_is_the_shipped_imagenet_file(monkeypatch):
    monkeypatch.delenv(mobilenetv2.WEIGHTS_ENV, raising=False)
    assert mobilenetv2.default_weights() == str(paths.IMAGENET_WEIGHTS)
    assert mobilenetv2.describe_weights() == f"ImageNet weights ({mobilenetv2.SHIPPED_WEIGHTS})"
    assert "RANDOM" in mobilenetv2.describe_weights("none")


def test_the_shipped_weights_are_the_file_their_source_names():
    source = (paths.IMAGENET_WEIGHTS.parent / "SOURCE.md").read_text()
    recorded = re.search(rf"`{paths.IMAGENET_WEIGHTS.name}` \| `([0-9a-f]{{64}})`", source).group(1)
    assert checkpoint.sha256_of(paths.IMAGENET_WEIGHTS) == recorded


def test_a_truncated_weights_file_is_one_clear_line(tmp_path):
    cut = tmp_path / "cut.weights.h5"
    cut.write_bytes(paths.IMAGENET_WEIGHTS.read_bytes()[:1_000_000])
    with pytest.raises(WeightsError) as error:
        mobilenetv2.build_backbone(96, weights=cut)
    message = str(error.value)
    assert str(cut) in message and "truncated" in message and "\n" not in message
    assert str(mobilenetv2.SHIPPED_WEIGHTS) in message  # what to do instead


def test_pretrained_weights_load_from_a_local_file(imagenet_weights):
    base = mobilenetv2.build_backbone(96, weights=imagenet_weights)
    random = mobilenetv2.build_backbone(96, weights="none")
    assert not np.allclose(base.get_layer("Conv1").kernel, random.get_layer("Conv1").kernel)


@pytest.mark.filterwarnings("ignore:Skipping nested container")
def test_a_weights_file_for_another_width_is_a_clear_error(imagenet_weights):
    with pytest.raises(WeightsError) as error:
        mobilenetv2.build_backbone(96, alpha=0.5, weights=imagenet_weights)
    message = str(error.value)
    assert imagenet_weights in message and "another width" in message and "\n" not in message
