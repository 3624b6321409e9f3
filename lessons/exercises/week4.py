"""Checks for week 4: the student writes both phases of transfer learning.

1. ``phase1``: freeze the base, put a head on it, compile, fit the head on cached features.
2. ``unfreeze_from``: unfreeze the base from a block up, BatchNormalization kept frozen.
3. ``compile_for_phase2``: compile again, at a tenth of phase 1's learning rate.
4. ``phase2``: fit on, the epoch count continuing from where phase 1 stopped.

Every check runs the student's function on a small real case: the real MobileNetV2 at
64 px with the course's ImageNet weights, six sample photos of each of three classes, and
their pooled features, cached as in :func:`lessons.training.run_phase1`. The course's own
answers are here too (the tests compare with them, and :func:`yours_or_ours` falls back on
them so that a notebook with unwritten exercises still runs to the end).

Public API: :func:`feature_extractor`, :func:`phase1`, :func:`unfreeze_from`,
:func:`compile_for_phase2`, :func:`phase2`, :func:`yours_or_ours`, :func:`check_phase1`,
:func:`check_unfreeze_from`, :func:`recompile_matters`, :func:`check_compile_for_phase2`,
:func:`check_phase2`.
"""
import functools

import numpy as np

from lessons import data, mobilenetv2, paths, pipeline
from lessons.exercises import call, failed, hint_for, passed

CASE_SIZE = 64  # pixels: small, yet the base's last feature map is 2 x 2, so pooling matters
CASE_CLASSES = 3
CASE_PHOTOS = {"train": 4, "val": 2}  # per class
CASE_LR = 1e-2
CASE_EPOCHS = 4
BATCH = 4
UNFREEZE_CASES = [(None, 13), (None, 16), (11, 13), (13, 0)]  # (unfrozen before, block to unfreeze from)


# ---- the small real case -------------------------------------------------------------

@functools.cache
def _classifier():
    """The course's classifier on the real MobileNetV2 at 64 px, ImageNet weights."""
    return mobilenetv2.build_classifier(CASE_CLASSES, CASE_SIZE)


def _base():
    return mobilenetv2.base_of(_classifier())


def feature_extractor(base):
    """pixels (0..255) -> the base's pooled features: what phase 1 caches.

    Same preprocessing as the course's classifier (pixels to [-1, 1], the arithmetic of
    ``keras.applications.mobilenet_v2.preprocess_input``), then the base, then an average
    over the feature map. Build it once and ``predict`` every part with it: one traced graph.
    """
    import keras

    return keras.Sequential([keras.Input(base.input.shape[1:]), keras.layers.Rescaling(1 / 127.5, offset=-1),
                             base, keras.layers.GlobalAveragePooling2D()], name="features")


@functools.cache
def _case():
    """Pixels, labels and cached features of a few sample photos, per part."""
    sample = data.scan(paths.SAMPLE_DATA, progress=False)
    chosen, start = {}, 0
    for part, count in CASE_PHOTOS.items():
        chosen[part] = np.concatenate([np.flatnonzero(sample.labels == c)[start:start + count]
                                       for c in range(CASE_CLASSES)])
        start += count
    everything = np.concatenate(list(chosen.values()))
    pixels = pipeline.load_images(sample.paths(everything), CASE_SIZE, progress=False)
    # A direct call: for a handful of photos, cheaper than tracing a predict function.
    features = feature_extractor(_base())(pixels.astype(np.float32), training=False).numpy()
    case, start = {}, 0
    for part, indices in chosen.items():
        part_of = slice(start, start + len(indices))
        case[part] = {"pixels": pixels[part_of], "labels": sample.labels[indices], "features": features[part_of]}
        start += len(indices)
    return case


def _batches(part, shuffle=True):
    case = _case()[part]
    return pipeline.batches(case["features"], case["labels"], CASE_CLASSES, BATCH, shuffle_seed=0 if shuffle else None)


