"""Week 4's exercise checks: right answers pass, typical wrong ones and stubs are explained."""
import keras
import numpy as np
import pytest

from lessons import mobilenetv2
from lessons.exercises import week4
from tests.exercise_checks import assert_accepted_with, assert_refused_with, stub


@pytest.fixture(autouse=True)
def fresh_base():
    """Each test starts from a base frozen as phase 1 leaves it."""
    week4._base().trainable = False
    yield


# ---- phase 1 ---------------------------------------------------------------------------

def make_phase1(freeze=True, optimizer=None, validation=True, callbacks=True, rescale=True, reuse_head=True,
                pool="average", returns="both", metrics=("accuracy",)):
    """A student's phase1, right by default; each argument makes one typical mistake."""
    def phase1(base, train, val, num_classes, epochs, lr, given_callbacks=()):
        if freeze:
            base.trainable = False
        head = keras.Sequential([keras.Input((base.output.shape[-1],)), keras.layers.Dropout(0.2),
                                 keras.layers.Dense(num_classes, activation="softmax")])
        head.compile(optimizer=optimizer or keras.optimizers.Adam(lr), loss="categorical_crossentropy",
                     metrics=list(metrics))
        history = head.fit(train, validation_data=val if validation else None, epochs=epochs, shuffle=False,
                           callbacks=list(given_callbacks) if callbacks else [], verbose=0)
        pixels = keras.Input(base.input.shape[1:])
        x = keras.layers.Rescaling(1 / 127.5, offset=-1)(pixels) if rescale else pixels
        x = base(x, training=False)
        x = keras.layers.GlobalAveragePooling2D()(x) if pool == "average" else keras.layers.Flatten()(x)
        outputs = head(x) if reuse_head else keras.layers.Dense(num_classes, activation="softmax")(x)
        model = keras.Model(pixels, outputs)
        return {"both": (model, history), "model": model}[returns]
    return phase1


def test_the_course_answer_to_phase1_passes(capsys):
    assert_accepted_with(capsys, week4.check_phase1, week4.phase1,
                         "the base frozen, 3,843 parameters trained (the head, for the check's 3 classes)")
    assert not week4._base().trainable, "phase1 froze the base"


@pytest.mark.parametrize("mistake, message", [
    ({"freeze": False}, "freeze the base"),
    ({"optimizer": "adam"}, "the string 'adam' means its default"),
    ({"validation": False}, "validation_data=val"),
    ({"metrics": ()}, "metrics=['accuracy']"),
    ({"callbacks": False}, "pass them on"),
    ({"rescale": False}, "Rescaling(1 / 127.5, offset=-1)"),
    ({"reuse_head": False}, "reuse the trained head"),
    ({"pool": "flatten"}, "raised"),
    ({"returns": "model"}, "return two things"),
])
def test_typical_phase1_mistakes_are_explained(capsys, mistake, message):
    week4._base().trainable = True
    assert_refused_with(capsys, week4.check_phase1, make_phase1(**mistake), message)


def test_the_cached_features_are_the_classifiers_own():
    classifier = week4._classifier()
    pixels = week4._case()["val"]["pixels"]
    np.testing.assert_allclose(week4._case()["val"]["features"],
                               mobilenetv2.features_model(classifier).predict(pixels, verbose=0), atol=1e-4)
    np.testing.assert_allclose(week4.feature_extractor(week4._base()).predict(pixels, verbose=0),
                               week4._case()["val"]["features"], atol=1e-4)


# ---- unfreezing from a block -------------------------------------------------------------

def first_of(base, block):
    return next(i for i, layer in enumerate(base.layers) if mobilenetv2.block_of(layer.name) == block)


def everything(base, block):
    base.trainable = True
    return first_of(base, block)


def tutorial(base, block):
    """The TensorFlow tutorial's recipe: all trainable, then the layers below the cut frozen."""
    base.trainable = True
    first = first_of(base, block)
    for layer in base.layers[:first]:
        layer.trainable = False
    return first


def layers_only(base, block):
    """Lecture notes 001's recipe: the layers from the cut made trainable, the base left as it was."""
    first = first_of(base, block)
    for layer in base.layers[first:]:
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
    return first


def by_prefix(base, block):
    base.trainable = True
    first = next(i for i, layer in enumerate(base.layers) if layer.name.startswith(f"block_{block}_"))
    for index, layer in enumerate(base.layers):
        layer.trainable = index >= first and not isinstance(layer, keras.layers.BatchNormalization)
    return first


def returning(offset=0, name=False):
    def unfreeze(base, block):
        first = week4.unfreeze_from(base, block)
        return base.layers[first].name if name else first + offset
    return unfreeze


def test_the_course_answer_to_unfreezing_passes(capsys):
    assert_accepted_with(capsys, week4.check_unfreeze_from, week4.unfreeze_from,
                         "the cut falls at layer 116, block_13_expand, and 1,663,360")


@pytest.mark.parametrize("answer, message", [
    (everything, "freeze those below the cut again"),
    (tutorial, "BatchNormalization layers are trainable"),
    (layers_only, "base.trainable is still False"),
    (by_prefix, "expanded_conv"),
    (returning(offset=1), "counts from 0"),
    (returning(name=True), "not its name"),
])
def test_typical_unfreezing_mistakes_are_explained(capsys, answer, message):
    assert_refused_with(capsys, week4.check_unfreeze_from, answer, message)


