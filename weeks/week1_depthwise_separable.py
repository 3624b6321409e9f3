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
# # Week 1 — Depthwise separable convolution
#
# MobileNetV2 runs on a phone because almost none of its convolutions is a "standard" one:
# each is split into a cheap **depthwise** convolution (one small filter per channel) and a
# **pointwise** 1×1 convolution (that mixes the channels). This week you count what that
# saves, first for one layer, then for the whole real `keras.applications.MobileNetV2`.
#
# **Learning goals.** By the end you can
# - write the number of parameters and multiply-adds of a standard, a depthwise and a
#   pointwise convolution, and check them against real Keras layers;
# - derive the saving of depthwise + pointwise, 1/C_out + 1/K², and say where it is large;
# - show that depthwise followed by pointwise *is* a standard convolution, with a restricted kernel;
# - count the real MobileNetV2 layer by layer and find where its parameters and its
#   multiply-adds go;
# - explain how the width multiplier α and the image size change the cost, and why the
#   figures quoted in the paper and in lecture notes differ from what Keras reports.
#
# **Time:** about 2 hours (75 minutes of reading and running, 30 minutes for the two
# exercises, 15 minutes with the widget). Nothing is trained this week: the models are built
# with random weights, because counting needs no download.

# %% tags=["parameters"]
# Fast mode is what CI runs (it counts every width multiplier at 2 image sizes instead of 5):
# never a smaller network.
import os
MODE = os.environ.get("WORKBOOK_MODE", "full")
FAST = MODE == "fast"
ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)  # the widths Keras has ImageNet weights for
SIZES = (96, 224) if FAST else (96, 128, 160, 192, 224)

# %%
import lessons  # noqa: F401  (first: it quiets TensorFlow's start-up log lines)
import keras
import matplotlib.pyplot as plt
import numpy as np

from lessons import convcost
from lessons.exercises.week1 import check_separable_params, check_standard_macs
from lessons.notebook import show_source
from widgets.conv_cost import ratio_figure, show_conv_cost

# %% [markdown]
# ## 1. Three convolutions and their parameters
#
# A convolution layer with a K×K kernel reads C_in channels and writes C_out channels.
#
# - **Standard**: each of the C_out output channels has its own K×K filter *over every input
#   channel*: K·K·C_in weights per output channel, K·K·C_in·C_out in all. It looks at space
#   and mixes channels in one step.
# - **Depthwise**: one K×K filter per channel, applied to that channel only: K·K·C_in
#   weights, and as many channels out as in. It looks at space, never mixes channels.
# - **Pointwise**: a standard convolution with a 1×1 kernel: C_in·C_out weights. It mixes
#   channels, never looks at neighbours.
#
# MobileNetV2's convolutions have no bias (a BatchNormalization follows each of them and has
# its own shift), so the course's functions count none unless asked:

# %%
show_source(convcost.standard_params)
show_source(convcost.depthwise_params)
show_source(convcost.pointwise_params)

# %% [markdown]
# Real Keras layers count their own weights (`count_params()`); our formulas must agree.
# The classic example: a 56×56 feature map with 64 channels, turned into 128 channels by
# a 3×3 convolution.

# %%
# NBVAL_CHECK_OUTPUT
example = keras.Input((56, 56, 64))
real_layers = {  # name: (a real Keras layer, our count for it)
    "standard 3×3": (keras.layers.Conv2D(128, 3, padding="same", use_bias=False),
                     convcost.standard_params(3, 64, 128)),
    "depthwise 3×3": (keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False),
                      convcost.depthwise_params(3, 64)),
    "pointwise 1×1": (keras.layers.Conv2D(128, 1, use_bias=False),
                      convcost.pointwise_params(64, 128)),
    "standard 3×3 + bias": (keras.layers.Conv2D(128, 3, padding="same"),
                            convcost.standard_params(3, 64, 128, bias=True)),
}
for name, (layer, ours) in real_layers.items():
    layer(example)  # calling the layer on the input builds its weights
    assert layer.count_params() == ours
    print(f"{name:<20} Keras {layer.count_params():>7,}   ours {ours:>7,}")

