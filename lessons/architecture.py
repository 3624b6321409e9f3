"""MobileNetV2's architecture read from its layers: the paper's Table 2, its shapes and its counts.

:func:`read_table2` rebuilds the paper's Table 2 (t, c, n, s per row of blocks) from a
MobileNetV2 base and :func:`format_table2` prints it beside the quoted :data:`PAPER_TABLE2`;
:func:`shapes_table` gives the shapes through every block; :func:`count_layers` finds the
counts behind the paper's "19 residual bottleneck layers" and :func:`layer_counts` what
"N layers" can mean for any Keras model.

Public API: :data:`PAPER_TABLE2`, :data:`PAPER_BOTTLENECK_COUNT`, :func:`read_table2`,
:func:`format_table2`, :func:`shapes_table`, :func:`count_layers`, :func:`layer_counts`.
"""
from lessons import blocks, mobilenetv2, real_blocks
from lessons.text_table import text_table

# Quoted from Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
# Table 2 (input, operator, t, c, n, s); None where the paper prints "-". The last two rows
# (pooling and the 1000-class classifier) are not part of the no-top base the course uses.
PAPER_TABLE2 = [
    ("224²×3", "conv2d", None, 32, 1, 2),
    ("112²×32", "bottleneck", 1, 16, 1, 1),
    ("112²×16", "bottleneck", 6, 24, 2, 2),
    ("56²×24", "bottleneck", 6, 32, 3, 2),
    ("28²×32", "bottleneck", 6, 64, 4, 2),
    ("14²×64", "bottleneck", 6, 96, 3, 1),
    ("14²×96", "bottleneck", 6, 160, 3, 2),
    ("7²×160", "bottleneck", 6, 320, 1, 1),
    ("7²×320", "conv2d 1x1", None, 1280, 1, 1),
    ("7²×1280", "avgpool 7x7", None, None, 1, None),
    ("1×1×1280", "conv2d 1x1", None, "k", None, None),
]
# The paper's text (Section 4): "the initial fully convolution layer with 32 filters,
# followed by 19 residual bottleneck layers described in the Table 2".
PAPER_BOTTLENECK_COUNT = 19


def shapes_table(base):
    """Per block of ``base``: t, c, s and the shapes in, expanded and out, as table rows."""
    rows = []
    for k in real_blocks.block_numbers(base):
        spec = real_blocks.read_block(base, k)
        expanded, _, output = blocks.shapes_through_block(*spec.input_shape, spec.t, spec.c, spec.s)
        rows.append({"block": k, "t": spec.t, "c": spec.c, "s": spec.s, "input": "×".join(map(str, spec.input_shape)),
                     "expanded": "×".join(map(str, expanded)), "output": "×".join(map(str, output)),
                     "residual": "yes" if spec.residual else "no"})
    return rows


def _shape_text(shape):
    height, width, channels = shape
    return f"{height}²×{channels}" if height == width else f"{height}×{width}×{channels}"


def read_table2(base):
    """Table 2's rows (input, operator, t, c, n, s) rebuilt from the layers of a MobileNetV2 base.

    Consecutive blocks with the same t and c form one row: n counts them, s is the first
    one's stride (the paper's convention; the others have stride 1).
    """
    stem, top = base.get_layer("Conv1"), base.get_layer("Conv_1")
    rows = [(_shape_text(base.input.shape[1:]), "conv2d", None, stem.filters, 1, stem.strides[0])]
    groups = []
    for spec in (real_blocks.read_block(base, k) for k in real_blocks.block_numbers(base)):
        if groups and (groups[-1][0].t, groups[-1][0].c) == (spec.t, spec.c) and spec.s == 1:
            groups[-1].append(spec)
        else:
            groups.append([spec])
    for group in groups:
        first = group[0]
        rows.append((_shape_text(first.input_shape), "bottleneck", first.t, first.c, len(group), first.s))
    kernel = "x".join(map(str, top.kernel_size))
    rows.append((_shape_text(top.input.shape[1:]), f"conv2d {kernel}", None, top.filters, 1, top.strides[0]))
    return rows


def format_table2(rows, paper=PAPER_TABLE2):
    """The model's table beside the paper's, with a column saying where they agree."""
    def lines(table):
        return text_table([dict(zip(("input", "operator", "t", "c", "n", "s"), row)) for row in table]).splitlines()

    ours, theirs = lines(rows), lines(paper)
    width = max(map(len, ours))
    ours += ["(not in the no-top base)"] * (len(theirs) - len(ours))
    same = ["same?"] + ["yes" if i < len(rows) and list(rows[i]) == list(row) else "-" for i, row in enumerate(paper)]
    title = f"{'the real model (read from its layers)':<{width}}  |  the paper's Table 2 (quoted)"
    return "\n".join([title] + [f"{a:<{width}}  |  {b}  {agree}" for a, b, agree in zip(ours, theirs, same)])


def count_layers(base):
    """The counts behind the paper's "19": bottleneck blocks, residual adds, convs outside the blocks."""
    import keras

    numbers = real_blocks.block_numbers(base)
    outside = [layer.name for layer in base.layers
               if isinstance(layer, keras.layers.Conv2D) and not isinstance(mobilenetv2.block_of(layer.name), int)]
    convolutions = [layer for layer in base.layers
                    if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D))]
    return {"bottleneck blocks": len(numbers),
            "blocks with a residual add": sum(real_blocks.read_block(base, k).residual for k in numbers),
            "convolutions outside the blocks": len(outside),
            "outside": outside,
            "convolution layers in all": len(convolutions)}


def layer_counts(model):
    """What "N layers" can mean for a Keras model: every Keras layer, or only the convolution and
    dense layers, the ones that hold the model's weights and run one after another (the
    BatchNorm after each convolution folds into it at inference)."""
    import collections

    kinds = collections.Counter(type(layer).__name__ for layer in model.layers)
    convolutions = kinds["Conv2D"] + kinds["DepthwiseConv2D"]
    return {"keras layers": len(model.layers), "by kind": dict(kinds), "convolutions": convolutions,
            "convolution and dense layers": convolutions + kinds["Dense"]}
