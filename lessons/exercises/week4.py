"""Checks for week 4: where fine-tuning cuts the network, what it trains, which epoch it keeps."""
import functools

from lessons import model as mv2
from lessons.exercises import call, failed, hint_for, passed, same

CUT_BLOCKS = [13, 1, 16, 11, 0]  # block 0 last: Keras calls it expanded_conv, not block_0
UNFREEZE_BLOCKS = [13, 16, "top", 11, 1, 0]


@functools.cache
def _real_base():
    """A real MobileNetV2 classifier (random weights: only its layers and sizes matter here)."""
    return mv2.build_classifier(10, image_size=96, weights="none")


def layer_names():
    """The names of the real base's layers, in order."""
    return [layer.name for layer in mv2.backbone(_real_base()).layers]


def layer_sizes():
    """(name, class name, parameters) of every layer of the real base, in order."""
    return [(layer.name, type(layer).__name__, int(sum(w.numpy().size for w in layer.weights)))
            for layer in mv2.backbone(_real_base()).layers]


def first_layer_index(names, block):
    """The course's answer: the index of the first layer of ``block`` (0..16)."""
    return next(i for i, name in enumerate(names) if mv2.block_of(name) == block)


def check_first_layer_index(first_layer_index_fn):
    """``first_layer_index(names, block)``: the position in ``names`` (the base's layer names,
    in order) of the first layer of bottleneck block ``block`` (0..16)."""
    names = layer_names()
    for block in CUT_BLOCKS:
        answer, error = call(first_layer_index_fn, names, block)
        if error:
            hint = (" Block 0 has no layer named block_0_...: Keras calls the first bottleneck expanded_conv "
                    "(it has no expansion layer)." if block == 0 else "")
            return failed(f"first_layer_index(names, {block}) {error}.{hint}")
        right = first_layer_index(names, block)
        if same(answer, right):
            continue
        where = f"first_layer_index(names, {block}) returns {answer!r}, not {right} ({names[right]})"
        depthwise = next((i for i, n in enumerate(names) if n == f"block_{block}_depthwise"), None)
        hints = [(right + 1, "Python counts from 0: names[0] is the input layer"),
                 (names[right], "return the layer's index in the list, not its name")]
        if depthwise is not None:
            hints.append((depthwise, "a block starts with its 1×1 expansion layer (block_k_expand), before the "
                                     "depthwise one"))
        if block == 0:
            default = "Keras names block 0 expanded_conv_...: lessons.model.block_of(name) knows both names"
        else:
            default = f"look for the first name that belongs to block {block} (lessons.model.block_of(name))"
        return failed(f"{where}: {hint_for(hints, answer, default)}.")
    return passed(f"first_layer_index is right: e.g. block 13 starts at layer {first_layer_index(names, 13)}, "
                  f"{names[first_layer_index(names, 13)]}.")


def trainable_after_unfreezing(layers, block):
    """The course's answer, measured on the real model: the base's trainable parameters
    after ``set_trainable_from(model, block)`` (``layers`` is not needed for that)."""
    model = _real_base()
    mv2.set_trainable_from(model, block)
    count = int(sum(w.numpy().size for w in mv2.backbone(model).trainable_weights))
    mv2.set_trainable_from(model, None)
    return count


def _count(layers, block, keep):
    first = mv2.BLOCKS.index(block)
    return sum(keep(kind, params) for name, kind, params in layers if mv2.BLOCKS.index(mv2.block_of(name)) >= first)


def _without_batchnorm(kind, params):
    return 0 if kind == "BatchNormalization" else params