def _learning_rate(optimizer):
    return float(np.array(optimizer.learning_rate))


def _epoch_counter():
    """A callback that counts the epochs it sees: were the callbacks passed on to fit?"""
    import keras

    class EpochCounter(keras.callbacks.Callback):
        epochs = 0

        def on_epoch_end(self, epoch, logs=None):
            self.epochs += 1

    return EpochCounter()


# ---- the course's answers ------------------------------------------------------------

def phase1(base, train, val, num_classes, epochs, lr, callbacks=()):
    """Freeze ``base``, train a new head on cached features; returns (model, history)."""
    import keras

    base.trainable = False
    head = keras.Sequential([keras.Input((base.output.shape[-1],)), keras.layers.Dropout(0.2),
                             keras.layers.Dense(num_classes, activation="softmax")], name="head")
    head.compile(optimizer=keras.optimizers.Adam(lr), loss="categorical_crossentropy", metrics=["accuracy"])
    history = head.fit(train, validation_data=val, epochs=epochs, callbacks=list(callbacks), shuffle=False,
                       verbose=0)
    pixels = keras.Input(base.input.shape[1:])
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(pixels)
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(pixels, head(x)), history


def unfreeze_from(base, block):
    """Unfreeze ``base`` from bottleneck ``block`` (0..16) up, BatchNormalization frozen;
    returns the index of the first unfrozen layer."""
    import keras

    base.trainable = True  # every flag below is then set explicitly
    first = next(i for i, layer in enumerate(base.layers) if mobilenetv2.block_of(layer.name) == block)
    for index, layer in enumerate(base.layers):
        layer.trainable = index >= first and not isinstance(layer, keras.layers.BatchNormalization)
    return first


def compile_for_phase2(model, phase1_lr):
    """Compile again (after changing what is trainable), at a tenth of phase 1's rate."""
    import keras

    model.compile(optimizer=keras.optimizers.Adam(phase1_lr / 10), loss="categorical_crossentropy",
                  metrics=["accuracy"])


def phase2(model, train, val, phase1_history, epochs, callbacks=()):
    """``epochs`` more epochs, numbered on from the ones phase 1 ran; returns the history."""
    ran = len(phase1_history.epoch)
    return model.fit(train, validation_data=val, initial_epoch=ran, epochs=ran + epochs,
                     callbacks=list(callbacks), shuffle=False, verbose=0)


def yours_or_ours(function, check_passed):
    """The student's ``function`` if its check passed, else the course's of the same name:
    the rest of the notebook runs either way, and says which one it used."""
    if check_passed:
        return function
    print(f"(using the course's {function.__name__}: yours has not passed its check yet)")
    return globals()[function.__name__]


# ---- 1. phase 1 ----------------------------------------------------------------------