def test_an_earlier_cut_must_be_undone(capsys):
    def keeps_old_flags(base, block):
        base_was_trainable = base.trainable
        first = first_of(base, block)
        if not base_was_trainable:
            base.trainable = True
            for layer in base.layers[:first]:
                layer.trainable = False
        for layer in base.layers[first:]:
            layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
        return first

    assert_refused_with(capsys, week4.check_unfreeze_from, keeps_old_flags, "unfrozen from block 11",
                        "the earlier cut stays")


def test_the_course_unfreezing_agrees_with_set_trainable_from():
    classifier = week4._classifier()
    base = mobilenetv2.base_of(classifier)
    for block in (0, 5, 13, 16):
        mobilenetv2.set_trainable_from(classifier, block)
        expected = [layer.trainable for layer in base.layers]
        base.trainable = False
        assert week4.unfreeze_from(base, block) == mobilenetv2.first_layer_of(classifier, block)[0]
        assert [layer.trainable for layer in base.layers] == expected
    mobilenetv2.set_trainable_from(classifier, None)


# ---- compiling again -----------------------------------------------------------------------

def compile_with(lr=lambda phase1_lr: phase1_lr / 10, optimizer=keras.optimizers.Adam,
                 loss="categorical_crossentropy", metrics=("accuracy",)):
    def compile_for_phase2(model, phase1_lr):
        model.compile(optimizer=optimizer(lr(phase1_lr)), loss=loss, metrics=list(metrics))
    return compile_for_phase2


def only_the_rate(model, phase1_lr):
    model.optimizer.learning_rate.assign(phase1_lr / 10)


def and_unfreeze(model, phase1_lr):
    mobilenetv2.set_trainable_from(model, 11)
    week4.compile_for_phase2(model, phase1_lr)


def test_the_course_answer_to_compiling_passes(capsys):
    assert_accepted_with(capsys, week4.check_compile_for_phase2, week4.compile_for_phase2,
                         "a layer unfrozen after compile and fit stayed unchanged")


@pytest.mark.parametrize("answer, message", [
    (lambda model, phase1_lr: None, "still has the optimizer compiled for phase 1"),
    (only_the_rate, "Why: Keras fixes which weights a model trains when it is compiled"),
    (compile_with(lr=lambda lr: lr), "phase 1's rate: divide it by 10"),
    (compile_with(lr=lambda lr: 1e-4), "written in"),
    (compile_with(lr=lambda lr: lr / 100), "divide by 10, not 100"),
    (compile_with(optimizer=keras.optimizers.SGD), "keep phase 1's optimizer, Adam"),
    (compile_with(loss="sparse_categorical_crossentropy"), "one-hot labels"),
    (compile_with(metrics=()), "metrics=['accuracy']"),
    (and_unfreeze, "only compile"),
])
def test_typical_compiling_mistakes_are_explained(capsys, answer, message):
    assert_refused_with(capsys, week4.check_compile_for_phase2, answer, message)


def test_a_layer_unfrozen_after_compile_needs_a_new_compile():
    assert week4.recompile_matters() == {"fit without compiling again": False, "fit after compiling again": True}


# ---- phase 2 ------------------------------------------------------------------------------

def fit_with(initial, stop, validation=True, callbacks=True):
    """A student's phase2 with ``initial(history)`` and ``stop(history, epochs)``."""
    def phase2(model, train, val, phase1_history, epochs, given_callbacks=()):
        return model.fit(train, validation_data=val if validation else None, shuffle=False, verbose=0,
                         initial_epoch=initial(phase1_history), epochs=stop(phase1_history, epochs),
                         callbacks=list(given_callbacks) if callbacks else [])
    return phase2


def ran(history):
    return len(history.epoch)


def test_the_course_answer_to_phase2_passes(capsys):
    assert_accepted_with(capsys, week4.check_phase2, week4.phase2, "numbered 3 and 4")


@pytest.mark.parametrize("answer, message", [
    (fit_with(ran, lambda h, e: e), "no epoch ran, the history is empty"),
    (fit_with(lambda h: 0, lambda h, e: e), "counts from epoch 0 again"),
    (fit_with(lambda h: h.params["epochs"], lambda h, e: h.params["epochs"] + e), "ran 3 (early stopping"),
    (fit_with(lambda h: h.epoch[-1], lambda h, e: h.epoch[-1] + e), "Keras numbers epochs from 0"),
    (fit_with(ran, lambda h, e: h.params["epochs"] + e), "5 epochs ran, not 2"),
    (fit_with(ran, lambda h, e: ran(h) + e, validation=False), "validation_data=val"),
    (fit_with(ran, lambda h, e: ran(h) + e, callbacks=False), "callbacks you were given never ran"),
])
def test_typical_phase2_mistakes_are_explained(capsys, answer, message):
    assert_refused_with(capsys, week4.check_phase2, answer, message)


def test_the_phase1_histories_are_real_and_one_stopped_early():
    (early, _), (full, _) = week4._phase1_histories()
    assert early.epoch == [0, 1, 2] and early.params["epochs"] == 6
    assert full.epoch == [0, 1, 2, 3] and full.params["epochs"] == 4


@pytest.mark.parametrize("check", [week4.check_phase1, week4.check_unfreeze_from, week4.check_compile_for_phase2,
                                   week4.check_phase2])
def test_an_unwritten_exercise_is_said_so(capsys, check):
    assert_refused_with(capsys, check, stub, "not written yet")


# ---- the notebook runs on with the course's answers ---------------------------------------

def test_yours_or_ours(capsys):
    def phase2(*args):
        raise NotImplementedError()

    assert week4.yours_or_ours(phase2, True) is phase2
    assert week4.yours_or_ours(phase2, False) is week4.phase2
    assert "using the course's phase2" in capsys.readouterr().out