# %% [markdown]
# ### Exercise 1: the parameters of a depthwise separable convolution
#
# Write `separable_params(kernel_size, c_in, c_out)`: the weights of a K×K depthwise
# convolution on C_in channels followed by a pointwise convolution from C_in to C_out
# channels (no biases). The check tries it on several layers and says what is wrong.

# %%
# NBVAL_CHECK_OUTPUT
def separable_params(kernel_size, c_in, c_out):
    ### BEGIN SOLUTION
    return kernel_size * kernel_size * c_in + c_in * c_out
    ### END SOLUTION


check_separable_params(separable_params)

# %% [markdown]
# On the classic example, the course's own `convcost.separable_params`:

# %%
# NBVAL_CHECK_OUTPUT
standard = convcost.standard_params(3, 64, 128)
separable = convcost.separable_params(3, 64, 128)
assert (standard, separable) == (73_728, 8_768)
print(f"standard 3×3 conv, 64 -> 128 channels: {standard:,} parameters")
print(f"depthwise 3×3 + pointwise 1×1:         {separable:,} parameters")
print(f"{standard / separable:.1f}× fewer")

# %% [markdown]
# ## 2. Multiply-adds
#
# Parameters say how much memory a layer needs; **multiply-adds** (MACs: one multiplication
# and one addition into a running sum) say how much arithmetic it does. A convolution
# without bias uses each of its weights once at every output position: to get one output
# value, a standard convolution multiplies a K×K×C_in patch by one filter, and it computes
# H_out·W_out·C_out such values.
#
# ### Exercise 2: the multiply-adds of a standard convolution
#
# Write `standard_macs(kernel_size, c_in, c_out, size)`: the multiply-adds of a standard K×K
# convolution from C_in to C_out channels whose output map is size×size, for one image.

# %%
# NBVAL_CHECK_OUTPUT
def standard_macs(kernel_size, c_in, c_out, size):
    ### BEGIN SOLUTION
    return size * size * kernel_size * kernel_size * c_in * c_out
    ### END SOLUTION


check_standard_macs(standard_macs)

# %% [markdown]
# The course's version, and the three convolutions of the classic example side by side:

# %%
show_source(convcost.standard_macs)
show_source(convcost.conv_costs)

# %%
# NBVAL_CHECK_OUTPUT
costs = convcost.conv_costs(3, 64, 128, 56)
for name in ("standard", "depthwise", "pointwise", "separable"):
    print(f"{name:<10} {costs[name].params:>8,} parameters {costs[name].macs:>13,} multiply-adds")
print(f"depthwise + pointwise do {costs['times_fewer']:.1f}× fewer multiply-adds")

# %% [markdown]
# Keras does not count multiply-adds, but we can make a real layer count them for us: set
# every input and every weight to 1, and each multiply-add adds exactly 1 to the output.
# The sum of the outputs *is* the number of multiply-adds. (With `padding="valid"`, so that
# no padded zeros hide any: a 58×58 input then gives the 56×56 output of our example.)

# %%
show_source(convcost.macs_by_running)

# %%
# NBVAL_CHECK_OUTPUT
by_running = {
    "standard": convcost.macs_by_running(keras.layers.Conv2D(128, 3, use_bias=False), (58, 58, 64)),
    "depthwise": convcost.macs_by_running(keras.layers.DepthwiseConv2D(3, use_bias=False), (58, 58, 64)),
    "pointwise": convcost.macs_by_running(keras.layers.Conv2D(128, 1, use_bias=False), (56, 56, 64)),
}
for name, counted in by_running.items():
    assert counted == costs[name].macs
    print(f"{name:<10} counted by running the layer: {counted:>13,}   formula: {costs[name].macs:>13,}")

# %% [markdown]
# ## 3. The saving in general: 1/C_out + 1/K²
#
# Divide the separable cost by the standard one:
#
# (K²·C_in + C_in·C_out) / (K²·C_in·C_out) = 1/C_out + 1/K²
#
# C_in and the map size cancel out: the saving depends only on the kernel and on the number
# of output channels, and it is the same for parameters and for multiply-adds. With many
# output channels the saving approaches K²: the depthwise part then costs almost nothing
# next to the pointwise part.

# %%
show_source(convcost.separable_ratio)