def check_trainable_after_unfreezing(trainable_fn):
    """``trainable_after_unfreezing(layers, block)``: how many of the base's parameters are
    trainable after ``set_trainable_from(model, block)``. ``layers`` lists (name, class name,
    parameters) of every layer of the base, in order."""
    layers = layer_sizes()
    for block in UNFREEZE_BLOCKS:
        answer, error = call(trainable_fn, layers, block)
        if error:
            return failed(f"trainable_after_unfreezing(layers, {block!r}) {error}.")
        right = trainable_after_unfreezing(layers, block)
        if same(answer, right):
            continue
        where = f"trainable_after_unfreezing(layers, {block!r}) returns {answer!r}, not {right:,}"
        batchnorm = _count(layers, block, lambda kind, params: params if kind == "BatchNormalization" else 0)
        hints = {
            right + batchnorm: "BatchNormalization layers stay frozen (all four of their vectors): leave them out",
            right + batchnorm // 2: "BatchNormalization layers stay frozen, gamma and beta too: leave them out",
            _count(layers, "stem", _without_batchnorm): f"count only the layers from block {block!r} up, not the "
                                                        "whole base",
        }
        if block != "top":
            after = mv2.BLOCKS[mv2.BLOCKS.index(block) + 1]
            hints[_count(layers, after, _without_batchnorm)] = (f"block {block!r} itself is unfrozen too: count "
                                                                 "from its first layer")
        default = ("add the parameters of every layer whose block (lessons.model.block_of) comes at or after "
                   f"{block!r} in lessons.model.BLOCKS, leaving BatchNormalization layers out")
        return failed(f"{where}: {hint_for(hints, answer, default)}.")
    return passed(f"trainable_after_unfreezing is right: e.g. from block 13, "
                  f"{trainable_after_unfreezing(layers, 13):,} of the base's parameters train.")


def _history(phase1_val_losses, phase2_val_losses):
    """A checkpoint-style history whose lowest validation loss, highest validation accuracy
    and lowest training loss fall on different epochs, as they often do."""
    rows = []
    for phase, losses in ((1, phase1_val_losses), (2, phase2_val_losses)):
        for val_loss in losses:
            epoch = len(rows) + 1
            rows.append({"epoch": epoch, "phase": phase, "loss": 2.0 / epoch, "accuracy": 1 - 1 / (epoch + 1),
                         "val_loss": val_loss, "val_accuracy": round(1 - val_loss / 3 + 0.02 * (epoch % 2), 3)})
    return rows


HISTORIES = [
    _history([1.6, 1.2, 1.0, 1.05, 1.1], [0.95, 0.9, 0.92]),
    _history([1.5, 1.1, 1.15, 1.2, 1.25, 1.3], [1.0, 1.02, 0.99, 1.01, 1.05, 1.1]),
    _history([1.4, 1.3, 1.2], []),  # a run without phase 2
]


def kept_epochs(history):
    """The course's answer: for each phase, the epoch with the lowest validation loss."""
    kept = {}
    for row in history:
        best = kept.get(row["phase"])
        if best is None or row["val_loss"] < best["val_loss"]:
            kept[row["phase"]] = row
    return {phase: row["epoch"] for phase, row in kept.items()}


def _best(history, key, pick):
    return {phase: pick((r for r in history if r["phase"] == phase), key=lambda r: r[key])["epoch"]
            for phase in sorted({r["phase"] for r in history})}


def check_kept_epochs(kept_epochs_fn):
    """``kept_epochs(history)``: ``{phase: epoch}``, the epoch whose weights each phase keeps
    (the one with the lowest validation loss), from a checkpoint's history rows."""
    for history in HISTORIES:
        answer, error = call(kept_epochs_fn, history)
        if error:
            return failed(f"kept_epochs {error}.")
        right = kept_epochs(history)
        if same(answer, right):
            continue
        where = f"For a history of {len(history)} epochs you return {answer!r}, not {right}"
        overall = min(history, key=lambda r: r["val_loss"])
        positions = {phase: [r for r in history if r["phase"] == phase].index(history[epoch - 1])
                     for phase, epoch in right.items()}
        hints = [
            (_best(history, "val_accuracy", max), "the recorder keeps the lowest validation LOSS, not the highest "
                                                  "validation accuracy"),
            (_best(history, "loss", min), "use the validation loss (val_loss), not the training loss"),
            ({overall["phase"]: overall["epoch"]}, "one epoch per phase: each phase keeps its own best weights"),
            (positions, "return the epoch number of the row (phase 2 goes on counting after phase 1), not its "
                        "position within the phase"),
        ]
        default = "for each phase, find the row with the smallest val_loss and take its 'epoch'"
        return failed(f"{where}: {hint_for(hints, answer, default)}.")
    return passed(f"kept_epochs is right: e.g. {kept_epochs(HISTORIES[0])} for the first test history.")
