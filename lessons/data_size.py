"""Which transfer strategy for which amount of data, measured on cached activations.

The usual advice (lecture notes 003, "Transfer Learning") is a rule of thumb: with very
little data freeze the base and train a new softmax only; with more, also train the top
layers; with a lot, train everything. :func:`accuracy_by_data_size` measures the first two
on the course's photos, as test accuracy against the number of training photos per class:

- **linear probe**: the new head alone on the frozen base's pooled features (phase 1);
- **fine-tuned top**: that head, then the base's top block (``block_16`` by default) and
  its last 1x1 convolution (``Conv_1``) trained together with it at a learning rate ten times lower
  (phase 2, BatchNormalization frozen as in :func:`lessons.mobilenetv2.set_trainable_from`).

Both strategies are cheap because of one cache. Everything below the cut stays frozen in
both, so every photo goes through that part of the base once (:func:`split_base`); the
many small training runs then go through the top block only. A cache holds one copy of
each photo, so neither strategy sees augmentation here: both are handicapped alike. Each
run of a size draws its photos at random from the training part (and trains with its own
batch order and dropout); every run is scored on the same test photos.

Public API: :data:`PROBE`, :data:`FINE_TUNED`, :data:`STRATEGIES`, :data:`CUT`,
:func:`split_base`, :func:`trainable_copy`, :func:`draw_per_class`, :class:`DataSizeCurve`,
:func:`accuracy_by_data_size`.
"""
import time
from dataclasses import dataclass

import numpy as np

from lessons import mobilenetv2, training

PROBE = "linear probe"
FINE_TUNED = "fine-tuned top"
STRATEGIES = (PROBE, FINE_TUNED)
CUT = "block_16"  # the first trainable block of the fine-tuned strategy
# Training steps run in one call of the traced graph: the head's steps are so small that
# Python's overhead between steps would otherwise cost more than the steps themselves.
STEPS_PER_EXECUTION = 20
# Student's t, two-sided 95 %, by degrees of freedom: with a handful of runs the normal
# distribution's 1.96 would make the interval far too narrow.
T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26}


def split_base(model, block=CUT):
    """Two Keras models that, one after the other, compute ``model``'s base.

    ``lower`` maps pixels (0..255, through the classifier's own preprocessing) to the
    activations that enter ``block``; ``upper`` maps those to the base's output. Both
    share the base's layers and weights: use them to predict, and copy ``upper``
    (:func:`trainable_copy`) to train it.
    """
    import keras

    base = mobilenetv2.base_of(model)
    _, first = mobilenetv2.first_layer_of(model, block)
    cut = base.get_layer(first).input
    pixels = keras.Input(model.input.shape[1:], name="pixels")
    below = keras.Model(base.input, cut)
    lower = keras.Model(pixels, below(model.get_layer(mobilenetv2.PREPROCESS_NAME)(pixels)), name="below_cut")
    # Keras 3 accepts an inner tensor as a model's input: the graph from it up is reused.
    upper = keras.Model(cut, base.output, name="above_cut")
    return lower, upper


def trainable_copy(upper):
    """A copy of ``upper`` with its own weights, every layer trainable but BatchNormalization."""
    import keras

    copy = mobilenetv2.copy(upper)
    for layer in copy.layers:
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
    return copy


def draw_per_class(labels, per_class, rng):
    """Indices of ``per_class`` photos of each class, drawn without replacement, sorted."""
    chosen = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in np.unique(labels)]
    return np.sort(np.concatenate(chosen))


