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
# # Week 3 — Receptive fields
#
# A unit of a convolutional layer does not see the whole photo: it sees a window of it, its
# **receptive field**. How large that window is decides what a layer *can* recognise (the
# texture of a bottle's label, or the whole bottle). This week you compute it for the real
# `keras.applications.MobileNetV2`, check the computation by brute force, and then measure
# how much of that window the trained network really *uses*.
#
# **Learning goals.** By the end you can
# - compute the receptive field, the jump (effective stride) and the offset of a stack of
#   layers with the recurrence r_out = r_in + (k − 1)·j_in, j_out = j_in·s;
# - read MobileNetV2's field block by block, beside a small VGG-style CNN, and say why its
#   last layer sees more pixels than the image has;
# - explain what padding does to the fields: 'same' padding, and the asymmetric
#   ZeroPadding2D((0, 1), (0, 1)) before each stride-2 depthwise convolution;
# - check a theoretical field against the gradient of one unit (the brute-force way);
# - measure an *effective* receptive field, and judge the lecture notes' claim that
#   MobileNetV2 "sees ~150×150 px (70% of the image)".
#
# **Time:** about 90 minutes (50 minutes of reading and running, 25 minutes for the two
# exercises, 15 minutes with the widget). The notebook itself runs in a few minutes on a
# laptop CPU in full mode; it trains nothing.

# %% tags=["parameters"]
# Fast mode is what CI runs (2 sample photos for the effective field instead of 20): never a
# smaller network.
import os
MODE = os.environ.get("WORKBOOK_MODE", "full")
FAST = MODE == "fast"
IMAGE_SIZE = 224  # what the lecture notes' claim is about
ERF_PHOTOS = 2 if FAST else 20  # sample photos the effective field is averaged over

# %%
import lessons  # noqa: F401  (first: it quiets TensorFlow's start-up log lines)
import keras
import matplotlib.pyplot as plt
import numpy as np

from lessons import images, paths
from lessons import model as mv2
from lessons import receptive_field as rf
from lessons.exercises.week3 import check_field_span, check_stack_field
from lessons.notebook import show_source
from widgets import receptive_field as rf_widget

# %% [markdown]
# ## 1. The recurrence, one layer at a time
#
# Number the input pixels 0, 1, 2, … along one axis (rows and columns are handled the same
# way, separately). For the units of any layer, three numbers describe their fields:
#
# - the **size** r: how many input pixels one unit sees;
# - the **jump** j (the *effective stride*): how many input pixels apart two neighbouring
#   units' fields are;
# - where unit 0's field **starts** (its first pixel f); its centre, the **offset**, is
#   f + (r − 1)/2. A field that starts below 0 reaches into the padding.
#
# An input pixel sees itself: r = 1, j = 1, f = 0. A layer with a k-wide window (kernel or
# pool), stride s and p zeros of padding before its input then gives
#
# - r_out = r_in + (k − 1)·j_in: the window spans k of its input's units, which are j_in
#   pixels apart, so it adds k − 1 steps of j_in pixels;
# - j_out = j_in·s: moving one output unit moves the window s input units;
# - f_out = f_in − p·j_in: the first window starts p units before the input.
#
# A dilated kernel (dilation d) spreads its k taps over d·(k − 1) + 1 units, holes included.
# That is the whole theory, in the course's code:

# %%
show_source(rf.conv_axis)

# %% [markdown]
# Three 3×3 convolutions, stride 1, without padding: each adds k − 1 pixels to the field.
# Then the same with a stride of 2 in the first layer: every later layer adds (k − 1)·2,
# because its taps are now 2 input pixels apart.

# %%
# NBVAL_CHECK_OUTPUT
for strides in [(1, 1, 1), (2, 1, 1)]:
    axis = rf.input_axis(IMAGE_SIZE)
    steps = []
    for stride in strides:
        axis = rf.conv_axis(axis, kernel=3, stride=stride)
        steps.append(f"r={axis.size} j={axis.jump}")
    print(f"strides {strides}: " + " -> ".join(steps) + f"; unit 0 is centred on pixel {axis.offset:g}")

# %% [markdown]
# ### Exercise 1: the field of a stack of layers
#
# Write `stack_field(layers)`: `layers` is a list of `(kernel, stride)` pairs, applied in
# order to the input; return `(size, jump)` of the last layer's units, in input pixels.
# (No padding and no dilation: they do not change the size or the jump.)

