"""Grad-CAM: where in the photo did the network look for its answer?

The base's last feature map (7x7 cells at 224 px, 1280 channels) still knows *where* things
are. Grad-CAM weighs each channel by how much the class score rises with it (the gradient,
averaged over the map), sums the weighted channels and keeps the positive part: a coarse
map of the regions that argued *for* the class (Selvaraju et al., 2017).

With this course's head (average pooling, then one Dense layer) the result equals the
older Class Activation Map (Zhou et al., 2016): the gradient of a logit with respect to
cell (i, j) of channel k is just the Dense weight of k divided by the number of cells.

Public API: :class:`GradCam`, :func:`overlay`.
"""
import numpy as np
from PIL import Image

from lessons import mobilenetv2


class GradCam:
    """Grad-CAM maps for one course classifier, traced once as a ``tf.function``.

    Traced, a map costs about one forward and one partial backward pass; run eagerly, each
    of the 150 layers would pay Python's overhead again at every call (several times slower).
    """

    def __init__(self, model):
        import tensorflow as tf

        self.model = model
        self._compute = tf.function(self._map, reduce_retracing=True)

    def __call__(self, pixels, class_index=None):
        """(map, class_index): a (cells, cells) map in [0, 1] for one uint8 photo.

        ``class_index`` defaults to the predicted class.
        """
        import tensorflow as tf

        x = tf.constant(np.asarray(pixels, dtype=np.float32)[None])
        # A tensor, not a Python int: each new int would trace the function again.
        cam, index = self._compute(x, tf.constant(-1 if class_index is None else class_index, tf.int32))
        cam = cam.numpy()
        return (cam / cam.max() if cam.max() > 0 else cam), int(index)

    def _map(self, x, class_index):
        import tensorflow as tf

        scaled = self.model.get_layer(mobilenetv2.PREPROCESS_NAME)(x)
        features = mobilenetv2.base_of(self.model)(scaled, training=False)
        with tf.GradientTape() as tape:
            tape.watch(features)
            logits = _logits(self.model, features)[0]
            index = tf.where(class_index < 0, tf.argmax(logits, output_type=tf.int32), class_index)
            score = tf.gather(logits, index)
        gradients = tape.gradient(score, features)[0]
        weights = tf.reduce_mean(gradients, axis=(0, 1))  # one weight per channel
        return tf.nn.relu(tf.reduce_sum(features[0] * weights, axis=-1)), index


def _logits(model, features):
    """The head applied to a feature map, stopping before the softmax (whose saturation
    would flatten the gradients of a confident prediction)."""
    x = model.get_layer(mobilenetv2.FEATURES_NAME)(features)
    for layer in model.layers[model.layers.index(model.get_layer(mobilenetv2.FEATURES_NAME)) + 1:]:
        if layer.name == mobilenetv2.OUTPUT_NAME:
            return x @ layer.kernel + layer.bias
        x = layer(x, training=False)
    raise ValueError("the model has no 'predictions' layer")


def overlay(pixels, cam, opacity=0.45, colormap="inferno"):
    """The photo with the map laid over it, as a PIL image of the photo's size."""
    import matplotlib

    size = pixels.shape[:2][::-1]
    upsampled = np.asarray(Image.fromarray(np.uint8(cam * 255)).resize(size, Image.Resampling.BICUBIC)) / 255.0
    colours = matplotlib.colormaps[colormap](upsampled)[..., :3] * 255
    blended = (1 - opacity) * pixels.astype(np.float32) + opacity * colours
    return Image.fromarray(np.clip(blended, 0, 255).astype(np.uint8))
