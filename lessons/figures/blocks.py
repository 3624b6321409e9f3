"""Week 2's pictures of the inverted residual block, each a matplotlib Figure.

How wide each tensor is through one block, beside ResNet's bottleneck
(:func:`widths_figure`), and how much memory each block of MobileNetV2 needs, with and
without the paper's streamed evaluation (:func:`memory_figure`, from
:func:`lessons.block_memory.block_memory`).

Public API: :func:`memory_figure`, :func:`widths_figure`.
"""
from lessons import block_memory


def memory_figure(rows, image_size=None, bytes_per_float=block_memory.BYTES_PER_FLOAT):
    """Bars per block: the peak memory layer by layer vs streamed, and the bottleneck tensor between blocks."""
    import matplotlib.pyplot as plt

    numbers = [r["block"] for r in rows]
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.4
    to_mb = bytes_per_float / 1e6
    ax.bar([b - width / 2 for b in numbers], [r["layer_by_layer"] * to_mb for r in rows], width,
           label="peak, layer by layer (whole expanded tensor)")
    ax.bar([b + width / 2 for b in numbers], [r["streamed"] * to_mb for r in rows], width,
           label="peak, streamed (paper, Section 5.1)")
    ax.plot(numbers, [r["output"] * to_mb for r in rows], "k.--", label="bottleneck tensor passed to the next block")
    size = f" at {image_size}×{image_size}" if image_size else ""
    ax.set(xlabel="block", ylabel=f"MB (float{8 * bytes_per_float})", xticks=numbers,
           title=f"Memory needed to run each block of MobileNetV2{size}")
    ax.legend()
    fig.tight_layout()
    return fig


def widths_figure(mobilenet_block, resnet_block):
    """Channels of each tensor through an inverted residual block and a ResNet bottleneck, side by side."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    for ax, block, title in [(axes[0], mobilenet_block, "MobileNetV2: narrow → wide → narrow"),
                             (axes[1], resnet_block, "ResNet: wide → narrow → wide")]:
        sizes = block_memory.tensor_sizes(block)
        ax.bar(range(len(sizes)), [shape[-1] for _, shape, _ in sizes], color="tab:blue")
        ax.set_xticks(range(len(sizes)), [name for name, _, _ in sizes], rotation=30, ha="right")
        ax.set_title(title)
    axes[0].set_ylabel("channels")
    fig.tight_layout()
    return fig