@dataclass
class DataSizeCurve:
    """Test accuracy of each strategy per number of training photos per class."""

    photos_per_class: list
    accuracy: dict  # strategy -> one array per size, one accuracy per run
    test_photos: int
    fine_tune_from: str
    trainable: dict  # strategy -> parameters it trains
    cache_seconds: float  # the one pass through the frozen lower part of the base
    train_seconds: float  # all the training runs and their scoring

    def mean(self, strategy):
        return np.array([a.mean() for a in self.accuracy[strategy]])

    def spread(self, strategy):
        """Standard deviation over the runs of each size."""
        return np.array([a.std() for a in self.accuracy[strategy]])

    def gain(self):
        """Per size, fine-tuned minus probe accuracy: (mean, low, high), a 95 % interval.

        The runs are paired (both strategies train on the same draw of photos and are
        scored on the same test photos), so the interval is Student's t on the run-by-run
        differences. With one run the interval is unbounded: one run tells nothing of the noise.
        """
        mean, low, high = [], [], []
        for tuned, probe in zip(self.accuracy[FINE_TUNED], self.accuracy[PROBE]):
            differences = tuned - probe
            n = len(differences)
            half = T95.get(n - 1, 1.96) * differences.std(ddof=1) / np.sqrt(n) if n > 1 else np.inf
            mean.append(differences.mean())
            low.append(differences.mean() - half)
            high.append(differences.mean() + half)
        return np.array(mean), np.array(low), np.array(high)

    def verdicts(self):
        """Per size: "fine-tuning ahead", "the probe ahead" or "no clear difference".

        Clear means that the interval of :meth:`gain` leaves out zero *and* that the mean
        difference is more than one test photo: accuracy moves in steps of one photo, and
        a few runs that happen to differ by the same step have a spread of zero, which is
        no evidence.
        """
        verdicts = []
        for mean, low, high in zip(*self.gain()):
            beyond_one_photo = abs(mean) * self.test_photos > 1 + 1e-9  # 0.2 - 0.15 is 0.05000000000000002
            verdicts.append("fine-tuning ahead" if low > 0 and beyond_one_photo else
                            "the probe ahead" if high < 0 and beyond_one_photo else "no clear difference")
        return verdicts

    def format(self):
        """A table: per size, each strategy's mean accuracy ± standard deviation over runs."""
        lines = [f"{'photos/class':>12}{'runs':>6}" + "".join(f"{s:>22}" for s in STRATEGIES)]
        for i, size in enumerate(self.photos_per_class):
            cells = "".join(f"{f'{self.mean(s)[i]:.1%} ± {self.spread(s)[i]:.1%}':>22}" for s in STRATEGIES)
            lines.append(f"{size:>12}{len(self.accuracy[PROBE][i]):>6}{cells}")
        return "\n".join(lines)


class _Trainer:
    """A compiled model that can be put back to its starting weights and optimizer state,
    so that every run starts alike without compiling (and tracing) again."""

    def __init__(self, model, lr, label_smoothing):
        import keras

        model.compile(optimizer=keras.optimizers.Adam(lr),
                      loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
                      steps_per_execution=STEPS_PER_EXECUTION)
        model.optimizer.build(model.trainable_variables)
        self.model = model
        self.variables = model.weights + model.optimizer.variables
        self.start = [v.numpy() for v in self.variables]

    def reset(self):
        for variable, value in zip(self.variables, self.start):
            variable.assign(value)

    def train(self, inputs, labels, steps, batch_size, seed):
        """``steps`` steps of Adam on batches cut from a reshuffled, repeated stream.

        Every batch has ``batch_size`` examples, even from fewer photos (a batch then
        holds some photos twice), so that the training step is traced once for all sizes.
        """
        import tensorflow as tf

        num_classes = self.model.output.shape[-1]
        onehot = np.eye(num_classes, dtype=np.float32)[labels]
        stream = (tf.data.Dataset.from_tensor_slices((inputs, onehot)).shuffle(len(labels), seed=seed)
                  .repeat().batch(batch_size).take(steps))
        if steps:
            self.model.fit(stream, verbose=0, shuffle=False)

    def accuracy(self, inputs, labels):
        predicted = np.asarray(self.model(inputs, training=False)).argmax(axis=1)
        return float(np.mean(predicted == labels))


def _head_on(inputs, model, body=None):
    """``inputs`` -> (``body``, pooling) -> a new head like ``model``'s."""
    import keras

    x = inputs
    if body is not None:
        x = keras.layers.GlobalAveragePooling2D(name=mobilenetv2.FEATURES_NAME)(body(x))
    for layer in mobilenetv2.head_layers(**mobilenetv2.head_config(model)):
        x = layer(x)
    return keras.Model(inputs, x)