def check_phase1(phase1_fn):
    """``phase1(base, train, val, num_classes, epochs, lr, callbacks)`` -> ``(model, history)``:
    the base frozen, a new head fitted on the cached features, ``model`` taking pixels."""
    import keras

    base, case = _base(), _case()
    base.trainable = True  # as phase 2 of an earlier run would leave it: freezing is the function's job
    keras.utils.set_random_seed(0)
    counter = _epoch_counter()
    where = "phase1(base, train, val, 3, 4, 0.01, callbacks)"
    result, error = call(phase1_fn, base, _batches("train"), _batches("val", shuffle=False), CASE_CLASSES,
                         CASE_EPOCHS, CASE_LR, [counter])
    if error:
        return failed(f"{where} {error}.")
    if not (isinstance(result, tuple) and len(result) == 2):
        return failed(f"{where} returned {type(result).__name__}: return two things, (model, history).")
    model, history = result
    if not isinstance(model, keras.Model) or not isinstance(history, keras.callbacks.History):
        return failed(f"{where} returned ({type(model).__name__}, {type(history).__name__}): return the model "
                      "that takes photos and the History that head.fit(...) returns.")
    base_ids = {id(w) for w in base.weights}
    unfrozen = mobilenetv2.count_parameters([w for w in model.trainable_weights if id(w) in base_ids])
    if unfrozen:
        return failed(f"{unfrozen:,} of the base's parameters are trainable in your model: freeze the base "
                      "(base.trainable = False) before training the head.")
    if base not in model.layers and not any(base in getattr(layer, "layers", ()) for layer in model.layers):
        return failed("your model does not contain the base: build it as pixels -> preprocessing -> base -> "
                      "pooling -> your trained head.")
    if tuple(model.input.shape[1:]) != tuple(base.input.shape[1:]) or model.output.shape[-1] != CASE_CLASSES:
        return failed(f"your model maps {tuple(model.input.shape)} to {tuple(model.output.shape)}: it should take "
                      f"photos like the base, {tuple(base.input.shape)}, and give one probability per class "
                      f"({CASE_CLASSES} here).")
    if counter.epochs == 0:
        return failed("the callbacks you were given never ran: pass them on, fit(..., callbacks=list(callbacks)) "
                      "(the notebook passes early stopping that way).")
    if len(history.epoch) != CASE_EPOCHS:
        return failed(f"your fit ran {len(history.epoch)} epochs, not the {CASE_EPOCHS} asked for: "
                      "fit(..., epochs=epochs).")
    if "val_loss" not in history.history:
        return failed("your history has no val_loss: pass validation_data=val to fit; early stopping and the "
                      "learning curve read the validation loss.")
    if "val_accuracy" not in history.history:
        return failed("your history has no accuracy: compile with metrics=['accuracy'].")
    head = history.model
    if head.optimizer is None or _learning_rate(head.optimizer) != np.float32(CASE_LR):
        rate = _learning_rate(head.optimizer) if head.optimizer is not None else None
        return failed(f"your head trained with learning rate {rate:g}, not lr = {CASE_LR:g}: compile with "
                      "keras.optimizers.Adam(lr) (the string 'adam' means its default, 0.001).")
    ours, error = call(lambda: np.asarray(model(case["val"]["pixels"].astype(np.float32), training=False)))
    if error:
        return failed(f"your model, given photos, {error}.")
    if not np.allclose(ours.sum(axis=1), 1, atol=1e-4):
        return failed("your model's outputs do not sum to 1 over the classes: end the head with "
                      "Dense(num_classes, activation='softmax').")
    theirs = np.asarray(head(case["val"]["features"], training=False))
    if ours.shape != theirs.shape or not np.allclose(ours, theirs, atol=1e-4):
        in_model = {id(w) for w in model.weights}
        hint = ("your model's head is not the one you trained: reuse the trained head (call head(x)) instead of "
                "new layers" if not all(id(w) in in_model for w in head.weights) else
                "feed the base as the cache was fed: pixels -> Rescaling(1 / 127.5, offset=-1) -> base -> "
                "GlobalAveragePooling2D() -> the trained head")
        return failed(f"on the same photos your model's probabilities differ from your head's on their cached "
                      f"features: {hint}.")
    return passed(f"phase1 is right: the base frozen, {mobilenetv2.trainable_parameters(model):,} parameters "
                  f"trained (the head, for the check's {CASE_CLASSES} classes) on features computed once, and a model that takes photos.")


# ---- 2. unfreezing from a block ------------------------------------------------------

def _expected_flags(base, block):
    import keras

    first = next(i for i, layer in enumerate(base.layers) if mobilenetv2.block_of(layer.name) == block)
    return first, [i >= first and not isinstance(layer, keras.layers.BatchNormalization)
                   for i, layer in enumerate(base.layers)]


