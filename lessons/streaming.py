"""Photos read from disk batch by batch, so that memory does not grow with the photo set.

Loading a whole split into one array costs about 150 KB a photo at 224 px: 100,000 photos
would need 15 GB before the first prediction. A :class:`PhotoStream` keeps the list of
file names and decodes only the next few batches (with the course's own loader,
:func:`lessons.images.load_pixels`, on a pool of threads, while the model works on the
batch in hand), so its memory is bounded by the batch size and the read-ahead. It gives
the batches an in-memory array gave: the same pixels, in the same order.

It is plain Python, not a ``tf.data`` pipeline, because evaluating a TFLite checkpoint
needs no TensorFlow at all, and importing TensorFlow costs more memory than the photos of
a few thousand. ``python -m lessons evaluate`` reads its photos this way;
``benchmarks/evaluate_memory.py`` measures both ways.

A photo that cannot be read any more (changed or removed since it was listed) stops the
run with an error naming it, or, with ``skip_bad=True``, is left out and listed.

Public API: :class:`PhotoStream`.
"""
import collections
import concurrent.futures
import os

import numpy as np
from tqdm.auto import tqdm

from lessons import data, images


class PhotoStream:
    """The photos at ``paths`` (with their integer ``labels``), in batches of model input.

    ``skip_bad``: leave out a photo that fails to load and record it in :attr:`skipped`,
    instead of raising :class:`lessons.data.DataError` naming it.
    """

    def __init__(self, paths, size, labels=None, skip_bad=False):
        self.paths = [str(p) for p in paths]
        self.size = size
        self.labels = np.zeros(len(self.paths), np.int64) if labels is None else np.asarray(labels, np.int64)
        self.skip_bad = skip_bad
        self.skipped = []

    def __len__(self):
        return len(self.paths)

    def _load(self, index):
        """Photo ``index`` as pixels, or None when it fails and is to be skipped."""
        try:
            return images.load_pixels(self.paths[index], self.size)
        except (OSError, images.ImageError) as error:
            if not self.skip_bad:
                raise data.DataError(f"{self.paths[index]} could not be read during the run: {error} (pass "
                                     "--skip-bad-files to leave unreadable photos out and list them)") from error
            return None

    def batches(self, batch_size=64, read_ahead=2):
        """``(indices, pixels, labels)`` of the photos that loaded, batch by batch, in order.

        Up to ``read_ahead`` batches after the one in hand are decoding on the thread pool
        meanwhile: enough to keep the model busy, and all the memory the photos take.
        """
        starts = iter(range(0, len(self), batch_size))
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
            pending = collections.deque()

            def submit_next():
                start = next(starts, None)
                if start is not None:
                    indices = np.arange(start, min(start + batch_size, len(self)))
                    pending.append((indices, [pool.submit(self._load, i) for i in indices]))

            for _ in range(read_ahead + 1):
                submit_next()
            while pending:
                indices, futures = pending.popleft()
                submit_next()
                loaded = [future.result() for future in futures]
                kept = np.array([pixels is not None for pixels in loaded])
                self.skipped += [self.paths[i] for i in indices[~kept]]
                if kept.any():
                    yield indices[kept], np.stack([p for p in loaded if p is not None]), self.labels[indices[kept]]

    def predict(self, predict_batch, batch_size=64, progress=True):
        """(indices, labels, probabilities) of every photo that loaded, in order; ``predict_batch`` maps
        a uint8 batch to probabilities (``Classifier.predict_pixels``, or ``model.with_flip`` of it)."""
        found, labels, probabilities = [], [], []
        with tqdm(total=len(self), desc=f"predicting at {self.size}px", unit="photo", disable=not progress,
                  leave=False) as bar:
            for indices, pixels, batch_labels in self.batches(batch_size):
                probabilities.append(predict_batch(pixels))
                found.append(indices)
                labels.append(batch_labels)
                bar.update(len(pixels))
        if not found:
            raise data.DataError(f"none of the {len(self)} photos could be read"
                                 + (f" (first: {self.skipped[0]})." if self.skipped else "."))
        return np.concatenate(found), np.concatenate(labels), np.concatenate(probabilities)