# %%
# NBVAL_CHECK_OUTPUT
def stack_field(layers):
    ### BEGIN SOLUTION
    size, jump = 1, 1
    for kernel, stride in layers:
        size += (kernel - 1) * jump
        jump *= stride
    return size, jump
    ### END SOLUTION


check_stack_field(stack_field)

# %% [markdown]
# ## 2. Walking a real graph: a baseline CNN and MobileNetV2
#
# MobileNetV2 is not a chain of layers: each residual block adds its input back to its
# output. `rf.walk` follows the model's graph itself, from the input through each layer's
# inbound tensors, so every layer gets the field of what really feeds it:
#
# - a convolution or pooling layer applies the recurrence with its kernel, stride,
#   dilation and padding ('valid': none; 'same': as much as TensorFlow adds, see §3);
# - ZeroPadding2D is a 1×1 window with padding; Cropping2D a negative padding;
# - BatchNormalization, ReLU, Dropout, Dense and other per-position layers keep the field;
# - Add, Concatenate and other merges take the **union** of their inputs' fields. The
#   inputs must step through the image with the same jump (else the union would change from
#   one unit to the next); their windows may start at different pixels, and the union
#   covers both:

# %%
show_source(rf.merge_axes)

# %% [markdown]
# Each computed output size is checked against Keras' own shapes as the walk goes, so a
# misread padding cannot pass silently.
#
# First a baseline: a small VGG-style CNN, five stages of two 3×3 convolutions and a 2×2
# max pool, so that it ends on the same grid as MobileNetV2, with the same jump (five
# halvings of the image).

# %%
def baseline_cnn(size=IMAGE_SIZE):
    """Five stages of (3x3 conv, 3x3 conv, 2x2 max pool): a small VGG-style CNN."""
    inputs = keras.Input((size, size, 3))
    x = inputs
    for stage, channels in enumerate((16, 32, 64, 128, 128), start=1):
        for conv in (1, 2):
            x = keras.layers.Conv2D(channels, 3, padding="same", activation="relu", name=f"stage{stage}_conv{conv}")(x)
        x = keras.layers.MaxPooling2D(name=f"stage{stage}_pool")(x)
    return keras.Model(inputs, x, name="baseline")


baseline_rows = rf.walk(baseline_cnn())

# %%
# NBVAL_CHECK_OUTPUT
print(rf.format_table(baseline_rows))

# %% [markdown]
# Now the real MobileNetV2 at the lecture notes' image size. The model is built with the weights used later for
# the effective field: the ImageNet weights the course ships (a trained network's effective
# field differs from a random one's; the printed line says which weights these are). The
# theoretical field depends on the layers only, never on the weights.

# %%
base = mv2.build_backbone(IMAGE_SIZE)
rows = rf.walk(base)
WEIGHTS_SENTENCE = mv2.describe_weights()
print(f"MobileNetV2 built with {WEIGHTS_SENTENCE}.")

# %% [markdown]
# One row per part of the network: the stem convolution, the 17 bottleneck blocks (0–16),
# each at its last layer, and the top 1×1 convolution:

# %%
# NBVAL_CHECK_OUTPUT
ends = rf.block_ends(rows)
print(rf.format_table(ends))

# %%
# NBVAL_CHECK_OUTPUT
top, baseline_top = rows[-1], baseline_rows[-1]
assert (top.size, top.jump) == (491, 32), (top.size, top.jump)
for name, row in (("MobileNetV2", top), ("baseline CNN", baseline_top)):
    print(f"{name:>12}: {row.name} has {row.grid[0]}×{row.grid[1]} units, {row.jump} px apart, "
          f"each seeing {row.size}×{row.size} px")
print(f"MobileNetV2's field is {top.size / baseline_top.size:.1f}× as wide as the baseline's.")

# %% [markdown]
# Same output grid, same jump, and yet a much wider field. The table shows
# why: a block's 3×3 depthwise convolution adds 2·j pixels, and MobileNetV2 runs most of its
# blocks at low resolution, where j is large. Where the field grows, block by block:

# %%
# NBVAL_CHECK_OUTPUT
for before, after in zip(ends, ends[1:]):
    if after.size > before.size:
        print(f"{after.name:<26} +{after.size - before.size:>3} px  (jump {before.jump:>2} -> {after.jump:>2})")