def check_unfreeze_from(unfreeze_fn):
    """``unfreeze_from(base, block)``: unfreeze the base from bottleneck ``block`` up, keep
    every BatchNormalization layer frozen, return the index of the first unfrozen layer."""
    import keras

    base = _base()
    names = [layer.name for layer in base.layers]
    for before, block in UNFREEZE_CASES:
        if before is None:
            base.trainable = False  # as phase 1 leaves it
        else:
            unfreeze_from(base, before)  # an earlier cut, lower or higher
        where = f"unfreeze_from(base, {block})" + (f" on a base unfrozen from block {before}" if before else "")
        answer, error = call(unfreeze_fn, base, block)
        if error:
            hint = (" Block 0 has no layer named block_0_...: Keras calls the first bottleneck expanded_conv "
                    "(lessons.mobilenetv2.block_of(name) knows both names)." if block == 0 else "")
            return failed(f"{where} {error}.{hint}")
        first, flags = _expected_flags(base, block)
        got = [layer.trainable for layer in base.layers]
        batchnorm = [i for i, layer in enumerate(base.layers)
                     if isinstance(layer, keras.layers.BatchNormalization) and got[i]]
        below = [i for i in range(first) if got[i]]
        above = [i for i in range(first, len(names)) if flags[i] and not got[i]]
        if not base.trainable:
            return failed(f"after {where}, base.trainable is still False: set base.trainable = True first (Keras "
                          "then lists none of the base's weights as trainable, base.trainable_weights is empty), "
                          "then freeze what must stay frozen, layer by layer.")
        if below:
            extra = (f" Your base was unfrozen from block {before} before, so it was trainable already and "
                     "base.trainable = True changed nothing: set every layer's flag, not only those above the cut, "
                     "or the earlier cut stays." if before is not None and before < block
                     else " base.trainable = True on a frozen base unfreezes every layer: freeze those below the "
                     "cut again.")
            return failed(f"after {where}, {len(below)} layers below the cut are trainable (the first: "
                          f"{names[below[0]]}).{extra}")
        if batchnorm:
            return failed(f"after {where}, {len(batchnorm)} BatchNormalization layers are trainable (the first: "
                          f"{names[batchnorm[0]]}). Keep them frozen: in Keras 3, fit runs a trainable "
                          "BatchNormalization layer in training mode (batch statistics, moving statistics "
                          "drifting) whatever training=False the graph says; the end of this section measures "
                          "what that does to a trained model.")
        if above:
            return failed(f"after {where}, {len(above)} layers at or above the cut are still frozen (the first: "
                          f"{names[above[0]]}): unfreeze every layer from the block's first one up, except "
                          "BatchNormalization.")
        if answer != first:
            hints = [(first + 1, "Python counts from 0: base.layers[0] is the input layer"),
                     (names[first], "return the layer's index, not its name")]
            if f"block_{block}_depthwise" in names:
                hints.append((names.index(f"block_{block}_depthwise"), "a block starts with its 1×1 expansion "
                              "layer (block_k_expand), before the depthwise one"))
            return failed(f"{where} set the right layers but returned {answer!r}, not {first} ({names[first]}): "
                          f"{hint_for(hints, answer, 'return the index of the first layer of the block')}.")
    first, _ = _expected_flags(base, 13)
    unfreeze_from(base, 13)
    return passed(f"unfreeze_from is right: e.g. from block 13 the cut falls at layer {first}, {names[first]}, "
                  f"and {mobilenetv2.trainable_parameters(base):,} of the base's parameters train, no "
                  "BatchNormalization among them.")


# ---- 3. compiling again at a tenth of the rate ---------------------------------------

