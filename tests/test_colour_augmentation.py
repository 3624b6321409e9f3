"""PCA colour augmentation: the fit is numpy's PCA, the layer adds what AlexNet adds, only in training."""
import keras

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lessons import colour_augmentation as ca, data, paths, pipeline
from lessons.figures.data import preview_figure


@pytest.fixture(scope="module")
def photos():
    dataset = data.scan(paths.SAMPLE_DATA, progress=False)
    return pipeline.load_images(dataset.paths(range(0, 100, 4)), 64, progress=False)


def rotation(seed=0):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    return q


def test_principal_components_of_a_known_covariance():
    q = rotation()
    covariance = q @ np.diag([4.0, 9.0, 1.0]) @ q.T
    values, vectors = ca.principal_components(covariance)
    np.testing.assert_allclose(values, [9.0, 4.0, 1.0])
    # The same directions as numpy's eigendecomposition, sorted by eigenvalue, signs aside.
    np_values, np_vectors = np.linalg.eig(covariance)
    order = np.argsort(np_values)[::-1]
    np.testing.assert_allclose(values, np_values[order].real)
    np.testing.assert_allclose(np.abs(vectors.T @ np_vectors[:, order].real), np.eye(3), atol=1e-10)
    np.testing.assert_allclose(np.abs(vectors), np.abs(q[:, [1, 0, 2]]), atol=1e-10)
    np.testing.assert_allclose(vectors @ np.diag(values) @ vectors.T, covariance, atol=1e-10)
    assert (vectors.sum(axis=0) > 0).all(), "signs chosen so that each component's entries sum to > 0"


def test_pixel_covariance_is_numpys_on_values_in_0_1():
    pixels = np.random.default_rng(1).integers(0, 256, size=(7, 5, 6, 3), dtype=np.uint8)
    expected = np.cov(pixels.reshape(-1, 3) / 255, rowvar=False)
    np.testing.assert_allclose(ca.pixel_covariance(pixels, chunk=3), expected, rtol=1e-10)


def test_photos_vary_most_in_brightness(photos):
    layer = ca.fit(photos)
    first = layer.eigenvectors[:, 0]
    angle = np.degrees(np.arccos(first @ np.ones(3) / np.sqrt(3)))
    assert angle < 15, f"the first colour component of real photos is close to grey, off by {angle:.0f} degrees"
    assert layer.eigenvalues[0] / layer.eigenvalues.sum() > 0.8
    assert len(ca.describe_components(layer)) == 3


def test_identity_at_inference(photos):
    layer = ca.fit(photos, sigma=0.5, seed=0)
    batch = photos.astype("float32")
    np.testing.assert_array_equal(np.asarray(layer(batch)), batch)
    np.testing.assert_array_equal(np.asarray(layer(batch, training=False)), batch)
    assert not np.array_equal(np.asarray(layer(batch, training=True)), batch)


def test_one_shift_per_image_along_the_principal_components():
    q = rotation(2)
    values = np.array([0.1, 0.02, 0.004])
    layer = ca.PCAColourShift(values, q, sigma=0.1, seed=3)
    # Mid-grey images with some texture: far enough from 0 and 255 that nothing is clipped.
    images = 128 + np.random.default_rng(4).uniform(-20, 20, size=(4000, 2, 3, 3)).astype("float32")
    shifts = np.asarray(layer(images, training=True)) - images
    np.testing.assert_allclose(shifts, np.broadcast_to(shifts[:, :1, :1], shifts.shape), atol=1e-3)
    per_image = shifts[:, 0, 0]
    # Coordinates along p1..p3, divided by λi (in 0..255 units): these are the αi ~ N(0, σ).
    alphas = per_image @ q / (values * 255)
    np.testing.assert_allclose(alphas.std(axis=0), 0.1, rtol=0.06)
    np.testing.assert_allclose(alphas.mean(axis=0), 0, atol=0.01)
    assert np.abs(np.corrcoef(alphas, rowvar=False) - np.eye(3)).max() < 0.06, "the αi are independent"
    rms = np.sqrt((per_image ** 2).sum(axis=1).mean())
    assert rms == pytest.approx(layer.typical_shift(), rel=0.05)


def test_grey_photos_are_only_shifted_in_brightness():
    grey = np.random.default_rng(5).integers(30, 220, size=(20, 8, 8, 1)).repeat(3, axis=3).astype("uint8")
    layer = ca.fit(grey, sigma=1.0, seed=0)
    np.testing.assert_allclose(layer.eigenvalues[1:], 0, atol=1e-12)
    shifts = (np.asarray(layer(grey.astype("float32"), training=True)) - grey)[:, 4, 4]
    moved = np.abs(shifts).max(axis=1) > 0
    assert moved.any()
    np.testing.assert_allclose(shifts[:, 0], shifts[:, 1], atol=1e-3)
    np.testing.assert_allclose(shifts[:, 0], shifts[:, 2], atol=1e-3)


def test_clipped_to_the_pixel_range_and_single_images_work():
    layer = ca.PCAColourShift([1.0, 0.5, 0.1], np.eye(3), sigma=1.0, seed=0)
    white, black = np.full((4, 4, 3), 255, "float32"), np.zeros((4, 4, 3), "float32")
    for image in (white, black):
        out = np.asarray(layer(image, training=True))
        assert out.shape == image.shape and out.min() >= 0 and out.max() <= 255
    assert np.asarray(layer(np.stack([white, black] * 8), training=True)).std() > 0


def test_same_seed_same_output(photos):
    batch = photos.astype("float32")
    values, vectors = ca.principal_components(ca.pixel_covariance(photos))
    outputs = [np.asarray(ca.PCAColourShift(values, vectors, seed=seed)(batch, training=True)) for seed in (7, 7, 8)]
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert not np.array_equal(outputs[0], outputs[2])


def test_saves_and_loads_in_a_keras_model(photos, tmp_path):
    inputs = keras.Input(photos.shape[1:])
    layer = ca.fit(photos, sigma=0.2, seed=11, name="pca_colour")
    model = keras.Model(inputs, keras.layers.Rescaling(1 / 127.5, offset=-1)(layer(inputs)))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    copy = loaded.get_layer("pca_colour")
    assert isinstance(copy, ca.PCAColourShift)
    assert copy.get_config() == layer.get_config()
    batch = photos[:4].astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(batch)), np.asarray(model(batch)), atol=1e-6)
    fresh = ca.PCAColourShift.from_config(layer.get_config())
    np.testing.assert_array_equal(np.asarray(copy(batch, training=True)), np.asarray(fresh(batch, training=True)))


def test_runs_in_the_course_tf_data_pipeline(photos):
    layer = ca.fit(photos, sigma=1.0, seed=0)
    labels = np.arange(len(photos)) % 10
    batch, _ = next(iter(pipeline.batches(photos, labels, 10, batch_size=8, augment=layer)))
    assert batch.shape == (8, *photos.shape[1:])
    assert not np.allclose(np.asarray(batch), photos[:8])


def test_preview_has_a_row_per_augmentation(photos):
    layers = {"PCA": ca.fit(photos, seed=0), "none": lambda x, training: x}
    fig = preview_figure(photos[0], layers, copies=3)
    assert sum(len(ax.images) for ax in fig.axes) == 2 * 4
    plt.close(fig)
