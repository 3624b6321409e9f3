"""BatchNormalization during fine-tuning: what goes wrong when it leaves inference mode.

A BatchNormalization layer normalises each channel with a mean and a variance. In
inference mode these are its *moving statistics*, learnt on ImageNet's 1.3 million
photos. In training mode it uses the statistics of the batch in hand instead, and pulls
its moving statistics a little towards them (momentum 0.999 in MobileNetV2).

In Keras 3 a BatchNormalization layer runs in training mode only when it is called with
``training=True`` **and** it is trainable. ``fit`` calls the model with
``training=True``, and that flag reaches the layers inside the base even though the
classifier's graph calls the base with ``training=False`` (:func:`fit_changes_moving_statistics`
measures it). What keeps the base in inference mode during fine-tuning is therefore
:func:`lessons.mobilenetv2.set_trainable_from`, which leaves every BatchNormalization layer
frozen. This module takes a trained classifier and shows what happens without that.

Public API: :func:`batchnorm_layers`, :func:`copy_with_trainable_batchnorm`, :func:`predictor`,
:func:`accuracy_by_batch_size`, :func:`fit_changes_moving_statistics`.
"""
import numpy as np

from lessons import mobilenetv2


def batchnorm_layers(model):
    import keras

    return [layer for layer in mobilenetv2.base_of(model).layers if isinstance(layer, keras.layers.BatchNormalization)]


def copy_with_trainable_batchnorm(model, trainable=True):
    """A copy of a classifier (same weights), unfrozen whole as for fine-tuning; its base's
    BatchNormalization layers made trainable (the mistake) or left frozen (as
    :func:`lessons.mobilenetv2.set_trainable_from` leaves them)."""
    copy = mobilenetv2.copy(model)
    mobilenetv2.set_trainable_from(copy, "stem")
    for layer in batchnorm_layers(copy):
        layer.trainable = trainable
    return copy


def predictor(model, batch_statistics=False):
    """A function ``(pixels, batch_size) -> class probabilities``, run batch by batch.

    With ``batch_statistics`` the base runs in training mode (as in a ``fit`` step): each
    batch is normalised with its own statistics, if its BatchNormalization layers are
    trainable. The head always runs in inference mode (no dropout), so only the base's
    normalisation differs. Beware: training mode also moves the moving statistics.
    """
    import tensorflow as tf

    features, head = mobilenetv2.features_model(model), mobilenetv2.head_model(model)
    # One traced graph for all batches: calling a Keras model eagerly costs far more a batch.
    run = tf.function(lambda x: head(features(x, training=batch_statistics), training=False), reduce_retracing=True)

    def predict(pixels, batch_size=32):
        pixels = np.asarray(pixels, dtype=np.float32)
        return np.concatenate([run(pixels[start:start + batch_size]).numpy()
                               for start in range(0, len(pixels), batch_size)])
    return predict


def accuracy_by_batch_size(model, pixels, labels, batch_sizes=(1, 4, 16)):
    """Accuracy with the moving statistics, then with batch statistics at each batch size.

    Returns ``{"moving statistics": accuracy, 1: accuracy, 4: ..., ...}``, computed on a
    copy of ``model`` (training mode moves the moving statistics; the first entry is
    computed before they move).
    """
    copy = copy_with_trainable_batchnorm(model)
    accuracy = lambda probabilities: float(np.mean(probabilities.argmax(1) == labels))  # noqa: E731
    results = {"moving statistics": accuracy(predictor(copy)(pixels))}
    with_batch_statistics = predictor(copy, batch_statistics=True)
    for size in batch_sizes:
        results[size] = accuracy(with_batch_statistics(pixels, size))
    return results


def fit_changes_moving_statistics(model, pixels):
    """Does a training-mode call of the classifier (what ``fit`` does) move the base's
    moving statistics? ``{"BatchNormalization frozen": bool, "BatchNormalization trainable": bool}``.

    Both copies keep the classifier's graph, whose base is called with ``training=False``.
    """
    moved = {}
    for trainable in (False, True):
        copy = copy_with_trainable_batchnorm(model, trainable)
        before = [layer.moving_mean.numpy().copy() for layer in batchnorm_layers(copy)]
        copy(pixels, training=True)
        after = [layer.moving_mean.numpy() for layer in batchnorm_layers(copy)]
        moved[f"BatchNormalization {'trainable' if trainable else 'frozen'}"] = not all(
            np.array_equal(a, b) for a, b in zip(before, after))
    return moved
