"""What one block costs: which tensors must exist at the same time, its parameters and multiply-adds.

:func:`peak_memory` compares running a block layer by layer (the whole expanded tensor
exists) with streaming it one expanded channel at a time (the paper's Section 5.1);
:func:`block_memory` applies it to every block of the real model, :func:`block_costs` to any
block model, and :func:`expansion_costs` to one block at several expansion rates t.

Public API: :func:`tensor_sizes`, :func:`peak_memory`, :func:`block_memory`, :func:`block_costs`,
:func:`expansion_costs`, :data:`BYTES_PER_FLOAT`, :data:`PAPER_BYTES_PER_ACTIVATION`, :data:`PAPER_TABLE3_LARGEST`.
"""
import math

from lessons import blocks, real_blocks

BYTES_PER_FLOAT = 4  # float32, as Keras computes
PAPER_BYTES_PER_ACTIVATION = 2  # the paper's memory table assumes 16-bit activations

# The paper's Table 3 ("the max number of channels/memory (in Kb) that needs to be
# materialized", 16-bit activations), MobileNetV2's column: 16 channels at 112×112, "400K".
PAPER_TABLE3_LARGEST = {"size": (112, 112), "channels": 16, "kilobytes": 400}


def tensor_sizes(block):
    """(layer name, output shape, floats) of the input and every conv/add of a Keras block model."""
    import keras

    kept = (keras.layers.InputLayer, keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Add)
    return [(layer.name, tuple(layer.output.shape[1:]), math.prod(layer.output.shape[1:]))
            for layer in block.layers if isinstance(layer, kept)]


def peak_memory(input_shape, expanded_shape, depthwise_shape, output_shape, residual):
    """Tensor sizes (floats) of one block and the peak memory of two ways of running it.

    ``expanded_shape`` is None for a block without expansion (t = 1).

    layer by layer: every conv's whole input and output exist at once (BN and ReLU6 work in
        place), and x stays alive until the residual add;
    streamed (the paper's Section 5.1): expand, depthwise and project are computed one
        expanded channel at a time, the projection accumulating into the output, so only
        x, the output and one channel of the expanded and depthwise tensors ever exist.
    """
    x, depthwise, y = math.prod(input_shape), math.prod(depthwise_shape), math.prod(output_shape)
    expanded = x if expanded_shape is None else math.prod(expanded_shape)
    keep_x = x if residual else 0
    steps = [0 if expanded_shape is None else x + expanded, expanded + depthwise + keep_x, depthwise + y + keep_x]
    one_channel = math.prod(input_shape[:2]) + math.prod(depthwise_shape[:2])
    return {"input": x, "expanded": expanded, "depthwise": depthwise, "output": y,
            "layer_by_layer": max(steps), "streamed": x + y + one_channel}


def block_memory(base):
    """Per block of the real model: :func:`peak_memory`, from its layers' shapes."""
    rows = []
    for k in real_blocks.block_numbers(base):
        spec, name = real_blocks.read_block(base, k), blocks.prefix(k)
        expanded = base.get_layer(name + "expand_relu").output.shape[1:] if spec.t != 1 else None
        rows.append({"block": k, **peak_memory(spec.input_shape, expanded,
                                               base.get_layer(name + "depthwise_relu").output.shape[1:],
                                               base.get_layer(name + "project_BN").output.shape[1:], spec.residual)})
    return rows


def block_costs(block):
    """Parameters, multiply-adds, largest tensor (floats) and :func:`peak_memory` of a block model.

    The tensors are found by layer type, not by name, so any block that passes the week's
    check can be measured: the 1×1 conv before the depthwise conv expands, the one after projects.
    """
    import keras

    from lessons import convcost

    kinds = [layer for layer in block.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D))]
    depthwise = next(i for i, layer in enumerate(kinds) if isinstance(layer, keras.layers.DepthwiseConv2D))
    expanded = kinds[0].output.shape[1:] if depthwise > 0 else None
    residual = any(isinstance(layer, keras.layers.Add) for layer in block.layers)
    cost = convcost.model_cost(block)
    largest = max(size for _, _, size in tensor_sizes(block))
    return {"params": cost.params, "macs": cost.macs, "largest tensor": largest,
            **peak_memory(block.inputs[0].shape[1:], expanded, kinds[depthwise].output.shape[1:],
                          block.output.shape[1:], residual)}


def expansion_costs(block, input_shape, c, s, expansions):
    """:func:`block_costs` of the block ``block`` builds for each expansion rate t in ``expansions``."""
    return [{"t": t, **block_costs(blocks.build(block, input_shape, t, c, s, f"t{t}_"))} for t in expansions]