# %%
plt.figure(figsize=(8, 4.5))
plt.plot([r.size for r in rows], label="MobileNetV2 (every layer)")
plt.plot([r.size for r in baseline_rows], label="baseline CNN (every layer)")
plt.axhline(IMAGE_SIZE, color="grey", linestyle="--", label=f"the image: {IMAGE_SIZE} px")
plt.xlabel("layer (in graph order)")
plt.ylabel("receptive field (px)")
plt.title("The theoretical field grows with every layer that has a window")
plt.legend()
plt.show()

# %% [markdown]
# ## 3. Padding: a field larger than the image
#
# The last layer's units each see a field wider than the image itself (the table above).
# The rest of each field is **padding**: the zeros that 'same' convolutions and ZeroPadding2D
# add around their inputs. Layer after layer, these zeros make every window reach further
# beyond the image's edge. Here are three units of the last layer (a corner, the centre, the other
# corner), to scale:

# %%
units = [(0, 0), top.centre_unit(), (top.grid[0] - 1, top.grid[1] - 1)]
rf_widget.padding_figure(top, units)
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
for unit in units:
    (top_px, bottom_px), (left_px, right_px) = top.box(unit)
    print(f"unit {unit}: rows {top_px}..{bottom_px}, cols {left_px}..{right_px}; "
          f"{top.on_image(unit, (IMAGE_SIZE, IMAGE_SIZE)):.1%} of its field is on the image")
print(f"unit centres along each axis: {[top.rows.centre(u) for u in range(top.grid[0])]}; "
      f"the image's centre is {(IMAGE_SIZE - 1) / 2}")

# %% [markdown]
# Two things to notice.
#
# 1. **Every** unit of the last layer sees the whole image. What differs between units is
#    only *where* in their window the image sits: a corner unit sees the image in a corner
#    of its field, and zeros elsewhere.
# 2. The grid of unit centres is **not centred** on the image: it is shifted towards the
#    bottom-right. The cause is the padding of the stride-2 layers. For an even input size,
#    TensorFlow's 'same' padding puts its one extra zero *after* the input, and Keras'
#    MobileNetV2 pads with ZeroPadding2D(((0, 1), (0, 1))) before each stride-2 depthwise
#    convolution for the same reason. The first window therefore starts on pixel 0 instead of
#    one pixel before it, and each stride-2 layer moves the grid by half of its new jump.

# %%
show_source(rf.same_padding)

# %%
# NBVAL_CHECK_OUTPUT
for name in ("Conv1", "block_1_pad", "block_1_depthwise"):
    row = rf.field_of(rows, name)
    print(f"{name:<18} {row.layer:<16} field {row.size} px, jump {row.jump}, unit 0 starts on pixel "
          f"{row.rows.first} and is centred on {row.offset:g}")
for size in (IMAGE_SIZE, IMAGE_SIZE + 1):
    print(f"'same' padding of a 3×3, stride-2 window on {size} px: {rf.same_padding(size, 3, 2)} (before, after)")

# %% [markdown]
# ### Exercise 2: which pixels does a unit see?
#
# Write `field_span(first, size, jump, unit, image_size)`: for a layer whose unit 0's field
# starts on pixel `first`, is `size` pixels wide, with units `jump` pixels apart, return the
# first and last pixel `(lo, hi)` (both included) that unit number `unit` sees *on the image*,
# i.e. clipped to the pixels 0 … image_size − 1. (This is what the widget below draws.)

# %%
# NBVAL_CHECK_OUTPUT
def field_span(first, size, jump, unit, image_size):
    ### BEGIN SOLUTION
    lo = first + unit * jump
    hi = lo + size - 1
    return max(lo, 0), min(hi, image_size - 1)
    ### END SOLUTION


check_field_span(field_span)

# %% [markdown]
# ## 4. Checking the theory by brute force
#
# The theory says which pixels a unit *can* depend on. To check it, measure which pixels it
# *does* depend on: the gradient of the unit with respect to the input is non-zero exactly
# where a change of the pixel changes the unit. Two things could hide a pixel from the
# gradient: weights that cancel, and ReLUs that are switched off (or ReLU6s that saturate).
# `rf.set_positive_weights` removes both: every kernel becomes an average, every
# BatchNormalization the identity, and tiny positive inputs keep every ReLU in its linear
# part. Then the gradient's support must be the theoretical field, clipped to the image,
# pixel for pixel.

# %%
show_source(rf.set_positive_weights)

# %% [markdown]
# A fresh MobileNetV2 at a small input size (the same graph: only the image is smaller),
# with those weights; for a few layers, the field of a corner unit and of the centre unit:

