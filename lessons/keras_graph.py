"""Reading a functional Keras model's graph: which layer call produced a tensor.

Keras 3 has no public API for this, so these two functions are the one place the course
reads Keras' private attributes (``_keras_history``, ``_inbound_nodes``): a Keras release
that renames them breaks this module and its tests, nowhere else.

Public API: :func:`producer`, :func:`node_of`.
"""


def producer(tensor):
    """The layer (or operation) whose call produced ``tensor``: an ``Input`` for a model's input."""
    return tensor._keras_history.operation


def node_of(tensor):
    """The layer call (Keras node) that produced ``tensor``: its ``input_tensors``, ``outputs``
    and ``operation``."""
    layer, node_index, _ = tensor._keras_history
    return layer._inbound_nodes[node_index]
