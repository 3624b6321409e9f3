"""The one place the course reads Keras' private graph attributes works on this Keras."""
import keras

from lessons import keras_graph


def test_each_tensor_leads_back_to_the_call_that_made_it():
    pixels = keras.Input((8, 8, 3), name="pixels")
    conv = keras.layers.Conv2D(4, 3, name="conv")
    shared = keras.layers.ReLU(name="relu")
    first = shared(conv(pixels))
    second = shared(first)  # the same layer called twice: two nodes
    model = keras.Model(pixels, second)
    assert keras_graph.producer(model.inputs[0]).name == "pixels"
    assert keras_graph.producer(first) is shared and keras_graph.producer(second) is shared
    first_call, second_call = keras_graph.node_of(first), keras_graph.node_of(second)
    assert first_call is not second_call
    assert second_call.input_tensors[0] is first and keras_graph.node_of(first_call.input_tensors[0]).operation is conv