# %%
PROBE_SIZE = 96
probe = rf.set_positive_weights(mv2.build_backbone(PROBE_SIZE, weights="none"))
probe_rows = rf.walk(probe)
tiny = np.random.default_rng(0).uniform(0.1, 1.0, (1, PROBE_SIZE, PROBE_SIZE, 3)) * 1e-3  # keeps every ReLU linear

# %%
# NBVAL_CHECK_OUTPUT
for name in ("block_1_project_BN", "block_3_depthwise_relu", "block_5_add", "block_6_project_BN"):
    row = rf.field_of(probe_rows, name)
    part = keras.Model(probe.input, probe.get_layer(name).output)
    for unit in ((0, 0), row.centre_unit()):
        measured = rf.support_box(rf.input_gradient(part, tiny, unit)[0])
        theory = row.box(unit, (PROBE_SIZE, PROBE_SIZE))
        print(f"{name:<23} unit {str(unit):<8} theory {theory}  gradient {measured}  "
              f"{'same' if measured == theory else 'DIFFERENT'}")

# %% [markdown]
# At that size the last layer's fields cover the whole image, so the check above cannot
# show their full width. On an input large enough for the centre unit's field to fit inside
# the image, the gradient measures all of it:

# %%
# NBVAL_CHECK_OUTPUT
LARGE_SIZE = 576
large = rf.set_positive_weights(mv2.build_backbone(LARGE_SIZE, weights="none"))
large_top = rf.walk(large)[-1]
gradient = rf.input_gradient(large, np.full((1, LARGE_SIZE, LARGE_SIZE, 3), 5e-4), large_top.centre_unit())[0]
(g_top, g_bottom), (g_left, g_right) = rf.support_box(gradient)
print(f"{large_top.name} at {LARGE_SIZE} px, unit {large_top.centre_unit()}: the gradient is non-zero on "
      f"{g_bottom - g_top + 1}×{g_right - g_left + 1} px; the theory says {large_top.size}×{large_top.size}.")

# %%
plt.figure(figsize=(5.5, 5))
plt.imshow(np.log10(gradient, where=gradient > 0, out=np.full_like(gradient, np.nan)), cmap="viridis")
plt.colorbar(label="log10 |gradient|")
plt.title(f"{large_top.name}, centre unit, positive weights:\n|gradient| spans "
          f"{np.log10(gradient.max() / gradient[gradient > 0].min()):.0f} orders of magnitude")
plt.show()

# %% [markdown]
# The log scale shows what the theory cannot: the gradient at the edge of the field is
# many orders of magnitude smaller than at its centre. A pixel at the very edge of the field
# reaches the unit along a single path of extreme kernel taps; a pixel near the centre along
# a huge number of paths. That is the starting point of the next section.
#
# ## 5. The effective receptive field
#
# The theoretical field is an **upper bound**: the pixels a unit *could* depend on. How much
# it *does* depend on each pixel is measured by the gradient of the unit with respect to the
# photo, with the network's real weights, averaged over real photos: the **effective
# receptive field** (Luo et al., *Understanding the Effective Receptive Field in Deep
# Convolutional Neural Networks*, 2016). It is much narrower than the theoretical field, and
# tends to a Gaussian-like blob: the plot above is the count of paths alone (all weights
# equal), already bell-shaped; real weights reshape it, but the pixels near the centre keep
# far more paths to the unit than those at the edge.
#
# To put a number on it, `rf.mass_square` finds the smallest square, centred on the unit's
# field, that holds 95 % of the gradient's mass (|gradient| summed over colour channels).

