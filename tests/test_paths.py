"""Where the course finds its photos."""
from lessons import paths


def test_the_sample_photos_are_one_a_class_in_class_order():
    photos = paths.sample_photo_per_class()
    classes = sorted(folder.name for folder in paths.SAMPLE_DATA.iterdir() if folder.is_dir())
    assert [photo.parent.name for photo in photos] == classes
    assert all(photo.is_file() and photo == sorted(photo.parent.glob("*.jpg"))[0] for photo in photos)