# %%
# NBVAL_CHECK_OUTPUT
ratio = convcost.separable_ratio(3, 128)
assert np.isclose(ratio, costs["separable"].params / costs["standard"].params)
assert np.isclose(ratio, costs["separable"].macs / costs["standard"].macs)
print(f"K = 3, C_out = 128: 1/C_out + 1/K² = {ratio:.4f}, i.e. {1 / ratio:.1f}× fewer parameters and multiply-adds")
print(f"the limit for many output channels, K² = {1 / convcost.separable_ratio(3, np.inf):.0f}× fewer")

# %%
ratio_figure()
plt.show()

# %% [markdown]
# The dashed lines are the floors 1/K². Larger kernels save more, and a 1×1 "depthwise"
# convolution (K = 1) would make the pair *more* expensive than one convolution: it only
# rescales each channel.

# %% [markdown]
# ## 4. Depthwise + pointwise *is* a standard convolution, with a restricted kernel
#
# Follow one output value o at one position. The depthwise conv gives, for each channel c,
# Σ_ij depthwise[i, j, c] · x[i, j, c]; the pointwise conv then sums these over c with the
# weights pointwise[c, o]. Put together:
#
# Σ_ijc depthwise[i, j, c] · pointwise[c, o] · x[i, j, c]
#
# which is a standard convolution whose kernel is kernel[i, j, c, o] = depthwise[i, j, c] ·
# pointwise[c, o]. Let us build that kernel and run both with real Keras layers.

# %%
show_source(convcost.separable_as_standard_kernel)
show_source(convcost.separable_vs_standard)

# %%
separable_out, standard_out = convcost.separable_vs_standard(kernel_size=3, c_in=8, c_out=16, size=12)
print(f"largest difference between the two outputs: {np.abs(separable_out - standard_out).max():.1e}")

# %%
# NBVAL_CHECK_OUTPUT
same = np.allclose(separable_out, standard_out, atol=1e-5)
assert same
print(f"outputs of shape {separable_out.shape}: depthwise + pointwise == standard conv with the built kernel: {same}")

# %% [markdown]
# So what is *restricted*? A standard kernel may use any K·K·C_in·C_out numbers. In the
# built one, the K·K × C_out slice that belongs to one input channel c is an outer product
# (a spatial filter times a row of channel weights): its rank is 1, where a freely trained
# kernel's slice generally has rank min(K·K, C_out). Depthwise + pointwise cannot express
# a filter whose spatial shape differs from one output channel to the next.

# %%
show_source(convcost.channel_slice_ranks)

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(0)
built = convcost.separable_as_standard_kernel(rng.normal(size=(3, 3, 8, 1)), rng.normal(size=(1, 1, 8, 16)))
free = rng.normal(size=(3, 3, 8, 16))
print("rank of each input channel's slice, built kernel:", convcost.channel_slice_ranks(built))
print("rank of each input channel's slice, free kernel: ", convcost.channel_slice_ranks(free))
print(f"numbers that define them: built {3 * 3 * 8 + 8 * 16:,} (depthwise + pointwise), free {free.size:,}")

# %% [markdown]
# In MobileNetV2 a BatchNormalization and a ReLU6 sit between the depthwise conv and the
# pointwise projection after it, so the real block is not one convolution; its cost is
# still that of the pair.
#
# ## 5. The real MobileNetV2, layer by layer
#
# `convcost.layer_cost` reads a Keras layer's settings and its input and output shapes and
# applies the formulas; `cost_by_kind` walks a model's layers and adds them up. A layer with
# weights that it does not know raises an error rather than being skipped silently.
# BatchNormalization counts 4 numbers per channel (scale, shift, moving mean, moving
# variance: Keras counts the last two although no optimiser changes them) and no
# multiply-adds: at inference it is folded into the convolution before it. ReLU6, the
# residual additions and the pooling are not counted, as is usual (and as in the paper).

# %%
show_source(convcost.layer_cost)
show_source(convcost.cost_by_kind)

# %%
# NBVAL_IGNORE_OUTPUT
# weights=None: random weights, enough for counting and no download.
with_top = convcost.mobilenetv2(alpha=1.0, image_size=224, include_top=True)
no_top = convcost.mobilenetv2(alpha=1.0, image_size=224, include_top=False)

