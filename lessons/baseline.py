"""A small CNN trained from scratch: the point of comparison for transfer learning.

Four stages of (3x3 convolution, BatchNormalization, ReLU, 2x2 max pool), the first
convolution with stride 2 as in MobileNetV2's stem, then global average pooling and the
same kind of head as the MobileNetV2 classifier; the last feature map is on the same 1/32
grid as MobileNetV2's. It takes the same input (RGB pixels 0..255, rescaled inside) and
trains on the same split with the same augmentation, so the only difference from
fine-tuning MobileNetV2 is where the weights start: random numbers instead of ImageNet.

Public API: :data:`WIDTHS`, :func:`build_baseline`, :class:`BaselineRun`,
:func:`train_baseline`, :func:`baseline_row`, :func:`phase_rows`, :func:`format_comparison`.
"""
import time
from dataclasses import dataclass

from lessons import mobilenetv2, pipeline
from lessons.text_table import text_table

WIDTHS = (16, 32, 64, 128)  # channels of the four stages: about 100 thousand weights in all


def build_baseline(num_classes, image_size=224, widths=WIDTHS, dropout=0.2):
    """The from-scratch CNN, pixels 0..255 -> class probabilities."""
    import keras

    inputs = keras.Input((image_size, image_size, 3), name="pixels")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1, name=mobilenetv2.PREPROCESS_NAME)(inputs)
    for stage, width in enumerate(widths, start=1):
        # No bias: the BatchNormalization right after has its own offset (beta). The stride-2
        # first convolution keeps the cost of the full-resolution layer down.
        x = keras.layers.Conv2D(width, 3, strides=2 if stage == 1 else 1, padding="same", use_bias=False,
                                name=f"stage{stage}_conv")(x)
        x = keras.layers.BatchNormalization(name=f"stage{stage}_bn")(x)
        x = keras.layers.ReLU(name=f"stage{stage}_relu")(x)
        x = keras.layers.MaxPooling2D(name=f"stage{stage}_pool")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="baseline")


@dataclass
class BaselineRun:
    model: object
    history: list  # one row per epoch: {epoch, loss, accuracy, val_loss, val_accuracy}
    seconds: float  # wall-clock training time, tracing included (as in a checkpoint's meta.json)

    @property
    def trainable(self):
        return mobilenetv2.trainable_parameters(self.model)


def train_baseline(x, y, num_classes, epochs=30, batch_size=32, lr=1e-3, label_smoothing=0.1, augment=True,
                   patience=5, seed=0, verbose=0):
    """Train :func:`build_baseline` on ``x["train"]``, choosing the epoch on ``x["val"]``.

    ``x`` and ``y`` are dicts of pixel arrays and integer labels, as in
    :func:`lessons.training.train`; the settings mirror :class:`lessons.training.TrainConfig`.
    The weights of the epoch with the lowest validation loss are kept.
    """
    import keras

    keras.utils.set_random_seed(seed)
    model = build_baseline(num_classes, x["train"].shape[1])
    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing), metrics=["accuracy"])
    train = pipeline.batches(x["train"], y["train"], num_classes, batch_size, shuffle_seed=seed,
                             augment=pipeline.augmentation(seed) if augment else None)
    val = pipeline.batches(x["val"], y["val"], num_classes, batch_size)
    stop = keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)
    started = time.perf_counter()
    fit = model.fit(train, validation_data=val, epochs=epochs, verbose=verbose, shuffle=False, callbacks=[stop])
    seconds = time.perf_counter() - started
    history = [{"epoch": epoch + 1, **{name: float(values[epoch]) for name, values in fit.history.items()}}
               for epoch in range(len(fit.history["loss"]))]
    return BaselineRun(model, history, seconds)


def baseline_row(run, accuracy, photos):
    """The baseline's row of the comparison table (its test accuracy is measured outside)."""
    return {"model": "baseline CNN, from scratch", "accuracy": accuracy, "photos": photos,
            "trainable": run.trainable, "seconds": run.seconds}


def phase_rows(meta, phase1_trainable, label):
    """The two rows of a checkpoint's meta.json: after phase 1 and after phase 2.

    meta.json records the trainable weights of phase 2 (the final model); those of
    phase 1, the head alone, are not recorded, hence ``phase1_trainable``.
    """
    phase1, phase2, photos = meta.phase1, meta.phase2, meta.test.photos
    return [
        {"model": f"{label}: phase 1 (frozen base)", "accuracy": phase1.test_accuracy, "photos": photos,
         "trainable": phase1_trainable, "seconds": phase1.seconds},
        {"model": f"{label}: phase 2 (from {phase2.fine_tune_from})", "accuracy": phase2.test_accuracy,
         "photos": photos, "trainable": meta.trainable_parameters, "seconds": phase2.seconds},
    ]


def format_comparison(rows):
    """Rows of :func:`baseline_row` and :func:`phase_rows` as an aligned text table."""
    shown = [{"model": r["model"], "test accuracy": r["accuracy"], "of photos": r["photos"],
              "trainable": r["trainable"], "training time": r["seconds"]} for r in rows]
    return text_table(shown, {"test accuracy": ".1%", "trainable": ",", "training time": lambda s: f"{s:.0f} s"})
