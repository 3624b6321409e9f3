"""A checkpoint's results for people: what its ``meta.json`` records, as Markdown.

``python -m lessons results --checkpoint DIR`` prints it; README's table of the reference
checkpoint is this output pasted in, and a test keeps the two equal.

Public API: :func:`markdown`, :func:`rows`.
"""
from lessons import mobilenetv2

EXPORT_NAMES = {
    "fp32": "FP32 TFLite",
    "dynamic": "dynamic-range TFLite (INT8 weights, float arithmetic)",
    "int8": "INT8 (full-integer TFLite, calibrated on {calibration_photos} training photos)",
}


def rows(meta):
    """``[(step, test accuracy)]``: each training step and each export, on the same test photos."""
    steps = [(_phase1(meta), meta.phase1.test_accuracy)]
    if meta.phase2.epochs_run:
        steps.append((_phase2(meta), meta.phase2.test_accuracy))
    if meta.test_time_flip:
        steps.append(("+ test-time flip (average with the mirror image)", meta.test.accuracy))
    for kind, record in meta.exports.items():
        if kind in EXPORT_NAMES:
            steps.append((EXPORT_NAMES[kind].format(calibration_photos=record.calibration_photos),
                          record.test_accuracy))
    return steps


def markdown(meta):
    """The summary line and the table of :func:`rows`."""
    counts, split = meta.split.counts, meta.split
    lines = [f"Trained on {meta.data.photos:,} photos of `{meta.data.root}` ({counts['train']:,} train, "
             f"{counts['val']:,} validation, {counts['test']:,} test; {split.near_duplicate_groups} groups of "
             f"{split.photos_in_groups} near-duplicate photos, each kept inside one part). Test accuracy on the "
             f"same {meta.test.photos:,} test photos after each step (one photo is "
             f"{100 / meta.test.photos:.2f} points):",
             "", "| step | test accuracy |", "|---|---|"]
    lines += [f"| {step} | {accuracy * 100:.1f} % |" for step, accuracy in rows(meta)]
    return "\n".join(lines)


def _phase1(meta):
    config = meta.config
    head = f"a hidden layer of {config['hidden_units']}" if config["hidden_units"] else "linear head"
    return (f"phase 1: frozen base{', cached features' if meta.phase1.cached_features else ''}, {head}, "
            f"label smoothing {config['label_smoothing']:g}")


def _phase2(meta):
    start = mobilenetv2.parse_block(meta.phase2.fine_tune_from)
    blocks = f"blocks {start}–16" if isinstance(start, int) else f"the base from {start}"
    slower = meta.phase1.lr / meta.phase2.lr
    return (f"phase 2: {blocks} fine-tuned at a {slower:g}× lower learning rate, BatchNorm frozen"
            + (", augmentation" if meta.config["augment"] else ""))
