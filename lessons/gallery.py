"""Pictures of the data and of a training run, each a matplotlib Figure.

Before training: how many photos each class has (:func:`class_counts_figure`), what they
look like (:func:`photo_grid_figure`) and what augmentation does to one
(:func:`augmentation_figure`). After: the learning curve of both phases from a
checkpoint's history (:func:`learning_curve_figure`), the accuracy on each class with its
interval (:func:`per_class_figure`) and the photos the model got wrong
(:func:`misclassified_figure`). Photos are shown as the model sees them, letterboxed to a
square by :func:`lessons.images.load_pixels`.
"""
import numpy as np

from lessons import images


def class_counts_figure(counts_by_part, title="Photos per class"):
    """Stacked bars: ``{part: {class: photos}}``, e.g. the train / val / test counts."""
    import matplotlib.pyplot as plt

    parts = list(counts_by_part)
    classes = list(counts_by_part[parts[0]])
    fig, ax = plt.subplots(figsize=(1.5 + 0.7 * len(classes), 3.8))
    bottom = np.zeros(len(classes))
    for part in parts:
        values = np.array([counts_by_part[part][name] for name in classes])
        ax.bar(classes, values, bottom=bottom, label=f"{part} ({values.sum()})")
        bottom += values
    for x, total in enumerate(bottom):
        ax.text(x, total, f"{total:.0f}", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("photos")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def photo_grid_figure(dataset, per_class=4, image_size=96):
    """One row per class of ``dataset`` (a :class:`lessons.data.Dataset`), its first photos."""
    import matplotlib.pyplot as plt

    rows = len(dataset.class_names)
    fig, axes = plt.subplots(rows, per_class, figsize=(1.3 * per_class + 1, 1.3 * rows), squeeze=False)
    for label, name in enumerate(dataset.class_names):
        chosen = np.flatnonzero(dataset.labels == label)[:per_class]
        for column, ax in enumerate(axes[label]):
            if column < len(chosen):
                ax.imshow(images.load_pixels(dataset.paths([chosen[column]])[0], image_size))
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(False)
        axes[label, 0].set_ylabel(name, rotation=0, ha="right", va="center")
    fig.suptitle(f"The first {per_class} photos of each class")
    fig.tight_layout()
    return fig


def augmentation_figure(pixels, augment, copies=7):
    """One photo (size x size x 3, 0..255) and ``copies`` random augmentations of it."""
    import matplotlib.pyplot as plt

    batch = np.repeat(pixels[None].astype("float32"), copies, axis=0)
    augmented = np.clip(np.asarray(augment(batch, training=True)), 0, 255).astype("uint8")
    columns = 4
    rows = -(-(copies + 1) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.3 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i <= copies:
            ax.imshow(pixels if i == 0 else augmented[i - 1])
            ax.set_title("original" if i == 0 else f"augmented {i}", fontsize=9)
    fig.suptitle("What the network sees of one photo, epoch after epoch")
    fig.tight_layout()
    return fig


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
