"""Photo folders: validation before training, the dataset's hash."""
import shutil

import pytest
from PIL import Image

from lessons import data
from lessons.data import DataError


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


def test_dataset_hash_changes_with_any_byte(folder, sample):
    photo = next((folder / "glass").glob("*.jpg"))
    image = Image.open(photo)
    image.save(photo, quality=80)
    assert data.scan(folder, progress=False).sha256 != sample.sha256
