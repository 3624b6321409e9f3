"""Photos read from disk batch by batch, so that memory does not grow with the photo set.

Loading a whole split into one array costs about 150 KB a photo at 224 px: 100,000 photos
would need 15 GB before the first prediction. A :class:`PhotoStream` keeps the list of
file names and decodes only the next few batches (with the course's own loader,
:func:`lessons.images.load_pixels`, on a pool of threads, while the model works on the
batch in hand), so its memory is bounded by the batch size and the read-ahead. It gives
the batches an in-memory array gave: the same pixels, in the same order.

Two ways to read it:

- :meth:`PhotoStream.batches` and :meth:`PhotoStream.predict`, plain Python, for one pass
  of inference (``python -m lessons evaluate``, the phase-1 feature pass, test scores):
  evaluating a TFLite checkpoint needs no TensorFlow at all, and importing TensorFlow
  costs more memory than the photos of a few thousand. ``benchmarks/evaluate_memory.py``
  measures it against one array.
- as the ``inputs`` of :func:`lessons.pipeline.batches`, the ``tf.data`` pipeline of training:
  a stream has the ``shape`` and ``dtype`` of the array it replaces, and :meth:`read`
  gives the photos of one batch of indices, decoded on the thread pool while the model
  trains on the batch before (``benchmarks/training_memory.py`` measures it).

A photo that cannot be read any more (changed or removed since it was listed) stops the
run with an error naming it (kept in :attr:`failure` too, since ``tf.data`` wraps the
errors of the Python it runs), or, with ``skip_bad=True``, is left out and listed.

Public API: :class:`PhotoStream`, :func:`failures_named`.
"""
import collections
import concurrent.futures
import contextlib
import os

import numpy as np
from tqdm.auto import tqdm

from lessons import data, images, mobilenetv2


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
        self._skipped = {}  # a dict as an ordered set: training reads every photo once an epoch
        self.failure = None

    def __len__(self):
        return len(self.paths)

    @property
    def shape(self):
        return (len(self), self.size, self.size, 3)

    dtype = np.dtype(np.uint8)

    @property
    def skipped(self):
        """The photos left out because they could not be read, in the order they were met."""
        return list(self._skipped)

    def _load(self, index):
        """Photo ``index`` as pixels, or None when it fails and is to be skipped."""
        try:
            return images.load_pixels(self.paths[index], self.size)
        except (OSError, images.ImageError) as error:
            if not self.skip_bad:
                self.failure = data.DataError(f"{self.paths[index]} could not be read during the run: {error} (pass "
                                              "--skip-bad-files to leave unreadable photos out and list them)")
                raise self.failure from error
            self._skipped[self.paths[index]] = None
            return None

    def read(self, indices):
        """``(pixels, indices)`` of the photos at ``indices`` that loaded, decoded in parallel."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
            loaded = list(pool.map(self._load, indices))
        kept = np.array([pixels is not None for pixels in loaded], bool)
        found = [pixels for pixels in loaded if pixels is not None]
        return (np.stack(found) if found else np.zeros((0, *self.shape[1:]), self.dtype)), np.asarray(indices)[kept]

    def batches(self, batch_size=mobilenetv2.PREDICT_BATCH, read_ahead=2):
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
                if kept.any():
                    yield indices[kept], np.stack([p for p in loaded if p is not None]), self.labels[indices[kept]]

    def predict(self, predict_batch, batch_size=mobilenetv2.PREDICT_BATCH, progress=True):
        """(indices, labels, probabilities) of every photo that loaded, in order; ``predict_batch`` maps
        a uint8 batch to probabilities (``Predictor.predict_pixels``, or ``mobilenetv2.with_flip`` of it)."""
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


@contextlib.contextmanager
def failures_named(streams):
    """Inside the block, an error raised for a photo of ``streams`` that failed (which ``tf.data``
    wraps in an error of its own, traceback and all) is raised as the :class:`DataError` naming it."""
    try:
        yield
    except Exception as error:
        failure = next((stream.failure for stream in streams if stream.failure), None)
        if failure is None or error is failure:
            raise
        raise failure from None
