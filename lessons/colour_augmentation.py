"""PCA colour augmentation, AlexNet's "lighting" noise, as a Keras preprocessing layer.

Krizhevsky, Sutskever and Hinton (2012, section 4.1) take the 3x3 covariance of the RGB
values of every pixel of the training photos. Its eigenvectors p1, p2, p3 are the
directions in which the photos' colours vary, its eigenvalues λ1 ≥ λ2 ≥ λ3 how much
(variances). Each time a photo is used for training, three numbers αi ~ N(0, σ) are drawn
(σ = 0.1 in the paper) and one colour, Σ αi λi pi, is added to every pixel of that photo:
the whole photo turns a little brighter or darker, warmer or cooler, the way the light
changes from one shot to the next, and mostly along the directions in which the data
already varies.

Units: λ is a variance, so the size of the shift depends on the pixel units, which the
paper does not state. The course fits the covariance on pixel values scaled to [0, 1]
(values / 255), the convention of the implementations in wide use, and adds the shift in
the pipeline's own units, 0..255 (the classifier of :mod:`lessons.mobilenetv2` scales pixels
itself), clipped to that range. At σ = 0.1 that is a few grey levels.

The covariance is fitted once, over the training set, not per photo: the principal
components belong to the data set. :func:`fit` returns a :class:`PCAColourShift` layer
ready to use.

The layer is registered with Keras: import this module before loading a ``.keras``
model that contains it.

Public API: :func:`pixel_covariance`, :func:`principal_components`, :class:`PCAColourShift`,
:func:`fit`, :func:`describe_components`.
"""
import keras
import numpy as np
from keras import ops

# AlexNet's standard deviation of the αi.
ALEXNET_SIGMA = 0.1
PIXEL_RANGE = (0.0, 255.0)  # what lessons.pipeline.load_images gives and the classifier takes


def pixel_covariance(pixels, chunk=64):
    """The 3x3 covariance of the RGB values of every pixel of ``pixels`` (n, h, w, 3; 0..255),
    with the values scaled to [0, 1]. Summed photo chunk by photo chunk in float64, so
    a thousand photos at 224 px never need a float copy of them all."""
    pixels = np.asarray(pixels)
    count, total, products = 0, np.zeros(3), np.zeros((3, 3))
    for start in range(0, len(pixels), chunk):
        values = pixels[start:start + chunk].reshape(-1, 3).astype(np.float64) / 255
        count += len(values)
        total += values.sum(axis=0)
        products += values.T @ values
    mean = total / count
    # The unbiased estimate, as np.cov gives it: (Σ x xᵀ − n μ μᵀ) / (n − 1).
    return (products - count * np.outer(mean, mean)) / (count - 1)


def principal_components(covariance):
    """Eigenvalues (largest first) and eigenvectors (columns, same order) of a symmetric
    3x3 covariance. Each eigenvector's sign is chosen so that its components sum to a
    positive number, so that the first one reads as "brighter" rather than "darker"."""
    values, vectors = np.linalg.eigh(np.asarray(covariance, dtype=np.float64))
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    vectors *= np.where(vectors.sum(axis=0) < 0, -1.0, 1.0)
    return np.clip(values, 0, None), vectors  # rounding can leave -1e-18 for a flat direction


@keras.saving.register_keras_serializable(package="lessons")
class PCAColourShift(keras.layers.Layer):
    """Adds Σ αi λi pi to every pixel of each image, αi ~ N(0, ``sigma``) drawn per image.

    Active only when called with ``training=True``; at inference it returns its input.
    Takes batches (n, h, w, 3) or single images (h, w, 3) in ``value_range``.

    Args:
        eigenvalues: λ1..λ3 of the pixel covariance on [0, 1] values (:func:`principal_components`).
        eigenvectors: 3x3, the principal components p1..p3 as columns.
        sigma: standard deviation of the αi (AlexNet: 0.1).
        value_range: (low, high) of the pixel values; the shift is scaled to it and the
            result clipped to it.
        seed: for the αi; the same seed gives the same shifts.
    """

    def __init__(self, eigenvalues, eigenvectors, sigma=ALEXNET_SIGMA, value_range=PIXEL_RANGE, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.eigenvalues = np.asarray(eigenvalues, dtype=np.float64).reshape(3)
        self.eigenvectors = np.asarray(eigenvectors, dtype=np.float64).reshape(3, 3)
        self.sigma = float(sigma)
        self.value_range = tuple(float(v) for v in value_range)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Row i: the colour that one unit of αi adds, λi pi, in the pipeline's units.
        low, high = self.value_range
        self.basis = (self.eigenvectors * self.eigenvalues).T * (high - low)

    def call(self, images, training=False):
        if not training:
            return images
        images = ops.convert_to_tensor(images, dtype=self.compute_dtype)
        single = len(images.shape) == 3
        batch = images[None] if single else images
        alphas = keras.random.normal((ops.shape(batch)[0], 3), stddev=self.sigma, seed=self.seed_generator,
                                     dtype=self.compute_dtype)
        shifts = ops.matmul(alphas, ops.convert_to_tensor(self.basis, dtype=self.compute_dtype))
        shifted = ops.clip(batch + shifts[:, None, None, :], *self.value_range)
        return shifted[0] if single else shifted

    def compute_output_shape(self, input_shape):
        return input_shape

    def typical_shift(self):
        """The root-mean-square length of the colour added to a photo, in pixel units
        (before clipping): σ (high − low) √(Σ λi²)."""
        low, high = self.value_range
        return self.sigma * (high - low) * float(np.sqrt(np.sum(self.eigenvalues ** 2)))

    def get_config(self):
        return {**super().get_config(), "eigenvalues": self.eigenvalues.tolist(),
                "eigenvectors": self.eigenvectors.tolist(), "sigma": self.sigma,
                "value_range": list(self.value_range), "seed": self.seed}


def fit(pixels, sigma=ALEXNET_SIGMA, seed=None, **kwargs):
    """A :class:`PCAColourShift` fitted to the colours of ``pixels`` (the training photos, 0..255)."""
    values, vectors = principal_components(pixel_covariance(pixels))
    return PCAColourShift(values, vectors, sigma=sigma, seed=seed, **kwargs)


def describe_components(layer):
    """One line per principal component: its direction in RGB and its share of the colour variance."""
    shares = layer.eigenvalues / layer.eigenvalues.sum()
    return [f"p{i + 1} = ({', '.join(f'{v:+.2f}' for v in layer.eigenvectors[:, i])})  "
            f"λ{i + 1} = {layer.eigenvalues[i]:.4f}  {shares[i]:.1%} of the variance" for i in range(3)]
