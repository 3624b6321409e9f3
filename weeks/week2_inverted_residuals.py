# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Week 2 — Inverted residuals and linear bottlenecks
#
# MobileNetV2 is built from one block repeated: the **inverted residual block with a linear
# bottleneck**. This week you take that block apart on the real `keras.applications.MobileNetV2`.
#
# Learning goals — by the end of the week you can:
# - write the block from Keras layers, and prove that it computes exactly what the real model's blocks compute;
# - rebuild the paper's Table 2 (t, c, n, s) by reading the model's layers, and say how many blocks there are
#   (the paper's text and its table disagree: the model settles it);
# - say which tensors must be kept in memory while a block runs, and why MobileNetV2 only has to keep the
#   *narrow* ones between blocks;
# - explain, with the spiral experiment of the paper's Figure 1, why the block's last 1×1 convolution has **no**
#   ReLU.
#
# Time: about 3 hours — 1 h reading and running, 1 h with the spiral widget, 1 h for the three exercises.

# %% tags=["parameters"]
# Fast mode is what CI runs (2 sample photos through the blocks instead of 10, and 10 random
# matrices T per point of the error curves instead of 50): never a smaller network.
import os

MODE = os.environ.get("WORKBOOK_MODE", "full")
FAST = MODE == "fast"
PHOTOS = 2 if FAST else 10
TRIALS = 10 if FAST else 50

# %%
import lessons  # noqa: F401  (first: it quiets TensorFlow's start-up log lines)

import math

import keras
import matplotlib.pyplot as plt
import numpy as np

from lessons import blocks, manifold
from lessons.exercises import week2
from lessons.notebook import show_source
from widgets import manifold as spiral_widget

# %% [markdown]
# ## 1. The block, written out
#
# A block receives a *narrow* tensor (few channels) and:
#
# 1. **expands** it with a 1×1 convolution to t times as many channels, then BatchNorm and ReLU6;
# 2. filters each of those channels on its own with a 3×3 **depthwise** convolution (stride 1 or 2), BatchNorm, ReLU6;
# 3. **projects** back to a narrow tensor of c channels with a 1×1 convolution and BatchNorm — and *no* activation:
#    this is the **linear bottleneck**;
# 4. **adds** its input to the result when the two have the same shape: the **inverted residual** (a ResNet adds
#    wide tensors; this block adds the narrow ones).
#
# Here is the course's version, made of plain Keras layers named exactly like the real model's layers:

# %%
show_source(blocks.inverted_residual_block)

# %% [markdown]
# Two details come from the real model, not from the paper's diagram. The first block has no expansion layer
# (its t is 1), and Keras calls it `expanded_conv` instead of `block_0`. And before a stride-2 depthwise
# convolution Keras adds an explicit `ZeroPadding2D` layer and then convolves without padding:

# %%
show_source(blocks.stride2_padding)

# %%
# NBVAL_CHECK_OUTPUT
for size in (56, 7):  # an even and an odd size
    padding = blocks.stride2_padding(size, size)
    x = keras.Input((size, size, 1))
    y = keras.layers.DepthwiseConv2D(3, strides=2, padding="valid")(keras.layers.ZeroPadding2D(padding)(x))
    print(f"{size}×{size} input → ZeroPadding2D{padding} → 3×3 stride-2 'valid' depthwise conv "
          f"→ {y.shape[1]}×{y.shape[2]}")

# %% [markdown]
# Now the real model, with the ImageNet weights the course ships in `weights/` (the comparisons below would hold
# for any weights; the next cell says which ones these are).

# %%
base, weights_source = blocks.load_real_model(224)
print(f"keras.applications.MobileNetV2 at 224×224 px with {weights_source}.")

# %% [markdown]
# Our block 2 and the real block 2, layer by layer (`read_block` reads t, c, s and the input shape from the real
# model's layers; we build ours from those four numbers):

# %%
# NBVAL_CHECK_OUTPUT
spec = blocks.read_block(base, 2)
print(spec)
ours = blocks.build_block(spec)
for mine, real in zip(ours.layers[1:], blocks.block_layers(base, 2), strict=True):
    print(f"{mine.name:<22} {type(mine).__name__:<20} {str(mine.output.shape[1:]):<16} real model: {real.name}")

