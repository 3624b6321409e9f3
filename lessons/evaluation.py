"""How good is a classifier, and where does it go wrong.

Everything is computed from two arrays, the true labels and the predicted
probabilities, so it works the same for a Keras model, a TFLite file or any other.
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class Report:
    class_names: list
    labels: np.ndarray  # true class per photo
    predicted: np.ndarray  # predicted class per photo
    confidence: np.ndarray  # probability of the predicted class
    files: list

    @property
    def accuracy(self):
        return float(np.mean(self.labels == self.predicted)) if len(self.labels) else float("nan")

    @property
    def confusion(self):
        """confusion[i, j]: photos of class i predicted as class j."""
        n = len(self.class_names)
        return np.bincount(self.labels * n + self.predicted, minlength=n * n).reshape(n, n)

    @property
    def per_class(self):
        """Precision, recall, F1 and support of every class."""
        confusion = self.confusion
        correct = np.diag(confusion).astype(float)
        predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)
        precision = np.divide(correct, predicted, out=np.zeros_like(correct), where=predicted > 0)
        recall = np.divide(correct, actual, out=np.zeros_like(correct), where=actual > 0)
        total = precision + recall
        f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(correct), where=total > 0)
        return {name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                for name, p, r, f, s in zip(self.class_names, precision, recall, f1, actual)}

    @property
    def misclassified(self):
        """The photos the model got wrong, most confident mistakes first."""
        wrong = np.flatnonzero(self.labels != self.predicted)
        wrong = wrong[np.argsort(-self.confidence[wrong], kind="stable")]
        return [{"file": str(self.files[i]) if self.files else int(i), "true": self.class_names[self.labels[i]],
                 "predicted": self.class_names[self.predicted[i]], "confidence": float(self.confidence[i])}
                for i in wrong]

    def to_json(self):
        return {"accuracy": self.accuracy, "photos": int(len(self.labels)), "per_class": self.per_class,
                "confusion": {"classes": list(self.class_names), "matrix": self.confusion.tolist()},
                "misclassified": self.misclassified}


def report(labels, probabilities, class_names, files=None):
    """A :class:`Report` from true labels and an (n, classes) array of probabilities."""
    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=1)
    return Report(class_names=list(class_names), labels=np.asarray(labels, dtype=np.int64),
                  predicted=predicted, confidence=probabilities[np.arange(len(predicted)), predicted],
                  files=list(files) if files is not None else [])


def format_report(rep):
    """Accuracy and the per-class table as text."""
    lines = [f"accuracy {rep.accuracy:.1%} on {len(rep.labels)} photos",
             f"{'class':<14}{'precision':>10}{'recall':>8}{'f1':>7}{'photos':>8}"]
    for name, row in rep.per_class.items():
        lines.append(f"{name:<14}{row['precision']:>10.1%}{row['recall']:>8.1%}{row['f1']:>7.2f}{row['support']:>8}")
    return "\n".join(lines)


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
