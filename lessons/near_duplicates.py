"""Near-duplicate photos: a perceptual hash per photo, and the groups of photos that nearly match.

Real photo sets hold the same object more than once: a re-encoded or resized copy, a crop, a
mirror image, a second shot. If one copy trains and the other is tested, the test measures
memory, not generalisation. :func:`perceptual_hash` gives each photo 64 bits that such copies
nearly share, and :func:`near_duplicate_groups` links photos whose bits differ in at most
:data:`NEAR_DUPLICATE_BITS`, so that :func:`lessons.splits.split` keeps each group in one part.

Public API: :data:`NEAR_DUPLICATE_BITS`, :func:`perceptual_hash`, :func:`near_duplicate_groups`.
"""
import numpy as np

from lessons import images

# Two photos whose 64-bit perceptual hashes differ in at most this many bits (either one
# mirrored) count as near-duplicates: re-encodings, crops, the same object shot twice.
NEAR_DUPLICATE_BITS = 8


def _dct_matrix(n):
    k = np.arange(n)
    matrix = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n))
    matrix[0] /= np.sqrt(2)
    return matrix * np.sqrt(2 / n)


_DCT32 = _dct_matrix(32)
# Mirroring an image left-right flips the sign of every odd horizontal frequency.
_MIRROR_SIGNS = np.where(np.arange(8) % 2, -1.0, 1.0)[None, :]


def perceptual_hash(image):
    """The 64-bit DCT hash of ``image`` and of its mirror image, as two unsigned ints.

    Flat borders (letterbox bars, plain backgrounds) are cut off first so that the hash
    describes the object, not the padding. The rest is shrunk to 32x32 grey, transformed
    to frequencies, and each of the 8x8 lowest frequencies gives one bit: above or below
    their median. Re-encoding, resizing or slight edits barely move low frequencies, so
    copies of a photo get nearly the same bits.
    """
    grey = image.convert("L")
    grey.thumbnail((256, 256))
    grey = _trim_flat_borders(grey).resize((32, 32), images.Image.Resampling.LANCZOS)
    low = (_DCT32 @ np.asarray(grey, dtype=np.float64) @ _DCT32.T)[:8, :8]
    return tuple(_bits(block) for block in (low, low * _MIRROR_SIGNS))


def _trim_flat_borders(grey, min_std=4.0):
    pixels = np.asarray(grey, dtype=np.float64)
    rows = np.flatnonzero(pixels.std(axis=1) > min_std)
    cols = np.flatnonzero(pixels.std(axis=0) > min_std)
    if len(rows) < 8 or len(cols) < 8:  # (nearly) blank: nothing to trim to
        return grey
    return grey.crop((cols[0], rows[0], cols[-1] + 1, rows[-1] + 1))


def _bits(block):
    packed = np.packbits((block > np.median(block)).ravel())
    return int.from_bytes(packed.tobytes(), "big")


def near_duplicate_groups(hashes, max_bits=NEAR_DUPLICATE_BITS):
    """A group id per photo: photos linked by a chain of near-duplicate pairs share one."""
    plain, mirrored = hashes[:, 0], hashes[:, 1]
    parent = np.arange(len(hashes))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(hashes) - 1):
        distance = np.minimum(np.bitwise_count(plain[i + 1:] ^ plain[i]),
                              np.bitwise_count(mirrored[i + 1:] ^ plain[i]))
        for j in np.flatnonzero(distance <= max_bits) + i + 1:
            parent[find(j)] = find(i)
    return np.array([find(i) for i in range(len(hashes))])