# %% [markdown]
# Same names, same shapes. Same *numbers*? We copy the real block's weights into ours (by layer name), send the
# same input into both — what really reaches that block when sample photos go through the network — and compare
# the outputs. We do it for block 0 (no expansion), block 2 (stride 1 with a residual add), and two stride-2
# blocks (with the padding layer).

# %%
show_source(blocks.compare_with_real)

# %%
photos = blocks.sample_batch(224, PHOTOS)
differences = {k: blocks.compare_with_real(base, k, blocks.block_input(base, k, photos)) for k in (0, 2, 3, 13)}

# %%
# NBVAL_CHECK_OUTPUT
for k, difference in differences.items():
    spec = blocks.read_block(base, k)
    if spec.s == 2:
        extra = f"pads {base.get_layer(blocks.prefix(k) + 'pad').padding}"
    else:
        extra = f"residual add: {spec.residual}"
    print(f"block {k:>2}: t={spec.t} c={spec.c:>3} s={spec.s} input {spec.input_shape}, {extra:<26} "
          f"max |ours - real| = {difference:.4f}")
    assert difference < 1e-4

# %% [markdown]
# The differences are zero (or float rounding): the block above *is* MobileNetV2's block. The tests in
# `tests/test_blocks.py` repeat this for more blocks, with random BatchNorm statistics, at an input size where
# the padding is symmetric, and show that a wrong padding makes the comparison fail.

# %% [markdown]
# ## 2. The paper's Table 2, read from the model
#
# The paper describes the network in a table: each row is a group of n identical blocks with expansion factor t
# and c output channels; the first block of the group has stride s. `read_table2` rebuilds that table from the
# layers of the real model (nothing typed in), and we print it beside the table as printed in the paper.

# %%
show_source(blocks.read_block)

# %%
# NBVAL_CHECK_OUTPUT
table = blocks.read_table2(base)
print(blocks.format_table2(table))
assert table == blocks.PAPER_TABLE2[:len(table)]

# %% [markdown]
# The table agrees with the model. The paper's *text*, though, gives another count: "the initial fully
# convolution layer with 32 filters, followed by N residual bottleneck layers described in the Table 2" (N is
# printed below). Count for yourself:

# %%
# NBVAL_CHECK_OUTPUT
counts = blocks.count_layers(base)
in_table = sum(row[4] for row in blocks.PAPER_TABLE2 if row[1] == "bottleneck")
print(f"bottleneck blocks in the real model:          {counts['bottleneck blocks']}")
print(f"bottleneck blocks in Table 2 (the sum of n):  {in_table}")
print(f"'residual bottleneck layers' in the text:     {blocks.PAPER_BOTTLENECK_COUNT}")
print(f"blocks that really add their input:           {counts['blocks with a residual add']}")
print(f"convolutions outside the blocks:              {counts['convolutions outside the blocks']} "
      f"({' and '.join(counts['outside'])})")
print(f"convolution layers in all (with depthwise):   {counts['convolution layers in all']}")
together = counts["bottleneck blocks"] + counts["convolutions outside the blocks"]
print(f"\nThe only count that gives {blocks.PAPER_BOTTLENECK_COUNT}: the stem conv + the {counts['bottleneck blocks']} "
      f"bottlenecks + the last 1×1 conv = {together}, every row of Table 2 before the pooling with each bottleneck "
      f"counted n times. Only {counts['blocks with a residual add']} of the {counts['bottleneck blocks']} blocks "
      f"have a residual connection.")
assert counts["bottleneck blocks"] == in_table and together == blocks.PAPER_BOTTLENECK_COUNT

# %% [markdown]
# So: the model and the table agree with each other, the text does not. The paper never says where its count
# comes from; adding the two plain convolutions to the blocks is the one reading that fits, and it is *our*
# reading, not the authors'. Note also that "residual" is loose: a block whose stride is 2 or whose channels
# change cannot add its input, as the count of residual adds shows. When someone says "MobileNetV2 has N
# layers", ask what they counted.