@functools.cache
def recompile_matters():
    """Measured on a small model (a head with a hidden layer on the cached features): a
    layer unfrozen after ``compile``, does ``fit`` train it without a new ``compile``?
    ``{"fit without compiling again": changed?, "fit after compiling again": changed?}``."""
    import keras

    keras.utils.set_random_seed(0)
    hidden = keras.layers.Dense(16, activation="relu", name="hidden")
    model = keras.Sequential([keras.Input((_base().output.shape[-1],)), hidden,
                              keras.layers.Dense(CASE_CLASSES, activation="softmax")])
    train = _batches("train")
    result = {}
    hidden.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(CASE_LR), loss="categorical_crossentropy")
    model.fit(train, epochs=1, shuffle=False, verbose=0)
    hidden.trainable = True  # unfrozen after compile and a first fit, as phase 2 does
    for name in ("fit without compiling again", "fit after compiling again"):
        if name == "fit after compiling again":
            model.compile(optimizer=keras.optimizers.Adam(CASE_LR), loss="categorical_crossentropy")
        before = hidden.kernel.numpy().copy()
        model.fit(train, epochs=1, shuffle=False, verbose=0)
        result[name] = not np.array_equal(before, hidden.kernel.numpy())
    return result


def _why_recompile():
    measured = recompile_matters()
    if measured["fit without compiling again"] or not measured["fit after compiling again"]:
        return "Keras asks for a new compile after changing trainable (keras.io/guides/transfer_learning)"
    return ("Keras fixes which weights a model trains when it is compiled: measured here, a layer unfrozen after "
            "compile and fit stayed unchanged by the next fit, and trained after a new compile")