def accuracy_by_data_size(model, x_train, y_train, x_test, y_test, photos_per_class=(2, 5, 10, 20, None),
                          runs=3, fine_tune_from=CUT, head_steps=1000, fine_tune_steps=50, config=None, seed=0):
    """Test accuracy of a linear probe and of a fine-tuned top, per training photos per class.

    Args:
        model: a classifier from :func:`lessons.mobilenetv2.build_classifier` (its base's weights,
            ImageNet's, are the starting point; the model itself is not changed).
        x_train, y_train: the training photos (n, size, size, 3; 0..255) and their labels.
        x_test, y_test: the test photos every run is scored on.
        photos_per_class: the sizes to try; None: all the photos of the smallest class.
        runs: training runs per size, each on its own random draw of photos.
        fine_tune_from: the first block the fine-tuned strategy trains.
        head_steps, fine_tune_steps: training steps of the head (phase 1, both strategies)
            and of the top with the head (phase 2), the same for every size. The head needs
            many (on the course's photos, at the course's learning rate, its test accuracy
            still grows up to about a thousand steps), and fine-tuning must start from a
            head that has converged, or it would be credited with the head's own progress.
        config: a :class:`lessons.training.TrainConfig` for the learning rates, batch size
            and label smoothing (default: the course's defaults).
        seed: for the draws, the initial head (the same in every run), the batch order and dropout.
    """
    import keras

    config = config or training.TrainConfig(data="")
    fewest = int(np.bincount(y_train).min())
    sizes = [fewest if n is None else n for n in photos_per_class]
    if max(sizes) > fewest:
        raise ValueError(f"{max(sizes)} photos per class asked for; the smallest class has {fewest} training photos")
    keras.utils.set_random_seed(seed)
    lower, upper = split_base(model, fine_tune_from)

    started = time.perf_counter()
    cut = {part: mobilenetv2.predict(lower, x) for part, x in (("train", x_train), ("test", x_test))}
    # The top block is small: calling it directly costs less than tracing it for predict().
    pooled = {part: np.concatenate([np.asarray(upper(a[i:i + 256])) for i in range(0, len(a), 256)]).mean(axis=(1, 2))
              for part, a in cut.items()}
    cache_seconds = time.perf_counter() - started

    started = time.perf_counter()
    probe = _Trainer(_head_on(keras.Input(pooled["train"].shape[1:]), model), config.phase1_lr,
                     config.label_smoothing)
    tuned = _Trainer(_head_on(keras.Input(cut["train"].shape[1:]), model, trainable_copy(upper)),
                     config.phase2_lr, config.label_smoothing)
    rng = np.random.default_rng(seed)
    accuracy = {strategy: [] for strategy in STRATEGIES}
    for size in sizes:
        scores = {strategy: [] for strategy in STRATEGIES}
        for run in range(runs):
            chosen = draw_per_class(y_train, size, rng)
            probe.reset()
            probe.train(pooled["train"][chosen], y_train[chosen], head_steps, config.batch_size, seed + run)
            scores[PROBE].append(probe.accuracy(pooled["test"], y_test))
            tuned.reset()
            mobilenetv2.copy_head_weights(probe.model, tuned.model)  # phase 2 starts from phase 1's head
            tuned.train(cut["train"][chosen], y_train[chosen], fine_tune_steps, config.batch_size, seed + run)
            scores[FINE_TUNED].append(tuned.accuracy(cut["test"], y_test))
        for strategy in STRATEGIES:
            accuracy[strategy].append(np.array(scores[strategy]))
    trainable = {name: mobilenetv2.trainable_parameters(t.model)
                 for name, t in ((PROBE, probe), (FINE_TUNED, tuned))}
    return DataSizeCurve(sizes, accuracy, len(y_test), str(fine_tune_from), trainable, cache_seconds,
                         time.perf_counter() - started)
