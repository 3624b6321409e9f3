"""MobileNetV2's family: accuracy beside cost, and how networks are scaled up or down.

Accuracies cannot be measured here (that needs ImageNet's 50,000 validation photos and the
trained weights of every model), so they are **quoted**, each with its source. Parameters and
multiply-adds are **computed** by :mod:`lessons.convcost` from the real ``keras.applications``
graphs, built with ``weights=None``.

Two ways of trading accuracy for arithmetic:

- MobileNetV2's width multiplier α and image size: multiply-adds grow like α² and size²;
- EfficientNet's compound scaling (Tan & Le 2019, arXiv 1905.11946, section 3.3): depth
  d = α^φ, width w = β^φ and resolution r = γ^φ grow together with one coefficient φ, and
  since a convolution's multiply-adds grow like d·w²·r², they grow like (α·β²·γ²)^φ.

Public API: :class:`Quoted`, :data:`SLIM_README`, :data:`V2_PAPER`, :data:`V1_PAPER`,
:data:`EFFICIENTNET_PAPER`, :data:`MOBILENETV2_CHECKPOINTS`, :data:`MOBILENETV2_PAPER`,
:data:`PIXEL1_MS`, :data:`KERAS_DOCS`, :data:`KERAS_DOCS_TOP1`, :class:`Member`, :data:`FAMILY`,
:class:`Counted`, :func:`depthwise_blocks`, :func:`count`, :func:`count_member`,
:func:`family_table`, :func:`structure`, :func:`macs_at_size`, :func:`tradeoff_table`,
:func:`best_under_budget`, :func:`compound_coefficients`, :func:`macs_multiplier`,
:func:`per_phi`.
"""
import functools
from collections import Counter
from typing import NamedTuple

from lessons import convcost


class Quoted(NamedTuple):
    """A published figure: ImageNet top-1 accuracy and the cost as the source prints them."""
    top1: float  # per cent, single centre crop
    macs_m: float  # millions of multiply-adds for one image
    params_m: float  # millions of parameters, with the 1000-class classifier
    source: str


SLIM_README = ("TF-slim MobileNetV2 README, table of ImageNet checkpoints (github.com/tensorflow/models, "
               "research/slim/nets/mobilenet; also in tf.keras 2.x's mobilenet_v2 docstring)")
V2_PAPER = "Sandler et al. 2018, MobileNetV2, arXiv 1801.04381, Table 4"
V1_PAPER = "Howard et al. 2017, MobileNets, arXiv 1704.04861, Table 8"
EFFICIENTNET_PAPER = "Tan & Le 2019, EfficientNet, arXiv 1905.11946, Table 2"

# The 22 released MobileNetV2 checkpoints: (alpha, image size) -> what the README prints.
MOBILENETV2_CHECKPOINTS = {
    (alpha, size): Quoted(top1, macs, params, SLIM_README)
    for alpha, size, macs, params, top1 in [
        (1.4, 224, 582, 6.06, 75.0), (1.3, 224, 509, 5.34, 74.4),
        (1.0, 224, 300, 3.47, 71.8), (1.0, 192, 221, 3.47, 70.7), (1.0, 160, 154, 3.47, 68.8),
        (1.0, 128, 99, 3.47, 65.3), (1.0, 96, 56, 3.47, 60.3),
        (0.75, 224, 209, 2.61, 69.8), (0.75, 192, 153, 2.61, 68.7), (0.75, 160, 107, 2.61, 66.4),
        (0.75, 128, 69, 2.61, 63.2), (0.75, 96, 39, 2.61, 58.8),
        (0.5, 224, 97, 1.95, 65.4), (0.5, 192, 71, 1.95, 63.9), (0.5, 160, 50, 1.95, 61.0),
        (0.5, 128, 32, 1.95, 57.7), (0.5, 96, 18, 1.95, 51.2),
        (0.35, 224, 59, 1.66, 60.3), (0.35, 192, 43, 1.66, 58.2), (0.35, 160, 30, 1.66, 55.7),
        (0.35, 128, 20, 1.66, 50.8), (0.35, 96, 11, 1.66, 45.5),
    ]
}

