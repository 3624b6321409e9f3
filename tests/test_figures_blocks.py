"""Week 2's block figures draw the shapes and memory of lessons.blocks."""
import keras
import pytest

from lessons import block_memory, blocks, real_blocks
from lessons.figures import blocks as figures



def test_the_memory_figure_draws_each_blocks_peaks():
    base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights=None)
    rows = block_memory.block_memory(base)
    fig = figures.memory_figure(rows, image_size=96)
    (ax,) = fig.axes
    layer_by_layer, streamed = ax.patches[:len(rows)], ax.patches[len(rows):]
    to_mb = block_memory.BYTES_PER_FLOAT / 1e6
    assert [bar.get_height() for bar in layer_by_layer] == pytest.approx([r["layer_by_layer"] * to_mb for r in rows])
    assert [bar.get_height() for bar in streamed] == pytest.approx([r["streamed"] * to_mb for r in rows])
    (bottleneck,) = ax.lines
    assert list(bottleneck.get_xdata()) == [r["block"] for r in rows] == list(real_blocks.block_numbers(base))
    assert list(bottleneck.get_ydata()) == pytest.approx([r["output"] * to_mb for r in rows])
    assert "at 96×96" in ax.get_title()


def test_the_widths_figure_draws_the_channels_of_each_tensor():
    inputs, wide = keras.Input((56, 56, 24)), keras.Input((56, 56, 144))
    mobilenet = keras.Model(inputs, blocks.inverted_residual_block(inputs, 6, 24, 1, "block_2_"))
    resnet = keras.Model(wide, blocks.classic_bottleneck(wide, 24))
    fig = figures.widths_figure(mobilenet, resnet)
    for ax, block in zip(fig.axes, (mobilenet, resnet)):
        sizes = block_memory.tensor_sizes(block)
        assert [bar.get_height() for bar in ax.patches] == [shape[-1] for _, shape, _ in sizes]
        assert [label.get_text() for label in ax.get_xticklabels()] == [name for name, _, _ in sizes]
    assert [bar.get_height() for bar in fig.axes[0].patches] == [24, 6 * 24, 6 * 24, 24, 24]  # narrow → wide → narrow