def check_compile_for_phase2(compile_fn):
    """``compile_for_phase2(model, phase1_lr)``: compile the unfrozen model again, Adam at
    ``phase1_lr / 10``, categorical cross-entropy, accuracy."""
    import keras

    model = _classifier()
    for phase1_lr in (1e-3, 3e-4):
        mobilenetv2.set_trainable_from(model, None)
        # Phase 1 as the TensorFlow tutorial runs it (no cache): the whole model compiled with the frozen base.
        model.compile(optimizer=keras.optimizers.Adam(phase1_lr), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        old = model.optimizer
        mobilenetv2.set_trainable_from(model, 13)
        trainable = mobilenetv2.trainable_parameters(model)
        where = f"compile_for_phase2(model, {phase1_lr:g})"
        _, error = call(compile_fn, model, phase1_lr)
        if error:
            return failed(f"{where} {error}.")
        if mobilenetv2.trainable_parameters(model) != trainable:
            return failed(f"{where} changed which weights are trainable ({trainable:,} before, "
                          f"{mobilenetv2.trainable_parameters(model):,} after): the unfreezing is done already, "
                          "only compile.")
        if model.optimizer is old:
            return failed(f"after {where} the model still has the optimizer compiled for phase 1: call "
                          f"model.compile(...) again with a new optimizer. Why: {_why_recompile()}.")
        if type(model.optimizer).__name__ != "Adam":
            return failed(f"{where} compiled with {type(model.optimizer).__name__}: keep phase 1's optimizer, "
                          "Adam, and change only its learning rate.")
        rate, right = _learning_rate(model.optimizer), np.float32(phase1_lr / 10)
        if not np.isclose(rate, right, rtol=1e-6):
            hint = hint_for([(np.float32(phase1_lr), "that is phase 1's rate: divide it by 10"),
                             (np.float32(1e-4), "that is a tenth of 0.001, written in: use phase1_lr / 10"),
                             (np.float32(phase1_lr / 100), "a hundredth: divide by 10, not 100")],
                            np.float32(rate), "use keras.optimizers.Adam(phase1_lr / 10)")
            return failed(f"{where} compiled at learning rate {rate:g}, not {right:g}: {hint}.")
        config = model.get_compile_config()
        loss = str(config.get("loss"))
        if "crossentropy" not in loss.lower().replace("_", "") or "sparse" in loss.lower():
            return failed(f"{where} compiled with loss {loss}: the course's batches carry one-hot labels, so use "
                          "'categorical_crossentropy'.")
        if "accuracy" not in str(config.get("metrics")):
            return failed(f"{where} compiled without metrics=['accuracy']: the learning curve needs it.")
    mobilenetv2.set_trainable_from(model, None)
    return passed(f"compile_for_phase2 is right: Adam at phase 1's rate / 10, compiled again after the unfreezing. "
                  f"Needed because {_why_recompile()}.")


# ---- 4. phase 2, the epochs continuing -----------------------------------------------

@functools.cache
def _phase1_histories():
    """Real phase-1 histories of a head on the cached features: one stopped early (after 3
    of 6 planned epochs, as early stopping would), one that ran all 4 of its epochs."""
    import keras

    class StopAfter(keras.callbacks.Callback):
        def __init__(self, epochs):
            super().__init__()
            self.stop_after = epochs

        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = epoch + 1 >= self.stop_after

    model = _head_model()
    early = model.fit(_batches("train"), epochs=6, shuffle=False, verbose=0, callbacks=[StopAfter(3)])
    full = model.fit(_batches("train"), epochs=4, shuffle=False, verbose=0)
    return [(early, 2), (full, 3)]


@functools.cache
def _head_model():
    import keras

    model = keras.Sequential([keras.Input((_base().output.shape[-1],)),
                              keras.layers.Dense(CASE_CLASSES, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(CASE_LR), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def check_phase2(phase2_fn):
    """``phase2(model, train, val, phase1_history, epochs, callbacks)`` -> History: ``epochs``
    more epochs whose numbers go on from the epochs phase 1 actually ran."""
    model = _head_model()
    for phase1_history, epochs in _phase1_histories():
        ran, planned = len(phase1_history.epoch), phase1_history.params["epochs"]
        right = list(range(ran, ran + epochs))
        counter = _epoch_counter()
        where = (f"phase2(model, train, val, phase1_history, {epochs}) after a phase 1 that ran {ran} of its "
                 f"{planned} planned epochs")
        history, error = call(phase2_fn, model, _batches("train"), _batches("val", shuffle=False), phase1_history,
                              epochs, [counter])
        if error:
            return failed(f"{where} {error}.")
        if not hasattr(history, "epoch"):
            return failed(f"{where} returned {type(history).__name__}: return the History that fit returns.")
        got = list(history.epoch)
        if got == right:
            if counter.epochs != epochs:
                return failed(f"{where}: the callbacks you were given never ran: pass them on to fit.")
            if "val_loss" not in history.history:
                return failed(f"{where}: no val_loss in the history: pass validation_data=val to fit.")
            continue
        first = got[0] if got else None
        if not got:
            hint = ("no epoch ran, the history is empty: epochs= is the number of the epoch to stop at, not how "
                    "many to run; fit(epochs=E, initial_epoch=I) runs E - I epochs, none when E <= I")
        elif first == 0:
            hint = ("phase 2 counts from epoch 0 again: pass initial_epoch, or the two phases' epochs overlap in "
                    "the learning curve and in early stopping's count")
        elif first == planned:
            hint = (f"phase 1 planned {planned} epochs but ran {ran} (early stopping ended it): start from the "
                    "epochs it ran, len(phase1_history.epoch), not from phase1_history.params['epochs']")
        elif first == ran - 1:
            hint = (f"Keras numbers epochs from 0: history.epoch {list(phase1_history.epoch)} means {ran} epochs "
                    "ran, so phase 2 starts at epoch number " + str(ran))
        elif first == ran and len(got) != epochs:
            hint = (f"{len(got)} epochs ran, not {epochs}: stop at epochs = (epochs phase 1 ran) + (epochs of "
                    "phase 2)")
        else:
            hint = "fit(..., initial_epoch=len(phase1_history.epoch), epochs=len(phase1_history.epoch) + epochs)"
        return failed(f"{where} ran epochs {got}, not {right}: {hint}.")
    return passed("phase2 is right: e.g. after a phase 1 stopped early at 3 epochs, phase 2's epochs are numbered "
                  "3 and 4.")