# The paper's own models (Table 4), and its headline latency: one large core of a Google
# Pixel 1 phone, with TF-Lite. A latency belongs to a device: it cannot be measured here.
MOBILENETV2_PAPER = {(1.0, 224): Quoted(72.0, 300, 3.4, V2_PAPER), (1.4, 224): Quoted(74.7, 585, 6.9, V2_PAPER)}
PIXEL1_MS = {(1.0, 224): 75}

# Top-1 of the ImageNet weights Keras ships, as its applications page prints it
# (https://keras.io/api/applications/): measured by Keras, not by the papers' authors.
KERAS_DOCS = "Keras Applications page, table of available models (keras.io/api/applications)"
KERAS_DOCS_TOP1 = {"MobileNet": 70.4, "MobileNetV2": 71.3, "EfficientNetB0": 77.1, "EfficientNetB1": 79.1,
                   "ResNet50": 74.9}


class Member(NamedTuple):
    """A model of the family: the ``keras.applications`` function that builds it, its
    arguments and image size, and the figures its paper prints."""
    builder: str
    kwargs: tuple  # (name, value) pairs, hashable for the cache
    size: int
    quoted: Quoted


FAMILY = {
    "MobileNet v1": Member("MobileNet", (), 224, Quoted(70.6, 569, 4.2, V1_PAPER)),
    "MobileNetV2": Member("MobileNetV2", (), 224, MOBILENETV2_PAPER[1.0, 224]),
    "MobileNetV2 (α = 1.4)": Member("MobileNetV2", (("alpha", 1.4),), 224, MOBILENETV2_PAPER[1.4, 224]),
    "EfficientNetB0": Member("EfficientNetB0", (), 224, Quoted(77.1, 390, 5.3, EFFICIENTNET_PAPER)),
    "EfficientNetB1": Member("EfficientNetB1", (), 240, Quoted(79.1, 700, 7.8, EFFICIENTNET_PAPER)),
    # A "traditional" network, for scale: the EfficientNet paper compares B0 with it.
    "ResNet50": Member("ResNet50", (), 224, Quoted(76.0, 4100, 26, EFFICIENTNET_PAPER)),
}


class Counted(NamedTuple):
    """What the course computes from a real graph."""
    params: int
    keras_params: int  # what Keras' count_params() says, to check ours against
    macs: int
    size: int  # image size the graph was built for
    blocks: tuple  # the kinds of the convolutions of each depthwise block, in order
    residual_adds: int  # Add layers: the shortcut connections
    widths: tuple  # channels out of the first and of the last convolution on a feature map


def _conv_on_a_map(layer):
    """A convolution that slides over a feature map: not a 1×1 conv on a pooled 1×1 "map"
    (EfficientNet's squeeze-and-excitation, MobileNet v1's classifier)."""
    return (convcost.layer_kind(layer) in ("standard", "depthwise", "pointwise")
            and layer.output.shape[1] * layer.output.shape[2] > 1)


def depthwise_blocks(model):
    """The convolutions of each depthwise block, as kinds: ('depthwise', 'pointwise') for a
    MobileNet v1 block, ('pointwise', 'depthwise', 'pointwise') for an expanding one.

    A block is a depthwise conv, the 1×1 conv after it, and the 1×1 expansion before it when
    there is one: a 1×1 conv that comes right after another 1×1 conv (the previous block's
    projection) rather than after a depthwise conv, as in MobileNet v1.
    """
    kinds = [convcost.layer_kind(layer) for layer in model.layers if _conv_on_a_map(layer)]
    blocks = []
    for i, kind in enumerate(kinds):
        if kind == "depthwise":
            expands = i >= 2 and kinds[i - 1] == kinds[i - 2] == "pointwise"
            blocks.append(tuple(kinds[i - 1 if expands else i:i + 2]))
    return blocks


@functools.lru_cache(maxsize=None)
def count(builder, kwargs=(), size=224):
    """Build ``keras.applications.<builder>`` with random weights (nothing to download) and
    count it. Cached: a notebook and its tests build each model once per process."""
    import keras

    model = getattr(keras.applications, builder)(input_shape=(size, size, 3), weights=None, **dict(kwargs))
    total = convcost.model_cost(model)
    convs = [layer for layer in model.layers if _conv_on_a_map(layer)]
    return Counted(total.params, model.count_params(), total.macs, size, tuple(depthwise_blocks(model)),
                   sum(isinstance(layer, keras.layers.Add) for layer in model.layers),
                   (convs[0].filters, convs[-1].filters))


