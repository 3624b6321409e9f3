"""The split: stratified, deterministic, near-duplicates kept together, and its JSON record."""
import dataclasses

import numpy as np
from PIL import Image

from lessons import atomic, checkpoint, data, metadata, splits


def test_split_is_stratified_complete_and_deterministic(sample):
    first, again, other = splits.split(sample, seed=3), splits.split(sample, seed=3), splits.split(sample, seed=4)
    parts = [first.train, first.val, first.test]
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(sample)))
    for a, b in zip(parts, [again.train, again.val, again.test]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.test, other.test)
    assert set(sample.class_counts(first.test).values()) == {2}  # 15 % of 10 photos, every class


def test_near_duplicates_never_straddle_two_parts(folder):
    # Plant re-encoded and resized copies of five photos, as real photo sets contain.
    originals = sorted((folder / "plastic").glob("*.jpg"))[:5]
    for photo in originals:
        Image.open(photo).resize((200, 200)).save(photo.with_name("copy_" + photo.name), quality=70)
    dataset = data.scan(folder, progress=False)
    result = splits.split(dataset, seed=0)
    part_of = {i: name for name in ("train", "val", "test") for i in getattr(result, name)}
    for photo in originals:
        pair = [dataset.files.index(f"plastic/{prefix}{photo.name}") for prefix in ("", "copy_")]
        assert part_of[pair[0]] == part_of[pair[1]]
    assert result.near_duplicate_groups >= 5


def test_a_split_survives_its_json_record(sample, tmp_path):
    result = splits.split(sample, seed=1)
    atomic.write_json(tmp_path / checkpoint.SPLIT_FILE, dataclasses.asdict(result.record(sample)))
    again = checkpoint.read_split(tmp_path)
    for part in ("train", "val", "test"):
        assert getattr(again, part) == [sample.files[i] for i in getattr(result, part)]
    assert metadata.SplitSummary(**{f.name: getattr(again, f.name) for f in dataclasses.fields(metadata.SplitSummary)}) \
        == result.summary()
