"""Every kind of photo a user may hand over: usable ones are normalised, others refused clearly."""
import io

import numpy as np
import pytest
from PIL import Image

from lessons import images
from lessons.images import ImageError
from lessons.paths import SAMPLE_DATA

PHOTO = sorted(SAMPLE_DATA.glob("glass/*.jpg"))[0]


def encode(image, fmt="PNG", **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def test_a_sample_photo_becomes_square_uint8_rgb():
    pixels = images.load_pixels(PHOTO, 96)
    assert pixels.shape == (96, 96, 3) and pixels.dtype == np.uint8
    assert 20 < pixels.mean() < 240


@pytest.mark.parametrize("source", ["path", "str", "bytes", "pil", "array"])
def test_all_source_kinds_give_the_same_pixels(source):
    as_source = {"path": PHOTO, "str": str(PHOTO), "bytes": PHOTO.read_bytes(), "pil": Image.open(PHOTO),
                 "array": np.asarray(Image.open(PHOTO).convert("RGB"))}[source]
    np.testing.assert_array_equal(images.load_pixels(as_source, 64), images.load_pixels(PHOTO, 64))


def test_exif_orientation_is_applied():
    # A 40x20 landscape stored with "rotate 90" in EXIF is a 20x40 portrait photo.
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = image.getexif()
    exif[0x0112] = 6
    opened = images.open_image(encode(image, "JPEG", exif=exif))
    assert opened.size == (20, 40)


def test_non_square_photos_are_letterboxed_with_grey_bars():
    pixels = images.load_pixels(Image.new("RGB", (200, 100), (255, 0, 0)), 100)
    assert tuple(pixels[0, 50]) == (images.LETTERBOX_FILL,) * 3  # bar above
    assert tuple(pixels[50, 50]) == (255, 0, 0)  # the photo in the middle


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "CMYK", "L", "1", "I;16", "I", "F"])
def test_every_mode_becomes_rgb(mode):
    image = Image.new("RGB", (32, 32), (200, 120, 40)).convert(mode)
    opened = images.open_image(encode(image, "TIFF"))
    assert opened.mode == "RGB" and opened.size == (32, 32)


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    ramp = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    pixels = np.asarray(images.open_image(encode(Image.fromarray(ramp))))
    assert pixels.min() == 0 and pixels.max() == 255
    assert 120 < pixels.mean() < 135  # a ramp averages mid-grey; clipping would give ~255


def test_transparency_is_composited_over_white():
    transparent = Image.new("RGBA", (32, 32), (255, 0, 0, 0))
    assert np.asarray(images.open_image(encode(transparent))).min() == 255


def test_tiny_but_usable_photos_are_upscaled():
    pixels = images.load_pixels(Image.new("RGB", (images.MIN_SIDE, images.MIN_SIDE), (0, 255, 0)), 96)
    assert pixels.shape == (96, 96, 3)


@pytest.mark.parametrize("case, expected", [
    ("text", "not an image"),
    ("truncated", "truncated or corrupt"),
    ("one_pixel", "only 1x1 pixels"),
    ("enormous", "100 megapixels"),
    ("bomb", "far too large"),
    ("animated", "animated"),
    ("missing", "does not exist"),
    ("folder", "is a folder"),
    ("bad_array", "pass uint8 pixels"),
])
def test_bad_input_gets_a_clear_error(case, expected, tmp_path):
    if case == "text":
        source = b"hello, I am a text file"
    elif case == "truncated":
        source = PHOTO.read_bytes()[:3000]
    elif case == "one_pixel":
        source = encode(Image.new("RGB", (1, 1)))
    elif case in ("enormous", "bomb"):
        # Tiny files that decode to 100 and 400 megapixels: refused before decoding.
        side = 10000 if case == "enormous" else 20000
        source = encode(Image.new("1", (side, side)), optimize=True)
    elif case == "animated":
        frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 0, 255))]
        buffer = io.BytesIO()
        frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
        source = buffer.getvalue()
    elif case == "missing":
        source = tmp_path / "nope.jpg"
    elif case == "folder":
        source = tmp_path
    else:
        source = np.zeros((32, 32, 3), dtype=np.float64)
    with pytest.raises(ImageError, match=expected):
        images.load_pixels(source, 96)


@pytest.mark.parametrize("content", [b"not a photo", encode(Image.new("RGB", (1, 1)))], ids=["unreadable", "tiny"])
def test_a_name_replaces_the_path_in_error_messages(content, tmp_path):
    upload = tmp_path / "gradio" / "3f9c2e" / "photo.png"  # where a server keeps a visitor's upload
    upload.parent.mkdir(parents=True)
    upload.write_bytes(content)
    with pytest.raises(ImageError) as named:
        images.load_pixels(upload, 96, name="The upload")
    assert str(named.value).startswith("The upload ") and str(tmp_path) not in str(named.value)
    with pytest.raises(ImageError) as default:
        images.load_pixels(upload, 96)
    assert str(default.value).startswith(f"{upload} ")  # by default the message names the file
