"""From whatever a user hands over to the square RGB pixels the model takes.

A path, the bytes of an upload, a PIL image or a NumPy array all go through
:func:`open_image`, which refuses what is not a usable photo with an :class:`ImageError`
that says what is wrong, and normalises the rest: EXIF orientation, transparency,
CMYK, palette, greyscale and 16-bit images all become 8-bit RGB. Training and inference
both call :func:`load_pixels`, so a photo is prepared the same way in both.

Public API: :data:`MIN_SIDE`, :data:`LETTERBOX_FILL`, :class:`ImageError`, :func:`describe`,
:func:`open_image`, :func:`to_rgb`, :func:`letterbox`, :func:`load_pixels`.
"""
import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# A bound against decompression bombs (a small file that expands to gigabytes): larger
# than the photos of common cameras (50 MP), below Pillow's own warning threshold.
MAX_PIXELS = 80_000_000
# Below this there is nothing left to classify (a 1x1 "photo" is a colour, not an object).
MIN_SIDE = 16
# The waste photos were letterboxed to squares with flat grey (114, 114, 114) bars;
# padding other photos the same way keeps them close to what the model was trained on.
LETTERBOX_FILL = 114

# Modes whose samples go beyond 8 bits, with the full-scale value to map onto 255.
_WIDE_MODES = {"I;16": 65535, "I;16B": 65535, "I;16L": 65535, "I;16N": 65535}


class ImageError(ValueError):
    """A photo the course cannot use; the message says why and what to do."""


def describe(source):
    """A short name for a source, for error messages."""
    if isinstance(source, (str, Path)):
        return str(source)
    return {bytes: "the uploaded file", np.ndarray: "the array"}.get(type(source), "the image")


def open_image(source, name=None):
    """Open ``source`` as an 8-bit RGB PIL image, upright, or raise :class:`ImageError`.

    Error messages call it ``name``; by default :func:`describe` names it (its path, for a
    file). A server passes a name of its own: a visitor's upload sits in a temporary file
    whose path means nothing to them.
    """
    name = name or describe(source)
    if isinstance(source, np.ndarray):
        image = _from_array(source)
    elif isinstance(source, Image.Image):
        image = source
    else:
        image = _open_file(source, name)
    _check_size(image, name)
    if getattr(image, "n_frames", 1) > 1:
        raise ImageError(f"{name} is animated ({image.n_frames} frames); use a still photo.")
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"{name} is truncated or corrupt ({error}); re-save or re-download it.") from None
    return to_rgb(image)


def _open_file(source, name):
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        with warnings.catch_warnings():
            # We check the size ourselves, with a message that says what to do.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(source)
    except FileNotFoundError:
        raise ImageError(f"{name} does not exist.") from None
    except IsADirectoryError:
        raise ImageError(f"{name} is a folder, not an image file.") from None
    except Image.DecompressionBombError as error:
        raise ImageError(f"{name} is far too large ({error}); resize it below {MAX_PIXELS // 1_000_000} megapixels.") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image Pillow can read; use a JPEG, PNG, WebP, BMP or TIFF photo.") from None
    except OSError as error:
        raise ImageError(f"{name} could not be read ({error}).") from None


def _from_array(array):
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ImageError(
            f"the array has shape {array.shape} and dtype {array.dtype}; "
            "pass uint8 pixels shaped (height, width), (height, width, 3) or (height, width, 4)."
        )
    return Image.fromarray(array.squeeze(2) if array.ndim == 3 and array.shape[2] == 1 else array)


def _check_size(image, name):
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"{name} is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), more than the "
            f"{MAX_PIXELS // 1_000_000} megapixels accepted; resize it first."
        )
    if min(width, height) < MIN_SIDE:
        raise ImageError(
            f"{name} is only {width}x{height} pixels; a photo needs at least {MIN_SIDE} pixels on each side."
        )


def to_rgb(image):
    """8-bit RGB, whatever the mode: transparency over white, 16-bit scaled, not clipped."""
    if image.mode == "RGB":
        return image
    if image.mode in _WIDE_MODES or image.mode in ("I", "F"):
        return _wide_to_rgb(image)
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _wide_to_rgb(image):
    """Scale 16- and 32-bit greyscale to 0..255 (Pillow's own convert would clip at 255)."""
    values = np.asarray(image, dtype=np.float64)
    if image.mode in _WIDE_MODES:
        full_scale = _WIDE_MODES[image.mode]
    elif image.mode == "F":
        full_scale = 1.0 if values.max(initial=0) <= 1.0 else 255.0
    else:  # "I": 32-bit integers, most often holding 16-bit data
        full_scale = 65535 if values.max(initial=0) > 255 else 255
    grey = np.clip(values * (255.0 / full_scale), 0, 255).round().astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


def letterbox(image, size, fill=LETTERBOX_FILL):
    """Resize ``image`` to fit a ``size`` x ``size`` square, padding the rest with grey."""
    width, height = image.size
    scale = size / max(width, height)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = image.resize(new_size, Image.Resampling.BILINEAR, reducing_gap=3.0)
    if new_size == (size, size):
        return resized
    canvas = Image.new("RGB", (size, size), (fill, fill, fill))
    canvas.paste(resized, ((size - new_size[0]) // 2, (size - new_size[1]) // 2))
    return canvas


def load_pixels(source, size, name=None):
    """``source`` as a (size, size, 3) uint8 array, letterboxed: what the model takes.

    ``name`` is what error messages call it (see :func:`open_image`)."""
    image = open_image(source, name)
    return np.asarray(letterbox(image, size), dtype=np.uint8)
