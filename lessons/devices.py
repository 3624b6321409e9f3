"""Where training runs: the GPU when TensorFlow sees one, else the CPU, said in one line.

TensorFlow places every operation on the first GPU it sees without being told; what it
does not do is say so. :func:`describe` does, so that a student whose GPU went unused
(a CPU-only TensorFlow, a missing CUDA library) sees it before a long training, not after.
:func:`precision` switches Keras' mixed precision on for one block of code: float16
arithmetic with float32 weights, about twice as fast on GPUs with tensor cores (and slower
on a CPU, which has no float16 units).

Public API: :func:`gpus`, :func:`describe`, :func:`precision`.
"""
import contextlib


def gpus():
    """The GPUs TensorFlow can use (an empty list on a CPU-only install or machine)."""
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


def describe():
    """One line: which device(s) training will run on, and what to do when a GPU is unused."""
    import tensorflow as tf

    found = gpus()
    if not found:
        return ("the CPU (TensorFlow sees no GPU; to train on one, see README, 'Training on a GPU')")
    names = [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name) for gpu in found]
    return f"{len(found)} GPU{'s' if len(found) > 1 else ''}: {', '.join(names)}"


@contextlib.contextmanager
def precision(policy):
    """Keras' global dtype policy set to ``policy`` ("mixed_float16", "float32") inside the block."""
    import keras

    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)
