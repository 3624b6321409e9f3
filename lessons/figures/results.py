"""Pictures of a training run and of how good its model is, each a matplotlib Figure.

The learning curve of both phases from a checkpoint's history (:func:`learning_curve_figure`),
the accuracy on each class with its interval (:func:`per_class_figure`), the confusion
matrix (:func:`confusion_figure`) and the photos the model got wrong
(:func:`misclassified_figure`), letterboxed as the model saw them; and how accuracy grows
with the photos per class, frozen base against fine-tuning (:func:`data_size_figure`). The numbers are those of
a :class:`lessons.evaluation.Report`.

Public API: :func:`phase_boundary`, :func:`learning_curve_figure`, :func:`per_class_figure`,
:func:`confusion_figure`, :func:`misclassified_figure`, :func:`data_size_figure`.
"""
import numpy as np

from lessons import data_size, images


def phase_boundary(history):
    """The last epoch of phase 1 in a checkpoint's history (None if it has no phase 2)."""
    phase1 = [row["epoch"] for row in history if row["phase"] == 1]
    has_phase2 = any(row["phase"] == 2 for row in history)
    return max(phase1) if phase1 and has_phase2 else None


def learning_curve_figure(history, title="Learning curve"):
    """Loss and accuracy per epoch over both phases, the boundary between them marked.

    ``history`` is a checkpoint's history.json: rows {epoch, phase, loss, accuracy,
    val_loss, val_accuracy}.
    """
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in history]
    boundary = phase_boundary(history)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        ax.plot(epochs, [row[metric] for row in history], "o-", markersize=3, label="training")
        ax.plot(epochs, [row[f"val_{metric}"] for row in history], "s-", markersize=3, label="validation")
        if boundary is not None:
            ax.axvline(boundary + 0.5, color="grey", linestyle="--")
            ax.text(boundary + 0.5, 1.01, "  phase 2: fine-tuning →", transform=ax.get_xaxis_transform(),
                    fontsize=8, color="grey")
            ax.text(boundary + 0.5, 1.01, "← phase 1: frozen base  ", transform=ax.get_xaxis_transform(),
                    fontsize=8, color="grey", ha="right")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend(fontsize=8)
    axes[1].set_ylim(0, 1)
    fig.suptitle(title, y=1.04)
    fig.tight_layout()
    return fig


def per_class_figure(reports):
    """Accuracy on each class's photos (its recall), one bar per ``{name: Report}``, with
    its 95 % Wilson interval as an error bar: a class of a few dozen test photos gives a
    coarse figure, and the bars say how coarse."""
    import matplotlib.pyplot as plt

    names = list(reports)
    classes = reports[names[0]].class_names
    height = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.35 * len(classes) * max(1, len(names) / 2)))
    y = np.arange(len(classes))
    for i, name in enumerate(names):
        rows = [reports[name].per_class[c] for c in classes]
        recall = np.array([row["recall"] for row in rows])
        error = [recall - [row["recall_low"] for row in rows], [row["recall_high"] for row in rows] - recall]
        ax.barh(y + i * height, recall, height, xerr=error, capsize=2, error_kw={"elinewidth": 0.8},
                label=f"{name} ({reports[name].accuracy:.0%} overall)")
    ax.set_yticks(y + height * (len(names) - 1) / 2, classes)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the class's test photos classified right (bars: 95 % Wilson interval)")
    support = sorted({row["support"] for row in reports[names[0]].per_class.values()})
    photos = f"{support[0]}" if len(support) == 1 else f"{support[0]}–{support[-1]}"
    ax.set_title(f"Accuracy per class ({photos} test photos a class)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def confusion_figure(rep, normalize=True):
    """A matplotlib figure of the confusion matrix (rows: true class; columns: predicted)."""
    import matplotlib.pyplot as plt

    matrix = rep.confusion.astype(float)
    if normalize:
        matrix = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    n = len(rep.class_names)
    fig, ax = plt.subplots(figsize=(1 + 0.6 * n, 0.8 + 0.55 * n))
    ax.imshow(matrix, cmap="Blues", vmin=0, vmax=matrix.max() or 1)
    ax.set_xticks(range(n), rep.class_names, rotation=45, ha="right")
    ax.set_yticks(range(n), rep.class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix (accuracy {rep.accuracy:.1%})")
    for (i, j), value in np.ndenumerate(matrix):
        if rep.confusion[i, j]:
            text = f"{value:.0%}" if normalize else f"{int(value)}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if value > 0.5 * matrix.max() else "black")
    fig.tight_layout()
    return fig


def misclassified_figure(rep, limit=12, columns=4, image_size=160):
    """The photos a :class:`lessons.evaluation.Report` got wrong, most confident first."""
    import matplotlib.pyplot as plt

    mistakes = rep.misclassified[:limit]
    if not mistakes:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, f"no mistakes on these {len(rep.labels)} photos", ha="center", va="center")
        return fig
    rows = -(-len(mistakes) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.4 * columns, 2.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, mistake in zip(axes.flat, mistakes):
        ax.imshow(images.load_pixels(mistake["file"], image_size))
        ax.set_title(f"{mistake['true']} → {mistake['predicted']}\n{mistake['confidence']:.0%} sure", fontsize=9)
    wrong = len(rep.misclassified)
    fig.suptitle(f"{wrong} of {len(rep.labels)} photos misclassified"
                 + (f" (the {len(mistakes)} most confident mistakes)" if wrong > len(mistakes) else ""))
    fig.tight_layout()
    return fig


def data_size_figure(curve, num_classes=None):
    """Accuracy against training photos per class, one line per strategy, ± one standard
    deviation over the runs shaded; chance level dotted when ``num_classes`` is given."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for strategy in data_size.STRATEGIES:
        mean, spread = curve.mean(strategy), curve.spread(strategy)
        ax.plot(curve.photos_per_class, mean, "o-", label=f"{strategy} ({curve.trainable[strategy]:,} trained)")
        ax.fill_between(curve.photos_per_class, mean - spread, mean + spread, alpha=0.2)
    if num_classes:
        ax.axhline(1 / num_classes, color="grey", linestyle=":", label="chance")
    ax.set_xscale("log")
    ax.set_xticks(curve.photos_per_class, [str(n) for n in curve.photos_per_class])
    ax.minorticks_off()
    ax.set_ylim(0, 1)
    ax.set_xlabel("training photos per class")
    ax.set_ylabel(f"accuracy on the same {curve.test_photos} test photos")
    ax.set_title(f"Frozen base + head vs fine-tuning from {curve.fine_tune_from}")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
