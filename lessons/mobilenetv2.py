"""The real ``keras.applications.MobileNetV2`` with a new head, frozen block by block.

The classifier takes RGB pixels in 0..255 and scales them itself, so a saved model can
never be fed differently from how it was trained::

    pixels -> Rescaling to [-1, 1] -> MobileNetV2 base -> average pool -> dropout
           -> Dense(classes, softmax)

The base's BatchNormalization layers stay frozen even when blocks are unfrozen for
fine-tuning: a few thousand photos in small batches would otherwise overwrite the ImageNet
statistics and wreck the features the head learned on. In Keras 3 a frozen BatchNorm layer
also runs in inference mode; that, not the ``training=False`` in the graph, is what
protects it, because ``fit`` passes ``training=True`` to every layer of a functional model
and that overrides the flag recorded in the graph (measured in week 4).

Public API: :data:`WEIGHTS_ENV`, :data:`BASE_NAME`, :data:`PREPROCESS_NAME`,
:data:`FEATURES_NAME`, :data:`OUTPUT_NAME`, :data:`PREDICT_BATCH`, :data:`BLOCKS`,
:data:`SHIPPED_WEIGHTS`, :class:`WeightsError`, :func:`default_weights`,
:func:`resolve_weights`, :func:`describe_weights`, :func:`build_backbone`, :func:`head_layers`,
:func:`build_classifier`, :func:`base_of`, :func:`features_model`, :func:`head_model`,
:func:`head_config`, :func:`copy_head_weights`, :func:`block_of`, :func:`parse_block`,
:func:`set_trainable_from`, :func:`first_layer_of`, :func:`predict`, :func:`copy`,
:func:`plain_and_flipped`, :func:`with_flip`, :func:`count_parameters`,
:func:`trainable_parameters`, :func:`block_table`, :func:`format_block_table`.
"""
import os
from pathlib import Path

import numpy as np

from lessons import paths
from lessons.errors import first_line
from lessons.text_table import text_table

WEIGHTS_ENV = "LESSONS_WEIGHTS"
BASE_NAME = "mobilenetv2"
PREPROCESS_NAME = "preprocess"  # the classifier's Rescaling layer: pixels 0..255 -> [-1, 1]
FEATURES_NAME = "pool"  # the 1280 pooled features the head reads (for alpha <= 1)
HEAD_PREFIX = "head_"
OUTPUT_NAME = "predictions"
# Photos per predict() call: enough to keep the cores busy, few enough for any laptop's memory.
PREDICT_BATCH = 64
# The order of the parts of the base: stem conv, 17 bottleneck blocks (0..16), top conv.
BLOCKS = ("stem", *range(17), "top")


# How messages name the shipped weights file: relative to the project, as a user types it.
SHIPPED_WEIGHTS = paths.IMAGENET_WEIGHTS.relative_to(paths.REPO)


class WeightsError(RuntimeError):
    """The pretrained weights cannot be had; the message says how to point at a file."""


def default_weights():
    """The weights source when none is given: ``$LESSONS_WEIGHTS``, else the ImageNet file
    shipped in ``weights/`` (so that nothing is downloaded unless asked for)."""
    return os.environ.get(WEIGHTS_ENV) or str(paths.IMAGENET_WEIGHTS)


def resolve_weights(weights=None):
    """``weights`` as Keras takes it: ``"imagenet"``, a ``.weights.h5`` path, or None (random)."""
    weights = default_weights() if weights is None else str(weights)
    if weights.lower() in ("none", "random"):
        return None
    if weights == "imagenet":
        return weights
    path = Path(weights).expanduser()
    if not path.is_file():
        raise WeightsError(f"Weights file {path} does not exist (from --weights or ${WEIGHTS_ENV}). "
                           f"Give the path of a MobileNetV2 .weights.h5 file (the course ships "
                           f"{SHIPPED_WEIGHTS}), 'imagenet' or 'none'.")
    if not path.name.endswith(".weights.h5"):
        raise WeightsError(f"Weights file {path} must end in .weights.h5 (the Keras 3 weights format).")
    return str(path)


def describe_weights(weights=None):
    """One line saying which weights a backbone starts from, for figures and notebooks:
    random weights must never be taken for trained ones."""
    source = resolve_weights(weights)
    if source is None:
        return "RANDOM weights (no pretraining)"
    if source == "imagenet":
        return "ImageNet weights (downloaded by Keras)"
    if Path(source).resolve() == paths.IMAGENET_WEIGHTS:
        return f"ImageNet weights ({SHIPPED_WEIGHTS})"
    return f"weights from {source}"