def count_member(name):
    member = FAMILY[name]
    return count(member.builder, member.kwargs, member.size)


def family_table(names=tuple(FAMILY)):
    """One row per model: computed parameters and multiply-adds beside the quoted figures."""
    rows = []
    for name in names:
        counted, quoted = count_member(name), FAMILY[name].quoted
        rows.append({"name": name, "size": counted.size, "params": counted.params, "macs": counted.macs,
                     "top1": quoted.top1, "quoted": quoted})
    return rows


def structure(counted):
    """One line on a network's structure, from its counted graph."""
    per_block = Counter(len(block) for block in counted.blocks)
    layers = " + ".join(f"{n} of {length} conv layers" for length, n in sorted(per_block.items(), reverse=True))
    blocks = f"{len(counted.blocks)} depthwise blocks ({layers})" if counted.blocks else "no depthwise blocks"
    return f"{blocks}, {counted.residual_adds} residual additions"


def macs_at_size(row, size):
    """Multiply-adds of the network of a :func:`convcost.width_resolution_table` row on
    size×size images, without building it.

    Every feature map scales with the image, and for sizes that are multiples of 32 (the
    network's total stride) exactly: each convolution's multiply-adds scale by
    (size / row size)². Only the classifier, which reads the pooled features, stays the same.
    """
    if size % 32 or row["size"] % 32:
        raise ValueError(f"Image sizes {size} and {row['size']} must be multiples of 32 to scale exactly.")
    body = row["macs_without_top"] * size * size
    return body // row["size"] ** 2 + row["macs"] - row["macs_without_top"]


def tradeoff_table(table):
    """The 22 released MobileNetV2 checkpoints: quoted top-1 beside the computed cost.

    ``table`` is a :func:`convcost.width_resolution_table` with at least one size for each
    width; the other sizes' multiply-adds follow from :func:`macs_at_size`.
    """
    rows = []
    for (alpha, size), quoted in MOBILENETV2_CHECKPOINTS.items():
        counted = max((row for row in table if row["alpha"] == alpha), key=lambda row: row["size"])
        rows.append({"alpha": alpha, "size": size, "params": counted["params"],
                     "params_without_bn": counted["params_without_bn"], "macs": macs_at_size(counted, size),
                     "top1": quoted.top1, "quoted": quoted})
    return rows


def best_under_budget(rows, budget):
    """The row with the highest top-1 among those whose multiply-adds fit the budget (equal
    fits); of two equally accurate, the cheaper. None when nothing fits."""
    fits = [row for row in rows if row["macs"] <= budget]
    return max(fits, key=lambda row: (row["top1"], -row["macs"]), default=None)


# EfficientNet's compound scaling. The paper fixes φ = 1 and finds α, β, γ by a small grid
# search on EfficientNet-B0, under the constraint α·β²·γ² ≈ 2 (sections 3.3 and 4).
ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15


def compound_coefficients(phi, alpha=ALPHA, beta=BETA, gamma=GAMMA):
    """Depth, width and resolution multipliers d = α^φ, w = β^φ, r = γ^φ."""
    return alpha ** phi, beta ** phi, gamma ** phi


def macs_multiplier(depth, width, resolution):
    """How much a network's multiply-adds grow when its layers are multiplied by ``depth``,
    its channels by ``width`` and its image side by ``resolution``: d·w²·r².

    A convolution costs H·W·K·K·C_in·C_out: widening multiplies C_in and C_out, a larger image
    multiplies H and W, and more layers add convolutions of the same cost.
    """
    return depth * width ** 2 * resolution ** 2


def per_phi(alpha=ALPHA, beta=BETA, gamma=GAMMA):
    """α·β²·γ²: what one more unit of φ multiplies the multiply-adds by (the paper asks ≈ 2)."""
    return macs_multiplier(alpha, beta, gamma)