# %% [markdown]
# ## 3. Memory: narrow → wide → narrow
#
# A ResNet bottleneck goes the other way: its input and output are **wide**, and it squeezes them through a
# narrow middle. Here are both, with the same two widths: our block 2 and a ResNet-style block whose wide
# tensor has as many channels as block 2's expanded one.

# %%
spec = blocks.read_block(base, 2)
mobilenet_block = blocks.build_block(spec)
wide = keras.Input((*spec.input_shape[:2], spec.t * spec.input_shape[-1]), name="resnet_input")
resnet_block = keras.Model(wide, blocks.classic_bottleneck(wide, narrow=spec.input_shape[-1]), name="resnet")

# %%
# NBVAL_CHECK_OUTPUT
for block in (mobilenet_block, resnet_block):
    print(block.name)
    for name, shape, floats in blocks.tensor_sizes(block):
        print(f"  {name:<22} {str(shape):<16} {floats:>9,} floats")
between = {block.name: blocks.tensor_sizes(block)[-1][2] for block in (mobilenet_block, resnet_block)}
print(f"Passed on to the next block: {between['our_block_2']:,} floats (MobileNetV2) vs {between['resnet']:,} (ResNet),"
      f" {between['resnet'] // between['our_block_2']}× more.")

# %%
blocks.widths_figure(mobilenet_block, resnet_block)
plt.show()

# %% [markdown]
# What must exist *at the same time* while a block runs? Two ways to run it:
#
# - **layer by layer**, as Keras does: each convolution's whole input and output tensors exist together (BatchNorm
#   and ReLU6 can work in place), and the block's input stays alive until the residual add;
# - **streamed**, the paper's Section 5.1: the expansion, the depthwise conv and the ReLU6s act on each expanded
#   channel separately, so the block can compute one expanded channel, filter it, add its contribution to the
#   projection's output, and forget it. Only the narrow input and output are ever whole (plus one channel of
#   working space). That only works because the expanded tensor never leaves the block.
#
# `block_memory` computes both for every block of the real model, from its layer shapes at 224 px:

# %%
show_source(blocks.block_memory)

# %%
# NBVAL_CHECK_OUTPUT
memory = blocks.block_memory(base)
print(f"{'block':>5} {'input':>9} {'expanded':>10} {'output':>9} {'layer by layer':>15} {'streamed':>9}   (floats)")
for row in memory:
    print(f"{row['block']:>5} {row['input']:>9,} {row['expanded']:>10,} {row['output']:>9,} "
          f"{row['layer_by_layer']:>15,} {row['streamed']:>9,}")
peak = {way: max(memory, key=lambda row: row[way]) for way in ("layer_by_layer", "streamed")}
mb = blocks.BYTES_PER_FLOAT / 1e6
for way, row in peak.items():
    print(f"peak {way.replace('_', ' ')}: {row[way]:,} floats = {row[way] * mb:.2f} MB in float32, "
          f"in block {row['block']}")
print(f"streaming needs {peak['layer_by_layer']['layer_by_layer'] / peak['streamed']['streamed']:.1f}× less memory")

# %%
blocks.memory_figure(memory, image_size=base.input.shape[1])
plt.show()

# %% [markdown]
# The paper's Table 3 lists the largest tensor that must be materialised, with 16-bit activations. The real
# model agrees with it for the tensors passed *between* blocks (the stem's output is wider, as the table above
# shows, but it is the input of block 0, not a tensor between two blocks):

# %%
# NBVAL_CHECK_OUTPUT
largest = max(memory, key=lambda row: row["output"])
shape = tuple(base.get_layer(blocks.prefix(largest["block"]) + "project_BN").output.shape[1:])
largest_bytes = largest["output"] * blocks.PAPER_BYTES_PER_ACTIVATION
paper = blocks.PAPER_TABLE3_LARGEST
print(f"largest tensor passed between blocks: block {largest['block']}'s output {shape} = "
      f"{largest['output']:,} values = {largest_bytes:,} bytes at 16 bits")
print(f"the paper's Table 3 (quoted): {paper['channels']} channels at {paper['size'][0]}×{paper['size'][1]}, "
      f"{paper['kilobytes']}K")