def build_backbone(image_size=224, alpha=1.0, weights=None):
    """``keras.applications.MobileNetV2`` without its ImageNet classifier, named 'mobilenetv2'.

    Args:
        image_size: side of the square input, in pixels (any size from 32 up).
        alpha: the width multiplier; the shipped ImageNet weights are for 1.0.
        weights: ``"imagenet"`` (Keras downloads them), a ``.weights.h5`` path, ``"none"``
            for random weights, or None for :func:`default_weights`.
    """
    import keras

    source = resolve_weights(weights)
    try:
        return keras.applications.MobileNetV2(input_shape=(image_size, image_size, 3), alpha=alpha,
                                              include_top=False, weights=source, name=BASE_NAME)
    except Exception as error:
        if source == "imagenet":
            raise WeightsError(
                f"Could not download the ImageNet weights ({type(error).__name__}: {first_line(error)}). "
                f"Without internet, use the file the course ships: --weights {SHIPPED_WEIGHTS} "
                f"(or ${WEIGHTS_ENV}), or 'none' for random weights."
            ) from None
        if source is not None:
            raise WeightsError(
                f"Weights file {source} cannot be loaded into MobileNetV2(alpha={alpha}, include_top=False) "
                f"({type(error).__name__}: {first_line(error)}). It may be truncated or made for another "
                f"width; use the course's {SHIPPED_WEIGHTS} (alpha 1.0), or 'none'."
            ) from None
        raise


def head_layers(num_classes, dropout=0.2, hidden_units=0):
    """The new classification head: dropout, an optional hidden layer, softmax."""
    import keras

    layers = [keras.layers.Dropout(dropout, name=f"{HEAD_PREFIX}dropout")]
    if hidden_units:
        layers += [keras.layers.Dense(hidden_units, activation="relu", name=f"{HEAD_PREFIX}hidden"),
                   keras.layers.Dropout(dropout, name=f"{HEAD_PREFIX}hidden_dropout")]
    # float32 even under mixed precision: a float16 softmax rounds small probabilities to 0
    # and makes the loss unstable (Keras' mixed-precision guide).
    return layers + [keras.layers.Dense(num_classes, activation="softmax", name=OUTPUT_NAME, dtype="float32")]


def build_classifier(num_classes, image_size=224, alpha=1.0, weights=None, dropout=0.2, hidden_units=0):
    """MobileNetV2 base (frozen) + new head, taking RGB pixels in 0..255."""
    import keras

    inputs = keras.Input((image_size, image_size, 3), name="pixels")
    # Same arithmetic as keras.applications.mobilenet_v2.preprocess_input: [0, 255] -> [-1, 1].
    x = keras.layers.Rescaling(1 / 127.5, offset=-1, name=PREPROCESS_NAME)(inputs)
    base = build_backbone(image_size, alpha, weights)
    base.trainable = False
    x = base(x, training=False)  # the Keras guide's convention; see the module docstring
    x = keras.layers.GlobalAveragePooling2D(name=FEATURES_NAME)(x)
    for layer in head_layers(num_classes, dropout, hidden_units):
        x = layer(x)
    return keras.Model(inputs, x, name="classifier")


def base_of(model):
    """The MobileNetV2 base (a :func:`build_backbone` model) inside a :func:`build_classifier` model."""
    return model.get_layer(BASE_NAME)


def features_model(model):
    """pixels -> pooled base features: what phase 1 can compute once and cache."""
    import keras

    return keras.Model(model.input, model.get_layer(FEATURES_NAME).output, name="features")


def head_model(model):
    """A stand-alone copy of ``model``'s head that reads cached features, same weights."""
    import keras

    config = head_config(model)
    inputs = keras.Input(model.get_layer(FEATURES_NAME).output.shape[1:], name="features")
    x = inputs
    for layer in head_layers(**config):
        x = layer(x)
    head = keras.Model(inputs, x, name="head")
    copy_head_weights(model, head)
    return head


def head_config(model):
    """The arguments of :func:`head_layers` that rebuild ``model``'s head."""
    names = [layer.name for layer in model.layers]
    hidden = model.get_layer(f"{HEAD_PREFIX}hidden").units if f"{HEAD_PREFIX}hidden" in names else 0
    return {"num_classes": model.get_layer(OUTPUT_NAME).units,
            "dropout": model.get_layer(f"{HEAD_PREFIX}dropout").rate, "hidden_units": hidden}


def copy_head_weights(source, target):
    """Copy the head's weights between a classifier and a head model (either way)."""
    for layer in target.layers:
        if layer.weights and (layer.name == OUTPUT_NAME or layer.name.startswith(HEAD_PREFIX)):
            layer.set_weights(source.get_layer(layer.name).get_weights())


