"""meta.json and split.json are typed and checked on read: a foreign or damaged record is
refused in one line that names the field."""
import json

import pytest

from lessons import checkpoint, metadata, paths
from lessons.checkpoint import CheckpointError

REFERENCE = paths.REFERENCE_CHECKPOINT


def reference_record():
    return json.loads((REFERENCE / checkpoint.META_FILE).read_text())


def recorded_part(written, record):
    """``written`` without the optional fields (None) that ``record`` did not have."""
    if not isinstance(written, dict):
        return written
    return {k: recorded_part(v, record.get(k)) for k, v in written.items() if k in record or v is not None}


def test_the_shipped_checkpoints_read_back_to_the_same_json():
    for directory in sorted(paths.CHECKPOINTS.glob("*/")):
        record = json.loads((directory / checkpoint.META_FILE).read_text())
        _, meta = checkpoint.read(directory)
        # Nothing lost or changed on the way; what is added is only optional fields left empty.
        assert recorded_part(meta.to_json(), record) == record, directory
        assert metadata.Metadata.from_json(meta.to_json()) == meta
        split = checkpoint.read_split(directory)
        assert split.counts == {part: len(getattr(split, part)) for part in ("train", "val", "test")}


def test_numbers_and_nested_records_become_attributes():
    meta = metadata.Metadata.from_json(reference_record())
    assert isinstance(meta.phase2, metadata.Phase) and isinstance(meta.exports["int8"], metadata.Export)
    assert meta.accuracy_of("int8") == (meta.exports["int8"].test_accuracy, meta.exports["int8"].test_photos)
    assert meta.accuracy_of("fp32") == (meta.test.accuracy, meta.test.photos)  # not exported: the Keras record


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(format_version=2), "format_version 2; this course reads version 1"),
    (lambda r: r.pop("format_version"), "format_version None"),
    (lambda r: r.pop("test"), "lacks test"),
    (lambda r: r["phase2"].pop("seconds"), "lacks phase2.seconds"),
    (lambda r: r["phase1"].update(test_acuracy=0.5), "unknown field(s) phase1.test_acuracy"),
    (lambda r: r.update(image_size="224"), "field image_size should be of type int, not '224'"),
    (lambda r: r.update(image_size=True), "field image_size should be of type int"),
    (lambda r: r["exports"]["int8"].update(bytes=None), "field exports.int8.bytes should be of type int"),
    (lambda r: r["test"].update(accuracy="93 %"), "field test.accuracy should be a number"),
])
def test_a_record_not_of_this_course_is_refused_naming_the_field(tmp_path, change, message):
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / checkpoint.LABELS_FILE).write_text((REFERENCE / checkpoint.LABELS_FILE).read_text())
    record = reference_record()
    change(record)
    (copy / checkpoint.META_FILE).write_text(json.dumps(record))
    with pytest.raises(CheckpointError) as error:
        checkpoint.read(copy)
    assert message in str(error.value) and str(copy / checkpoint.META_FILE) in str(error.value)
    assert "\n" not in str(error.value)


def test_a_damaged_split_is_refused(tmp_path):
    record = json.loads((REFERENCE / checkpoint.SPLIT_FILE).read_text())
    record["test"] = "all of them"
    (tmp_path / checkpoint.SPLIT_FILE).write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="field test should be a list"):
        checkpoint.read_split(tmp_path)


def test_an_export_is_recorded_beside_the_others(tmp_path):
    meta = metadata.Metadata.from_json(reference_record())
    fp32 = metadata.Export("model_fp32.tflite", 9_000_000, 0.9, 0.99, 661)
    updated = meta.with_export("fp32", fp32)
    assert updated.exports == {**meta.exports, "fp32": fp32} and "fp32" not in meta.exports
    assert metadata.Metadata.from_json(json.loads(json.dumps(updated.to_json()))) == updated
