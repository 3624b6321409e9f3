"""Near-duplicate photos: the perceptual hash and its groups."""
import numpy as np
from PIL import Image, ImageEnhance

from lessons import near_duplicates
from lessons.paths import SAMPLE_DATA


def test_perceptual_hash_sees_through_reencoding_resizing_and_mirroring():
    photo = Image.open(sorted((SAMPLE_DATA / "shoes").glob("*.jpg"))[0]).convert("RGB")
    variants = [photo.resize((180, 180)), photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                ImageEnhance.Brightness(photo).enhance(1.15)]
    hashes = np.array([near_duplicates.perceptual_hash(p) for p in [photo, *variants]], dtype=np.uint64)
    others = np.array([near_duplicates.perceptual_hash(Image.open(f))
                       for f in sorted((SAMPLE_DATA / "glass").glob("*.jpg"))], dtype=np.uint64)
    groups = near_duplicates.near_duplicate_groups(np.concatenate([hashes, others]))
    assert len(set(groups[:4])) == 1, "every variant of the photo belongs to its group"
    assert groups[0] not in groups[4:], "no unrelated photo does"