assert shape == (*paper["size"], paper["channels"]) and round(largest_bytes / 1000, -1) == paper["kilobytes"]
expanded = max(memory, key=lambda row: row["expanded"])
print(f"largest expanded tensor (never needed whole when streamed): block {expanded['block']}, "
      f"{expanded['expanded']:,} values, {expanded['expanded'] / largest['output']:.0f}× more")

# %% [markdown]
# ## 4. Why the bottleneck is linear: the spiral
#
# Why not end the block with a ReLU6 like every other layer? The paper's answer is its Figure 1. Take points on
# a 2-D spiral `x`, lift them into n dimensions with a random n×2 matrix T, apply an activation, and try to get
# the spiral back:
#
# `x  →  z = T·x  →  a = act(z)  →  x̂ = ?`
#
# ReLU keeps the coordinates where z > 0 unchanged and sets the others to 0. An unchanged coordinate is an exact
# linear measurement of x, so any point with at least two of them (two independent rows of T) comes back
# exactly, by least squares over those rows of T. A point with fewer has lost information for good: several
# points of the spiral land on the same output. `recover` sees only `a` and T:

# %%
show_source(manifold.recover)

# %% [markdown]
# The paper's own figure does something simpler: it multiplies `a` by the pseudo-inverse T⁺ of the whole of T,
# clipped zeros included. The top row below is that; the bottom row is `recover`, drawn over the original spiral
# in grey (colour follows the position along the spiral, so you can see which parts collapse):

# %%
spiral_widget.figure1(dims=(2, 3, 5, 15, 30), activation="relu")
plt.show()

# %% [markdown]
# With n = 2 or 3, whole arcs of the spiral collapse onto lines or onto 0: that information is gone, and no layer
# after this one can bring it back. With n = 15 or 30 the spiral survives — in the paper's view it comes back
# distorted (T⁺ mixes the zeros in; with many dimensions it tends to *half* the spiral, since
# ReLU(z) = z/2 + |z|/2), but every point is still there to be read off exactly.
#
# **The scale matters for ReLU6.** ReLU doesn't care about scale (ReLU(2z) = 2·ReLU(z)), but ReLU6 also clips
# everything above 6, a second way to lose a coordinate. With T standard normal, a coordinate `t·x` is normal with
# standard deviation |x|: on a small spiral ReLU6 never reaches its cap and behaves exactly like ReLU. The
# course's spiral reaches out to a radius where the cap bites:

# %%
# NBVAL_CHECK_OUTPUT
for radius in (1.0, manifold.RADIUS):
    print(f"spiral radius {radius:>4}: {manifold.clipped_above(radius):.2%} of the pre-activations t·x are above 6")
same = (manifold.error_curve([2, 3, 5], "relu6", TRIALS, radius=1.0)
        == manifold.error_curve([2, 3, 5], "relu", TRIALS, radius=1.0))
print(f"at radius 1.0, ReLU6 gives the same errors as ReLU: {same}")

# %% [markdown]
# In the real network, BatchNorm sets the scale of what reaches each ReLU6, so how often the cap bites is learnt.
#
# Now try it yourself: move n, switch the activation between ReLU, ReLU6 and linear, change the radius and the
# random T (seed).

# %%
# NBVAL_IGNORE_OUTPUT
spiral_widget.show_manifold()

# %% [markdown]
# And the whole picture: the error against n for each activation, averaged over several random T (seeded, so
# you get the same numbers every time):

# %%
dims = spiral_widget.DIMS
curves = spiral_widget.error_curves(dims, trials=TRIALS)
spiral_widget.error_figure(curves, dims, trials=TRIALS)
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
shown = (2, 3, 5, 10, 15, 30)
print(f"reconstruction error, mean of {TRIALS} random T (0 = nothing lost)")
print("n:        " + "".join(f"{n:>7}" for n in shown))
for name, errors in curves.items():
    print(f"{name:<10}" + "".join(f"{errors[dims.index(n)]:>7.3f}" for n in shown))