# %%
# NBVAL_CHECK_OUTPUT
for model in (with_top, no_top):
    mismatches = [layer.name for layer in model.layers if convcost.layer_cost(layer).params != layer.count_params()]
    assert not mismatches, mismatches
cost_top, cost_no_top = convcost.model_cost(with_top), convcost.model_cost(no_top)
assert cost_top.params == with_top.count_params() == 3_538_984
assert cost_no_top.params == no_top.count_params() == 2_257_984
assert cost_top.macs == 300_774_272
print(f"{len(with_top.layers)} layers; our formula agrees with count_params() on every one")
print(f"without the classifier: {cost_no_top.params:>10,} parameters {cost_no_top.macs:>13,} multiply-adds at 224 px")
print(f"with the classifier:    {cost_top.params:>10,} parameters {cost_top.macs:>13,} multiply-adds at 224 px"
      f" ({cost_top.macs / 1e6:.1f} M)")

# %% [markdown]
# Where do they go? The 3×3 stem is MobileNetV2's only standard convolution; all the others
# are depthwise or pointwise.

# %%
# NBVAL_CHECK_OUTPUT
kinds = convcost.cost_by_kind(with_top)
print(f"{'kind':<10}{'parameters':>12}{'share':>8}{'multiply-adds':>16}{'share':>8}")
for kind, cost in kinds.items():
    print(f"{kind:<10}{cost.params:>12,}{cost.params / cost_top.params:>8.1%}"
          f"{cost.macs:>16,}{cost.macs / cost_top.macs:>8.1%}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
for ax, field, title in zip(axes, ("params", "macs"), ("parameters", "multiply-adds at 224 px")):
    ax.barh(list(kinds), [getattr(cost, field) / 1e6 for cost in kinds.values()])
    ax.set(title=f"MobileNetV2 (α = 1, with classifier): {title}", xlabel="millions")
    ax.invert_yaxis()
fig.tight_layout()
plt.show()

# %% [markdown]
# The pointwise convolutions do almost all the arithmetic: the depthwise ones are so cheap
# that the 1×1 convolutions are what is left to pay. The 1000-class classifier holds a large
# share of the parameters, but does almost no arithmetic.
#
# And if every depthwise conv and the projection after it were one standard 3×3 conv,
# with the same channels in and out?

# %%
show_source(convcost.with_standard_convs)

# %%
# NBVAL_CHECK_OUTPUT
standard_net = convcost.with_standard_convs(with_top)
print(f"with standard convs: {standard_net.params:,} parameters, {standard_net.macs:,} multiply-adds")
print(f"that is {standard_net.params / cost_top.params:.1f}× the parameters and "
      f"{standard_net.macs / cost_top.macs:.1f}× the multiply-adds of the real MobileNetV2")

# %% [markdown]
# Less than the saving of a single layer (section 3): the expansion 1×1 convolutions of
# every block, which are pointwise already, stay as they are.
#
# ## 6. Width multiplier α and image size
#
# MobileNetV2 has two knobs. The **width multiplier** α scales the channels of every layer
# (parameters and multiply-adds then shrink roughly like α²); the **image size** scales
# every feature map (multiply-adds shrink like size², parameters do not change). Keras builds
# the real model for each: let us count them all.

# %%
# NBVAL_IGNORE_OUTPUT
table = convcost.width_resolution_table(ALPHAS, SIZES)

# %%
# NBVAL_CHECK_OUTPUT
print(f"{'alpha':>5}{'size':>6}{'parameters':>12}{'without BN':>12}{'without top':>13}{'multiply-adds':>15}")
for row in table:
    print(f"{row['alpha']:>5}{row['size']:>6}{row['params']:>12,}{row['params_without_bn']:>12,}"
          f"{row['params_without_top']:>13,}{row['macs']:>15,}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
for alpha in ALPHAS:
    rows = [row for row in table if row["alpha"] == alpha]
    left.plot([row["size"] for row in rows], [row["macs"] / 1e6 for row in rows], "o-", label=f"α = {alpha}")
one_size = [row for row in table if row["size"] == max(SIZES)]
right.plot(ALPHAS, [row["params"] / 1e6 for row in one_size], "o-", label="with the classifier")
right.plot(ALPHAS, [row["params_without_top"] / 1e6 for row in one_size], "o-", label="without the classifier")
left.set(xlabel="image size (px)", ylabel="multiply-adds (M)", title="Arithmetic grows with the image area")
right.set(xlabel="width multiplier α", ylabel="parameters (M)", title="Parameters depend on α only")
left.legend()
right.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ### What others quote
#
# These are **quotations**, not our numbers: the table of released checkpoints in the
# TF-slim MobileNetV2 README (`tensorflow/models`, `research/slim/nets/mobilenet`), the
# MobileNetV2 paper (Sandler et al., CVPR 2018, Table 4), and figures that lecture notes
# repeat. Millions of multiply-adds and of parameters, with the 1000-class classifier.

# %%
QUOTED_SLIM = {  # (alpha, image size): (M multiply-adds, M parameters), as printed in the README
    (1.4, 224): (582, 6.06), (1.3, 224): (509, 5.34),
    (1.0, 224): (300, 3.47), (1.0, 192): (221, 3.47), (1.0, 160): (154, 3.47), (1.0, 128): (99, 3.47),
    (1.0, 96): (56, 3.47),
    (0.75, 224): (209, 2.61), (0.75, 192): (153, 2.61), (0.75, 160): (107, 2.61), (0.75, 128): (69, 2.61),
    (0.75, 96): (39, 2.61),
    (0.5, 224): (97, 1.95), (0.5, 192): (71, 1.95), (0.5, 160): (50, 1.95), (0.5, 128): (32, 1.95),
    (0.5, 96): (18, 1.95),
    (0.35, 224): (59, 1.66), (0.35, 192): (43, 1.66), (0.35, 160): (30, 1.66), (0.35, 128): (20, 1.66),
    (0.35, 96): (11, 1.66),
}
QUOTED_PAPER = {(1.0, 224): (300, 3.4), (1.4, 224): (585, 6.9)}  # Table 4: MAdds, parameters
QUOTED_LECTURE_NOTES = {(0.75, 224): (209, 2.6), (0.5, 224): (97, 1.9)}

# %%
# NBVAL_CHECK_OUTPUT
ours = {(row["alpha"], row["size"]): row for row in table}
print(f"{'':>10} | {'quoted (slim README)':>22} | {'ours':>38}")
print(f"{'alpha':>5}{'size':>5} | {'M MACs':>9}{'M params':>13} | {'M MACs':>9}{'M params, no BN':>17}{'M params':>12}")
for key, (macs, params) in QUOTED_SLIM.items():
    if key in ours:
        row = ours[key]
        print(f"{key[0]:>5}{key[1]:>5} | {macs:>9}{params:>13} | {row['macs'] / 1e6:>9.2f}"
              f"{row['params_without_bn'] / 1e6:>17.3f}{row['params'] / 1e6:>12.3f}")

# %% [markdown]
# Reading the table:
#
# - **BatchNormalization.** The quoted parameter counts leave it out: once the model is
#   trained it is folded into the convolutions. Keras' `count_params()` includes its 4
#   numbers per channel.
# - **The classifier is included** in the quoted figures: a Dense layer from the last
#   convolution's channels to 1000 classes (the slim checkpoints have one class more,
#   "background": one more row of weights, too little to show), and it is a large part of
#   the total. Keras' `include_top=False` leaves it out.
# - **Multiply-adds** are quoted rounded *down* to whole millions.
# - **The lecture notes** copy the slim table to one decimal, rounding down too.
# - **The paper's Table 4** agrees for α = 1 (to one decimal, rounded down), but its figures
#   for α = 1.4 are larger than what the real graph gives; the slim README's figures for the
#   released α = 1.4 checkpoint match Keras' model. We know of no layer that would explain
#   the paper's, so we keep both and trust the graph.
#
# Each statement, computed:

# %%
# NBVAL_CHECK_OUTPUT
compared = [key for key in QUOTED_SLIM if key in ours]
macs_cut = all(int(ours[key]["macs"] / 1e6) == QUOTED_SLIM[key][0] for key in compared)
params_rounded = all(round(ours[key]["params_without_bn"] / 1e6, 2) == QUOTED_SLIM[key][1] for key in compared)
assert macs_cut and params_rounded
print(f"{len(compared)} quoted checkpoints at the sizes counted here:")
print(f"  quoted multiply-adds == ours rounded down to whole millions: {macs_cut}")
print(f"  quoted parameters == ours without BatchNorm, to 0.01 M:      {params_rounded}")
print(f"BatchNorm in MobileNetV2 (α = 1): {kinds['batchnorm'].params:,} parameters")
print(f"classifier (α <= 1): {kinds['dense'].params:,} parameters, {kinds['dense'].params / cost_top.params:.0%} "
      f"of MobileNetV2 (α = 1), which is {cost_no_top.params:,} without it")
print(f"α = 1, 224 px: {cost_top.macs / 1e6:.2f} M multiply-adds, quoted {QUOTED_SLIM[1.0, 224][0]}")
for source, quoted in (("lecture notes", QUOTED_LECTURE_NOTES), ("paper, Table 4", QUOTED_PAPER)):
    for key, (macs, params) in quoted.items():
        print(f"{source}, α = {key[0]}: {params} M parameters, {macs} M multiply-adds;"
              f" ours without BN {ours[key]['params_without_bn'] / 1e6:.2f} M, {ours[key]['macs'] / 1e6:.1f} M")

# %% [markdown]
# ### Why the cost is not simply α² × the cost at α = 1
#
# Keras does not multiply the channels by α exactly: it rounds each width to a multiple of 8
# (never below 8, and never more than 10% down), because hardware computes channels in
# groups. And it never narrows the last 1×1 convolution: for α < 1 only the body shrinks,
# while α > 1 widens that last layer too, and the classifier with it. The widths of the real
# models, stage by stage:

# %%
# NBVAL_CHECK_OUTPUT
widths = {alpha: convcost.stage_widths(convcost.mobilenetv2(alpha, 96, include_top=False)) for alpha in ALPHAS}
print("layers:", ", ".join(convcost.STAGE_LAYERS))
for alpha, stages in widths.items():
    print(f"α = {alpha:<5}" + "".join(f"{width:>6}" for width in stages.values()))
print("0.35 × the α = 1 widths:", ", ".join(f"{0.35 * width:g}" for width in widths[1.0].values()))
print("every width a multiple of 8:", all(width % 8 == 0 for stages in widths.values() for width in stages.values()))

# %%
# NBVAL_CHECK_OUTPUT
at_224 = {row["alpha"]: row for row in table if row["size"] == 224}
print(f"{'alpha':<6}{'α²':>7}{'MACs / MACs(α=1)':>18}{'params / params(α=1)':>22}{'classifier share':>18}")
for alpha, row in at_224.items():
    classifier_share = 1 - row["params_without_top"] / row["params"]
    print(f"{alpha:<6}{alpha ** 2:>7.3f}{row['macs'] / at_224[1.0]['macs']:>18.3f}"
          f"{row['params'] / at_224[1.0]['params']:>22.3f}{classifier_share:>18.0%}")

# %% [markdown]
# ## 7. Play with it
#
# Move the sliders: kernel size K, channels in and out, and the size of the output map.
# Watch which part of the separable pair dominates, and how the saving follows the curve
# 1/C_out + 1/K² whatever C_in and the map size.

# %%
# NBVAL_IGNORE_OUTPUT
show_conv_cost(kernel_size=3, c_in=64, c_out=128, size=56)

# %% [markdown]
# ## Self-check
#
# You should now be able to explain, without looking back:
#
# - the parameters and the multiply-adds of a standard, a depthwise and a pointwise
#   convolution, and why multiply-adds are parameters × output positions;
# - why depthwise + pointwise costs 1/C_out + 1/K² of a standard convolution, and why C_in
#   and the map size do not appear;
# - the kernel of the standard convolution that equals a depthwise + pointwise pair, and
#   what it cannot express;
# - which kind of layer holds most of MobileNetV2's parameters, and which does most of its
#   arithmetic;
# - why Keras reports more parameters than the paper, and how α and the image size change
#   the parameters and the multiply-adds (and why not exactly by α²).
