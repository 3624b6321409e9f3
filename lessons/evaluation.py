"""How good is a classifier, and where does it go wrong.

Everything is computed from two arrays, the true labels and the predicted
probabilities, so it works the same for a Keras model, a TFLite file or any other.

A class's accuracy on a few dozen test photos is a coarse estimate: each one carries a
95 % Wilson interval (:func:`wilson_interval`). Averaging per-class figures is not the
same as the accuracy over all photos when classes differ in size (:func:`averages`).

Public API: :class:`Report`, :func:`report`, :func:`wilson_interval`, :func:`averages`,
:func:`nearest_neighbour_accuracy`, :func:`format_report`.
"""
from dataclasses import dataclass

import numpy as np

from lessons.text_table import text_table


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
        """Precision, recall, F1 and support of every class, and the 95 % Wilson interval of
        its recall (the share of the class's photos classified right: its accuracy)."""
        confusion = self.confusion
        correct = np.diag(confusion).astype(float)
        predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)
        precision = np.divide(correct, predicted, out=np.zeros_like(correct), where=predicted > 0)
        recall = np.divide(correct, actual, out=np.zeros_like(correct), where=actual > 0)
        total = precision + recall
        f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(correct), where=total > 0)
        low, high = wilson_interval(correct, actual)
        return {name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s),
                       "recall_low": float(lo), "recall_high": float(hi)}
                for name, p, r, f, s, lo, hi in zip(self.class_names, precision, recall, f1, actual, low, high)}

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


def wilson_interval(successes, trials, z=1.96):
    """(low, high): the Wilson score interval of a proportion ``successes / trials``.

    With z = 1.96 it is a 95 % interval. Unlike p ± z·sqrt(p(1 − p)/n) it stays inside
    [0, 1] and is not zero-width at 0 % or 100 %, which matters for a class of a few
    photos that the model gets all right. Works elementwise on arrays; no trials: (0, 1).
    """
    successes = np.asarray(successes, dtype=float)
    trials = np.asarray(trials, dtype=float)
    n = np.maximum(trials, 1)
    p = successes / n
    denominator = 1 + z ** 2 / n
    centre = (p + z ** 2 / (2 * n)) / denominator
    half = z * np.sqrt(p * (1 - p) / n + z ** 2 / (4 * n ** 2)) / denominator
    low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    return np.where(trials > 0, low, 0.0), np.where(trials > 0, high, 1.0)


def averages(per_class):
    """``{"micro": ..., "macro": ...}`` of the per-class recalls (a report's or a meta.json's).

    Micro: every photo counts once, the accuracy over all photos (recalls weighted by the
    classes' photo counts). Macro: every class counts once, the plain mean of the recalls.
    They agree when every class has as many photos.
    """
    recall = np.array([row["recall"] for row in per_class.values()])
    support = np.array([row["support"] for row in per_class.values()])
    return {"micro": float(np.sum(recall * support) / np.sum(support)), "macro": float(np.mean(recall))}


def nearest_neighbour_accuracy(features, labels):
    """Share of examples whose most similar OTHER example (cosine similarity of their
    feature vectors) has the same label: a one-nearest-neighbour classifier, each example
    left out in turn. Tells features that group a class together from ones that do not."""
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    unit = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    return float(np.mean(labels[similarity.argmax(axis=1)] == labels))


def format_report(rep):
    """Accuracy and the per-class table as text."""
    rows = [{"class": name, "precision": row["precision"], "recall": row["recall"],
             "95% interval": f"{row['recall_low']:.0%}–{row['recall_high']:.0%}", "f1": row["f1"],
             "photos": row["support"]} for name, row in rep.per_class.items()]
    return (f"accuracy {rep.accuracy:.1%} on {len(rep.labels)} photos\n"
            + text_table(rows, {"precision": ".1%", "recall": ".1%", "f1": ".2f"}))
