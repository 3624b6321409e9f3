"""Loading checkpoints safely, and predicting from every kind of input."""
import json

import keras
import numpy as np
import pytest
from PIL import Image

from lessons import checkpoint, data, images, pipeline
from lessons.inference import Predictor, CheckpointError
from lessons.paths import SAMPLE_DATA

GLASS = sorted(SAMPLE_DATA.glob("glass/*.jpg"))


@pytest.fixture(scope="module")
def small(small_checkpoint):
    return Predictor.load(small_checkpoint, runtime="keras")


def test_top_k_from_a_path_pil_image_array_and_bytes(small):
    expected = small.top_k(GLASS[0], k=3)
    assert len(expected) == 3 and expected[0].probability >= expected[1].probability >= expected[2].probability
    assert {p.label for p in expected} <= set(small.labels)
    for source in (Image.open(GLASS[0]), np.asarray(Image.open(GLASS[0])), GLASS[0].read_bytes()):
        got = small.top_k(source, k=3)
        assert [p.label for p in got] == [p.label for p in expected]
        np.testing.assert_allclose([p.probability for p in got], [p.probability for p in expected], atol=1e-5)


def test_a_batch_gives_the_same_answers_as_one_by_one(small):
    batch = small.top_k_batch(GLASS[:4], k=2)
    for path, answer in zip(GLASS[:4], batch):
        single = small.top_k(path, k=2)
        assert [p.label for p in single] == [p.label for p in answer]
        np.testing.assert_allclose([p.probability for p in single], [p.probability for p in answer], atol=1e-5)


def test_probabilities_sum_to_one(small):
    probabilities = small.probabilities(GLASS[:3])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_a_bad_photo_is_an_image_error_and_the_next_one_works(small):
    with pytest.raises(images.ImageError, match="not an image"):
        small.top_k(b"GIF89a but not really")
    probabilities = small.probabilities([GLASS[1]])[0]
    assert [(p.label, p.probability) for p in small.top_k(GLASS[1], k=1)] == [
        (small.labels[probabilities.argmax()], pytest.approx(probabilities.max(), abs=1e-5))]


def test_labels_that_disagree_with_the_model_fail_at_load(small_copy):
    labels_file = small_copy / checkpoint.LABELS_FILE
    labels_file.write_text(json.dumps(json.loads(labels_file.read_text())[:7]))
    with pytest.raises(CheckpointError, match="outputs 10 classes but .*labels.json lists 7"):
        Predictor.load(small_copy, runtime="keras")


@pytest.mark.parametrize("broken, expected", [
    ("no_dir", "does not exist"),
    ("no_labels", "labels.json is missing"),
    ("bad_meta", "meta.json is not valid JSON"),
    ("no_model", "model.keras is missing"),
    ("garbage_model", "could not be loaded as a Keras model"),
    ("no_tflite", "model_int8.tflite is missing"),
])
def test_a_broken_checkpoint_names_the_file(small_copy, broken, expected):
    target, runtime = small_copy, "keras"
    if broken == "no_dir":
        target = small_copy / "elsewhere"
    elif broken == "no_labels":
        (small_copy / checkpoint.LABELS_FILE).unlink()
    elif broken == "bad_meta":
        (small_copy / checkpoint.META_FILE).write_text("{ half")
    elif broken == "no_model":
        (small_copy / checkpoint.MODEL_FILE).unlink()
    elif broken == "garbage_model":
        (small_copy / checkpoint.MODEL_FILE).write_bytes(b"PK\3\4 not a zip")
    else:
        runtime = "int8"
    with pytest.raises(CheckpointError, match=expected):
        Predictor.load(target, runtime=runtime)


def test_safe_mode_refuses_a_checkpoint_that_would_run_code(small_copy):
    inputs = keras.Input((8, 8, 3))
    sneaky = keras.layers.Lambda(lambda x: x * 2)(inputs)  # arbitrary Python, serialised as bytecode
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(sneaky))
    keras.Model(inputs, outputs).save(small_copy / checkpoint.MODEL_FILE)
    with pytest.raises(CheckpointError, match="could not be loaded"):
        Predictor.load(small_copy, runtime="keras")


def test_the_reference_checkpoint_is_right_on_its_held_out_sample(reference):
    """data/sample holds test photos of the reference checkpoint: never trained on."""
    split = checkpoint.read_split(reference)
    sample = data.scan(SAMPLE_DATA, progress=False)
    assert set(sample.files) <= set(split.test)
    clf = Predictor.load(reference, runtime="keras")
    predicted = clf.predict_pixels(pipeline.load_images(sample.paths(), clf.image_size, progress=False)).argmax(axis=1)
    expected = [clf.labels.index(sample.class_names[i]) for i in sample.labels]
    assert np.mean(predicted == expected) >= 0.85


def test_int8_agrees_with_the_float_model(reference):
    keras_clf = Predictor.load(reference, runtime="keras")
    int8_clf = Predictor.load(reference, runtime="int8")
    sample = data.scan(SAMPLE_DATA, progress=False)
    pixels = pipeline.load_images(sample.paths(), keras_clf.image_size, progress=False)
    float_top = keras_clf.predict_pixels(pixels).argmax(axis=1)
    int8_top = int8_clf.predict_pixels(pixels).argmax(axis=1)
    assert np.mean(float_top == int8_top) >= 0.95
