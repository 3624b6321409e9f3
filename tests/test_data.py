"""Photo folders: validation before training, near-duplicates, the split."""
import shutil

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from lessons import data
from lessons.data import DataError
from lessons.paths import SAMPLE_DATA


@pytest.fixture(scope="module")
def sample():
    return data.scan(SAMPLE_DATA, progress=False)


@pytest.fixture
def folder(tmp_path):
    """A writable copy of data/sample."""
    return shutil.copytree(SAMPLE_DATA, tmp_path / "photos")


def test_scan_indexes_every_class_folder(sample):
    assert sample.class_names == ("battery", "biological", "cardboard", "clothes", "glass", "metal", "paper",
                                  "plastic", "shoes", "trash")
    assert len(sample) == 100 and set(sample.class_counts().values()) == {10}
    # SOURCE.md and manifest.csv beside the class folders are not photos of a class.
    assert all("/" in f for f in sample.files)


def test_scan_reports_every_bad_file_at_once(folder):
    (folder / "glass" / "notes.txt").write_text("not a photo")
    photo = next((folder / "paper").glob("*.jpg"))
    photo.write_bytes(photo.read_bytes()[:2000])
    (folder / "metal" / "empty.jpg").write_bytes(b"")
    with pytest.raises(DataError) as error:
        data.scan(folder, progress=False)
    message = str(error.value)
    for name in ("glass/notes.txt", f"paper/{photo.name}", "metal/empty.jpg", "--skip-bad-files"):
        assert name in message
    # Three bad files, and paper is left with 9 usable photos: too few, reported too.
    assert "4 problem(s)" in message and "class 'paper' has 9 usable photo(s)" in message


def test_skip_bad_files_leaves_them_out_and_reports_each(folder, capsys):
    (folder / "glass" / "notes.txt").write_text("not a photo")
    dataset = data.scan(folder, skip_bad=True, progress=False)
    assert len(dataset) == 100 and dataset.skipped[0][0] == "glass/notes.txt"
    assert "skipped glass/notes.txt" in capsys.readouterr().err


def test_hidden_files_are_ignored(folder):
    (folder / "glass" / ".DS_Store").write_bytes(b"\0\1")
    assert len(data.scan(folder, progress=False)) == 100


@pytest.mark.parametrize("problem, expected", [
    ("missing", "does not exist"),
    ("one_class", "at least two"),
    ("empty_class", "class 'empty' has 0 usable photo(s)"),
    ("too_few", "class 'trash' has 3 usable photo(s)"),
])
def test_folder_problems(folder, problem, expected):
    if problem == "missing":
        folder = folder / "nowhere"
    elif problem == "one_class":
        for d in list(folder.iterdir()):
            if d.is_dir() and d.name != "glass":
                shutil.rmtree(d)
    elif problem == "empty_class":
        (folder / "empty").mkdir()
    else:
        for f in sorted((folder / "trash").glob("*.jpg"))[3:]:
            f.unlink()
    with pytest.raises(DataError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        data.scan(folder, progress=False)


def test_perceptual_hash_sees_through_reencoding_resizing_and_mirroring():
    photo = Image.open(sorted((SAMPLE_DATA / "shoes").glob("*.jpg"))[0]).convert("RGB")
    variants = [photo.resize((180, 180)), photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                ImageEnhance.Brightness(photo).enhance(1.15)]
    hashes = np.array([data.perceptual_hash(p) for p in [photo, *variants]], dtype=np.uint64)
    others = np.array([data.perceptual_hash(Image.open(f)) for f in sorted((SAMPLE_DATA / "glass").glob("*.jpg"))],
                      dtype=np.uint64)
    groups = data.near_duplicate_groups(np.concatenate([hashes, others]))
    assert len(set(groups[:4])) == 1, "every variant of the photo belongs to its group"
    assert groups[0] not in groups[4:], "no unrelated photo does"


def test_split_is_stratified_complete_and_deterministic(sample):
    first, again, other = data.split(sample, seed=3), data.split(sample, seed=3), data.split(sample, seed=4)
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
    result = data.split(dataset, seed=0)
    part_of = {i: name for name in ("train", "val", "test") for i in getattr(result, name)}
    for photo in originals:
        pair = [dataset.files.index(f"plastic/{prefix}{photo.name}") for prefix in ("", "copy_")]
        assert part_of[pair[0]] == part_of[pair[1]]
    assert result.near_duplicate_groups >= 5


def test_a_split_survives_its_json_record(sample):
    result = data.split(sample, seed=1)
    again = data.Split.from_json(result.to_json(sample), sample)
    np.testing.assert_array_equal(result.test, again.test)
    assert again.summary() == result.summary()


def test_dataset_hash_changes_with_any_byte(folder, sample):
    photo = next((folder / "glass").glob("*.jpg"))
    image = Image.open(photo)
    image.save(photo, quality=80)
    assert data.scan(folder, progress=False).sha256 != sample.sha256


def test_batches_keep_order_for_equal_seeds():
    labels = np.arange(20) % 4
    a = [y.numpy() for _, y in data.batches(np.zeros((20, 2)), labels, 4, batch_size=5, shuffle_seed=7)]
    b = [y.numpy() for _, y in data.batches(np.zeros((20, 8, 8, 3)), labels, 4, batch_size=5, shuffle_seed=7)]
    np.testing.assert_array_equal(np.concatenate(a), np.concatenate(b))