def block_of(layer_name):
    """Which part of the base a layer belongs to: 'stem', a block number 0-16, or 'top'."""
    if layer_name.startswith("block_"):
        return int(layer_name.split("_")[1])
    if layer_name.startswith("expanded_conv"):
        return 0  # the paper's first bottleneck, the one without an expansion layer
    if layer_name in ("Conv_1", "Conv_1_bn", "out_relu"):
        return "top"
    return "stem"  # the input, Conv1, bn_Conv1, Conv1_relu


def parse_block(block):
    """13, '13' or 'block_13' -> 13; 'stem' and 'top' as they are; None -> None."""
    if block is None or block in BLOCKS:
        return block
    text = str(block).removeprefix("block_")
    if text.isdigit() and int(text) in BLOCKS:
        return int(text)
    raise ValueError(f"Unknown block {block!r}: use 'stem', 0..16 (or block_0..block_16) or 'top'.")


def set_trainable_from(model, block):
    """Unfreeze the base from ``block`` up (None: freeze it all); BatchNorm stays frozen.

    Every layer's flag is set explicitly: in Keras 3, ``base.trainable = True`` on a base
    that is already trainable would not undo an earlier per-layer freeze.
    """
    import keras

    block = parse_block(block)
    base = base_of(model)
    first = len(BLOCKS) if block is None else BLOCKS.index(block)
    base.trainable = block is not None
    for layer in base.layers:
        in_range = BLOCKS.index(block_of(layer.name)) >= first
        layer.trainable = in_range and not isinstance(layer, keras.layers.BatchNormalization)
    return first_layer_of(model, block)


def first_layer_of(model, block):
    """(index, name) of the first layer of ``block`` in the base: where the cut falls."""
    if block is None:
        return None
    block = parse_block(block)
    for index, layer in enumerate(base_of(model).layers):
        if block_of(layer.name) == block:
            return index, layer.name
    raise ValueError(f"block {block!r} not found")


def predict(model, inputs, verbose=0):
    """``model.predict`` in batches of :data:`PREDICT_BATCH`."""
    return model.predict(inputs, batch_size=PREDICT_BATCH, verbose=verbose)


def copy(model):
    """A new model with ``model``'s architecture and weights, and nothing else: no optimizer state
    (``keras.models.clone_model`` would also copy the compiled state)."""
    import keras

    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    return clone


def plain_and_flipped(predict_batch):
    """``predict_batch`` on each photo and on its mirror image: (n, 2, classes) probabilities.

    ``predict_batch`` maps a (n, size, size, 3) pixel batch to (n, classes) probabilities.
    """
    return lambda pixels: np.stack([predict_batch(pixels), predict_batch(pixels[:, :, ::-1])], axis=1)


def with_flip(predict_batch):
    """Test-time augmentation: average the probabilities of each photo and its mirror image."""
    both = plain_and_flipped(predict_batch)
    return lambda pixels: both(pixels).mean(axis=1)


def count_parameters(weights):
    """How many numbers a list of weights holds (``layer.trainable_weights``, ``model.weights``, ...)."""
    return int(sum(np.prod(w.shape) for w in weights))


def trainable_parameters(model):
    """How many numbers the optimiser updates in a model or layer (BatchNormalization's moving
    statistics are not among them)."""
    return count_parameters(model.trainable_weights)


def block_table(model):
    """Per part of the network: layers, first layer, trainable and frozen parameters.

    'Frozen' includes BatchNormalization's moving statistics, which no optimiser updates.
    """
    base = base_of(model)
    rows = {part: {"part": f"block_{part}" if isinstance(part, int) else part, "layers": 0,
                   "first_layer": None, "trainable": 0, "frozen": 0} for part in BLOCKS}
    for index, layer in enumerate(base.layers):
        row = rows[block_of(layer.name)]
        row["layers"] += 1
        # The input layer's automatic name changes with every model built: show it as "input".
        name = "input" if index == 0 else layer.name
        row["first_layer"] = row["first_layer"] or f"{index} {name}"
        row["trainable"] += count_parameters(layer.trainable_weights)
        row["frozen"] += count_parameters(layer.non_trainable_weights)
    head = [layer for layer in model.layers if layer is not base and layer.weights]
    rows["head"] = {"part": "head", "layers": len(head), "first_layer": head[0].name if head else "",
                    "trainable": sum(count_parameters(layer.trainable_weights) for layer in head),
                    "frozen": sum(count_parameters(layer.non_trainable_weights) for layer in head)}
    return list(rows.values())


def format_block_table(rows):
    """The table of :func:`block_table` as aligned text, with totals."""
    total = {"part": "total", "first_layer": "", **{key: sum(r[key] for r in rows)
                                                    for key in ("layers", "trainable", "frozen")}}
    shown = [{"part": r["part"], "first layer": r["first_layer"] or "", "layers": r["layers"],
              "trainable": r["trainable"], "frozen": r["frozen"]} for r in [*rows, total]]
    return text_table(shown, {"trainable": ",", "frozen": ","})
