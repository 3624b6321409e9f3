"""What a checkpoint records about itself (``meta.json``, ``split.json``), typed and checked on read.

Every reader gets attributes, not dictionary keys: ``meta.phase2.test_accuracy``, a typo
fails at once, and a ``meta.json`` that is not of this course (a missing field, a wrong
type, an unknown ``format_version``) is refused in one line naming what is wrong.

Public API: :data:`FORMAT_VERSION`, :class:`Metadata` and its parts (:class:`Weights`,
:class:`DataSource`, :class:`SplitSummary`, :class:`Phase`, :class:`HeldOut`,
:class:`Replicas`, :class:`Export`), :class:`SplitRecord` (``split.json``), :class:`MetadataError`.
"""
import dataclasses
import types
import typing
from dataclasses import dataclass, field

FORMAT_VERSION = 1


class MetadataError(ValueError):
    """A ``meta.json`` that does not follow this format; the message names the field."""


@dataclass(frozen=True)
class Weights:
    source: str  # "none", "imagenet", or a .weights.h5 path relative to the project
    sha256: str | None  # of that file, so a checkpoint names exactly what it started from


@dataclass(frozen=True)
class DataSource:
    root: str  # relative to the project when inside it
    sha256: str  # of the sorted list of files and their contents (lessons.data.scan)
    photos: int
    classes: int
    skipped: list[str]  # unreadable photos left out (--skip-bad-files)


@dataclass(frozen=True)
class SplitSummary:
    seed: int
    val_fraction: float
    test_fraction: float
    counts: dict[str, int]  # photos in train, val and test
    near_duplicate_groups: int
    photos_in_groups: int
    cross_class_groups: list[list[str]]


@dataclass(frozen=True)
class SplitRecord(SplitSummary):
    """``split.json``: the summary, and which photo (``class/file``) went to which part."""

    train: list[str]
    val: list[str]
    test: list[str]

    @classmethod
    def from_json(cls, record):
        return _typed(cls, record, "")


@dataclass(frozen=True)
class Phase:
    """One training phase: its epochs, its best validation epoch, its time, its test scores
    (recorded, never used to choose anything)."""

    epochs_run: int
    best_epoch: int | None
    best_val_accuracy: float | None
    best_val_loss: float | None
    lr: float
    seconds: float
    test_accuracy: float
    test_accuracy_flip: float  # averaged with the mirror image
    cached_features: bool | None = None  # phase 1 only
    fine_tune_from: str | None = None  # phase 2 only: the block it unfroze from
    first_trainable_layer: str | None = None  # phase 2 only


@dataclass(frozen=True)
class HeldOut:
    accuracy: float  # of the checkpoint as saved (with the flip when test_time_flip)
    photos: int
    test_time_flip: bool
    per_class: dict[str, dict]  # precision, recall, F1, support of each class (lessons.evaluation)


@dataclass(frozen=True)
class Replicas:
    """How many replicas trained in sync, and the settings they scaled (lessons.distribute)."""

    in_sync: int
    global_batch: int
    phase1_lr: float
    phase2_lr: float


@dataclass(frozen=True)
class Export:
    """A TFLite file written by ``python -m lessons export``, checked on the test photos."""

    file: str
    bytes: int
    test_accuracy: float
    agreement_with_keras: float  # share of test photos given the Keras model's label
    test_photos: int
    calibration_photos: int | None = None  # INT8 only


@dataclass(frozen=True)
class Metadata:
    """The whole of ``meta.json``; ``training.train`` writes it, everything else reads it."""

    format_version: int
    backbone: str
    alpha: float
    image_size: int
    input: str  # what the model takes, in words
    test_time_flip: bool  # whether predictions average the photo with its mirror image
    weights: Weights
    data: DataSource
    split: SplitSummary
    phase1: Phase
    phase2: Phase
    test: HeldOut
    trainable_parameters: int
    config: dict  # every TrainConfig setting (its fields may grow, so a plain record)
    command: str
    versions: dict[str, str]
    replicas: Replicas | None = None  # recorded since training ran under tf.distribute
    exports: dict[str, Export] = field(default_factory=dict)

    def to_json(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, record):
        """The checked :class:`Metadata` of a parsed ``meta.json``; :class:`MetadataError` if not."""
        if not isinstance(record, dict):
            raise MetadataError("must be a JSON object")
        version = record.get("format_version")
        if version != FORMAT_VERSION:
            raise MetadataError(f"has format_version {version!r}; this course reads version {FORMAT_VERSION} "
                                "(a checkpoint of another project, or of a newer version of this course: "
                                "update the course, or train again with `python -m lessons train`)")
        return _typed(cls, record, "")

    def with_export(self, kind, export):
        """A copy that also records ``export`` under ``kind`` (``"int8"``, ...)."""
        return dataclasses.replace(self, exports={**self.exports, kind: export})

    def accuracy_of(self, runtime):
        """``(test accuracy, photos)`` of the file served as ``runtime``: an export's own record,
        else the Keras model's."""
        if runtime in self.exports:
            return self.exports[runtime].test_accuracy, self.exports[runtime].test_photos
        return self.test.accuracy, self.test.photos


def _typed(kind, value, where):
    """``value`` (parsed JSON) checked against the type ``kind``, dataclasses built on the way."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _typed(next(a for a in args if a is not type(None)), value, where)
    if dataclasses.is_dataclass(kind):
        return _record(kind, value, where)
    if origin is dict:
        _expect(isinstance(value, dict), where, "an object", value)
        return {k: _typed(args[1], v, f"{where}.{k}") for k, v in value.items()} if args else value
    if origin is list:
        _expect(isinstance(value, list), where, "a list", value)
        return [_typed(args[0], v, f"{where}[{i}]") for i, v in enumerate(value)]
    if kind is float:
        _expect(isinstance(value, (int, float)) and not isinstance(value, bool), where, "a number", value)
        return float(value)
    _expect(isinstance(value, kind) and (kind is bool or not isinstance(value, bool)), where,
            f"of type {kind.__name__}", value)
    return value


def _record(kind, value, where):
    _expect(isinstance(value, dict), where or "it", "an object", value)
    hints = typing.get_type_hints(kind)
    fields = {f.name: f for f in dataclasses.fields(kind)}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise MetadataError(f"has unknown field(s) {', '.join(_path(where, n) for n in unknown)}")
    required = [n for n, f in fields.items()
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    missing = [n for n in required if n not in value]
    if missing:
        raise MetadataError(f"lacks {', '.join(_path(where, n) for n in missing)}")
    return kind(**{n: _typed(hints[n], v, _path(where, n)) for n, v in value.items()})


def _path(where, name):
    return f"{where}.{name}" if where else name


def _expect(ok, where, what, value):
    if not ok:
        raise MetadataError(f"field {where} should be {what}, not {value!r}")