assert max(curves["linear"]) < 1e-9  # linear: exact for every n
assert curves["relu"][0] > curves["relu"][dims.index(10)] > curves["relu"][-1]
assert curves["relu"][-1] < 1e-9

# %% [markdown]
# This is the design of the block in one picture:
#
# - **linear** never loses anything, in any number of dimensions;
# - **ReLU in few dimensions** destroys the manifold; **ReLU in many dimensions** keeps it.
#
# So MobileNetV2 applies its ReLU6s only where the tensor is *wide* (after the expansion and after the depthwise
# conv), and leaves the *narrow* projection linear, where a ReLU would collapse what the few channels carry.
# Check it in the real model: which layers does each ReLU6 read?

# %%
# NBVAL_CHECK_OUTPUT
follows = blocks.what_relu6_follows(base)
for source, count in follows.items():
    print(f"{count:>3} ReLU6 layers read the output of a {source} layer")
print(f"ReLU6 layers after a projection: {follows.get('project_BN', 0)}")
assert "project_BN" not in follows

# %% [markdown]
# ## 5. Exercises
#
# Write the body of each function between the marked lines, then run the check cell below it: it calls your
# function with several inputs, compares with the course's own code (and the real model), and tells you what is
# wrong. The exercises are independent of each other.
#
# ### Exercise 1 — shapes through a block
#
# Given the input's height, width and channels and the block's t, c and s, return the shapes
# `(height, width, channels)` of the expanded tensor, the depthwise conv's output and the block's output.
# Careful with odd sizes and stride 2 (look at `stride2_padding` above).

# %%
def shapes_through_block(height, width, channels, t, c, s):
    """[expanded, after the depthwise conv, output] shapes (height, width, channels) of a block."""
    ### BEGIN SOLUTION
    expanded = (height, width, t * channels)
    after = (math.ceil(height / s), math.ceil(width / s))  # padded so that a stride-s conv rounds up
    return [expanded, (*after, t * channels), (*after, c)]
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
week2.check_shapes_through_block(shapes_through_block)

# %% [markdown]
# ### Exercise 2 — does the block add its input?
#
# Return True when a block with this stride, number of input channels and output channels gets a residual
# connection. The check compares your answer with every block of the real model (does it have an `_add` layer?).

# %%
def has_residual(stride, in_channels, out_channels):
    """True when the block's input is added to its output."""
    ### BEGIN SOLUTION
    return stride == 1 and in_channels == out_channels
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
week2.check_has_residual(has_residual)

# %% [markdown]
# ### Exercise 3 — the reconstruction error
#
# Write the error used in section 4: the root of the mean (over points) squared distance between the original
# and the recovered points, divided by the root of the mean squared distance of the original points to 0. Both
# arguments are arrays of shape (points, 2). Identical points give 0; answering 0 for every point gives 1.

# %%
def reconstruction_error(original, recovered):
    """Relative RMS distance between two (points, 2) arrays."""
    ### BEGIN SOLUTION
    squared_distance = np.sum((original - recovered) ** 2, axis=1)
    squared_radius = np.sum(original ** 2, axis=1)
    return float(np.sqrt(squared_distance.mean() / squared_radius.mean()))
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
week2.check_reconstruction_error(reconstruction_error)

# %% [markdown]
# ## Self-check
#
# You should now be able to explain, without looking:
#
# - the four steps of an inverted residual block, which of them have an activation, and which change the number of
#   channels or the size;
# - why block 0 has no expansion layer, and why Keras puts a `ZeroPadding2D` before stride-2 depthwise convs;
# - how to prove that two implementations of a layer compute the same thing (same weights, same input, compare);
# - what t, c, n and s mean in Table 2, how many bottleneck blocks MobileNetV2 has, and why the paper's text gives
#   another number;
# - which blocks have a residual connection, and why the others cannot;
# - why MobileNetV2 only has to keep narrow tensors between blocks, while a ResNet keeps wide ones, and how much
#   memory streaming a block saves;
# - why a ReLU in few dimensions destroys information that a ReLU in many dimensions keeps, and therefore why the
#   projection to the narrow bottleneck is linear;
# - why the scale of the input matters for ReLU6 and not for ReLU.