# %%
per_class = sorted(folder for folder in paths.SAMPLE_DATA.iterdir() if folder.is_dir())
photo_files = [sorted(per_class[i % len(per_class)].glob("*.jpg"))[i // len(per_class)] for i in range(ERF_PHOTOS)]
photos = np.stack([images.load_pixels(path, IMAGE_SIZE) for path in photo_files])
heatmap, unit = rf.effective_field(base, photos)
centre = (top.rows.centre(unit[0]), top.cols.centre(unit[1]))
print(f"Effective field of {top.name}, unit {unit}, averaged over {len(photos)} sample photos, "
      f"with {WEIGHTS_SENTENCE}.")

# %%
rf_widget.draw_field(photos[0], heatmap, top, unit,
                     title=f"{top.name}, mean over {len(photos)} photos ({WEIGHTS_SENTENCE})")
plt.show()

# %% [markdown]
# The lecture notes say MobileNetV2 sees "~150×150 px (70% of the image)". Put that beside
# the two fields of the last layer's centre unit:

# %%
CLAIM_SIDE = 150  # px, from the lecture notes
effective_side = rf.mass_square(heatmap, centre)
print(f"theoretical field:                    {top.size}×{top.size} px "
      f"({top.size / IMAGE_SIZE:.2f}× the image's side)")
print(f"effective field (95% of |gradient|):  {effective_side:g}×{effective_side:g} px")
print(f"effective field (50% of |gradient|):  {rf.mass_square(heatmap, centre, 0.5):g} px square")
print(f"the claim:                            {CLAIM_SIDE}×{CLAIM_SIDE} px = {CLAIM_SIDE / IMAGE_SIZE:.0%} of the "
      f"side, {(CLAIM_SIDE / IMAGE_SIZE) ** 2:.0%} of the area of a {IMAGE_SIZE}-px image")
print(f"a {CLAIM_SIDE}-px square around the unit holds {rf.mass_inside(heatmap, centre, CLAIM_SIDE):.0%} "
      f"of the gradient ({WEIGHTS_SENTENCE})")

# %% [markdown]
# How do the two fields grow through the network? The same measure for the centre unit of
# each part:

# %%
sizes = rf.effective_sizes(base, photos, [row.name for row in ends])
plt.figure(figsize=(9, 4.5))
x = np.arange(len(sizes))
plt.plot(x, [s[1] for s in sizes], "o-", label="theoretical field")
plt.plot(x, [s[2] for s in sizes], "s-", label="effective field (95% square)")
plt.axhline(IMAGE_SIZE, color="grey", linestyle="--", label=f"the image: {IMAGE_SIZE} px")
plt.axhline(CLAIM_SIDE, color="tab:red", linestyle=":", label=f"the lecture notes: {CLAIM_SIDE} px")
plt.xticks(x, [mv2.block_of(name) for name, _, _ in sizes])
plt.xlabel("part of MobileNetV2 (its last layer)")
plt.ylabel("side (px)")
plt.title(f"Theoretical and effective fields ({WEIGHTS_SENTENCE})", fontsize=9)
plt.legend()
plt.show()
for name, theory, effective in sizes:
    print(f"{name:<26} theoretical {theory:>3} px   effective {effective:>5g} px   ({effective / theory:.0%})")

# %% [markdown]
# What to take from this:
#
# - The theoretical field grows by (k − 1)·j with every layer that has a window; the
#   effective field grows much more slowly, and its share of the theoretical field tends to
#   fall as the network gets deeper. Once the effective field reaches the image's edges it cannot
#   grow further: the gradient lives on image pixels only. (The square is centred on the
#   unit, not on the image, so it can come out a little wider than the image.)
# - "How much does a unit see" has no single answer: it depends on the measure (which share
#   of the gradient mass), on the weights (a trained network spreads its attention
#   differently from a random one: the printed lines say which weights these are), and on
#   which layer is meant. A claim like "~150×150 px" is neither the theoretical field (that
#   is larger than the image) nor a property of the architecture alone; compare the
#   numbers above with it, and say which measure you used when you quote one.
# - "70 % of the image" is about the side: a 150-px square covers far less of the area.
#
# ## 6. The widget: one unit on one photo
#
# Choose a layer (the end of each part of the network), a photo and the unit's position
# (0 = top/left, 1 = bottom/right). The left panel draws the unit's theoretical field over the
# photo, clipped to it; the right panel its effective field on that photo alone, with the
# square that holds 95 % of it. For example, the top-right unit of block 6:

# %%
fig, data = rf_widget.field_figure(photo_files[0], "block_6_project_BN", unit=(0, 13))
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
rf_widget.show_receptive_field()

# %% [markdown]
# Things to try: the stem (Conv1_relu) and block 1, where the field is a few pixels; a corner
# unit of block 13 and of the top layer; the same unit on different photos (the effective
# field moves with what is in the photo, the theoretical one never does).
#
# ## Self-check
#
# You should now be able to explain, without looking back:
#
# - the recurrence for size, jump and offset, and why a layer after a stride adds
#   (k − 1)·j_in pixels and not k − 1;
# - what field and jump MobileNetV2's last layer has, and why a plain CNN with
#   the same jump sees much less;
# - what the part of a field outside the image is, and why the last layer's grid of unit
#   centres is shifted towards the bottom-right on an even-sized image;
# - how a gradient checks a theoretical field, and what weights make that check exact;
# - why the effective field is smaller than the theoretical one and roughly Gaussian, and
#   what you would need to know before agreeing with "~150×150 px (70% of the image)".
