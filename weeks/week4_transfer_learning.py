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
# # Week 4 — Two-phase training on the real model
#
# Three weeks of taking MobileNetV2 apart; this week you put it to work. You fine-tune the
# real `keras.applications.MobileNetV2`, pretrained on ImageNet, to sort photos of waste into
# classes, the way it is done in practice: **phase 1** trains a new head on the frozen
# base, **phase 2** unfreezes the top blocks and fine-tunes them gently. A small CNN trained
# from scratch on the same photos is the yardstick. At the end you have your own checkpoint,
# `checkpoints/my-waste-mobilenetv2`, which next week's app serves.
#
# **Learning goals.** By the end you can
# - look at a photo set before training: the class balance, the photos, what augmentation does;
# - say why a frozen base lets phase 1 cache its features, measure what that saves, and say
#   why the cache and random augmentation do not mix;
# - unfreeze MobileNetV2 from a block, name the layer where the cut falls and count the
#   parameters that then train;
# - explain why phase 2 uses a learning rate ten times lower and keeps BatchNormalization in
#   inference mode, and show with numbers what goes wrong when it does not;
# - read a two-phase learning curve, a confusion matrix, per-class accuracy and the mistakes,
#   and compare the result with a CNN trained from scratch.
#
# **Time:** about 2 hours: 60 minutes of reading and running, 30 minutes for the three
# exercises, and the full-mode run itself (on a laptop CPU, about 10–20 minutes for the
# course's waste set at 224 px; the notebook prints how long each part took).

# %% tags=["parameters"]
# Fast mode is what CI runs (the 100 sample photos at 96 px, a few epochs of phase 2 and of the
# baseline, fewer photos for the BatchNorm demonstration): never a smaller network.
import os
MODE = os.environ.get("WORKBOOK_MODE", "full")
FAST = MODE == "fast"
# Full mode trains on the photo folder in $WORKBOOK_DATA (one sub-folder per class); without it,
# on ../shared/data/waste when the course's shared folder is there.
DATA = os.environ.get("WORKBOOK_DATA", "")
IMAGE_SIZE = 96 if FAST else 224
PHASE1_EPOCHS = 30  # upper bounds: early stopping ends a phase sooner; cached epochs are nearly free
PHASE2_EPOCHS = 3 if FAST else 10
BASELINE_EPOCHS = 10 if FAST else 30
FINE_TUNE_FROM = "block_13"
BN_PHOTOS_PER_CLASS = 3 if FAST else 10  # sample photos for the BatchNorm demonstration

# %%
import lessons  # noqa: F401  (first: it quiets TensorFlow's start-up log lines)
import shlex

import keras
import matplotlib.pyplot as plt
import numpy as np

from lessons import baseline, batchnorm, checkpoint, data, evaluation, feature_cache, gallery, paths, training
from lessons import model as mv2
from lessons.exercises.week4 import (check_first_layer_index, check_kept_epochs, check_trainable_after_unfreezing,
                                     layer_names, layer_sizes)
from lessons.inference import Classifier
from lessons.notebook import show_source

OUT = paths.student_checkpoint(FAST)
if FAST:
    data_root = paths.SAMPLE_DATA
elif DATA or paths.shared_path("data/waste"):
    data_root = DATA or paths.shared_path("data/waste")
else:
    raise SystemExit("Full mode needs a photo folder: download a waste data set (see data/sample/SOURCE.md for the "
                     "one the course uses), set WORKBOOK_DATA to its folder (one sub-folder per class) and run again. "
                     "Or run in fast mode: WORKBOOK_MODE=fast.")
print(f"{MODE} mode: photos from {checkpoint.relative_to_repo(data_root)} at {IMAGE_SIZE} px")

# %% [markdown]
# ## 1. Look at the data first
#
# Before any training, look at what the network will learn from. `data.scan` decodes every
# photo (a broken file fails now, not in the middle of an epoch), and `data.split` deals the
# photos into training, validation and test parts, class by class, keeping near-duplicate
# photos in one part, so that test photos are truly new. `training.train` makes exactly the
# same split from the same seed; section 5 checks that it did.

# %%
# The base starts from the ImageNet weights the course ships in weights/ (nothing is downloaded).
config = training.TrainConfig(data=data_root, image_size=IMAGE_SIZE, phase1_epochs=PHASE1_EPOCHS,
                              phase2_epochs=PHASE2_EPOCHS, fine_tune_from=FINE_TUNE_FROM)
dataset = data.scan(config.data, progress=False)
split = data.split(dataset, config.seed, config.val_fraction, config.test_fraction)
parts = ("train", "val", "test")

# %%
# NBVAL_CHECK_OUTPUT
counts = {part: dataset.class_counts(getattr(split, part)) for part in parts}
print(f"{len(dataset)} photos, {len(dataset.class_names)} classes: "
      + ", ".join(f"{part} {len(getattr(split, part))}" for part in parts))
print(f"{split.near_duplicate_groups} near-duplicate groups ({split.photos_in_groups} photos), each kept in one part")
totals = dataset.class_counts()
if min(totals.values()) == max(totals.values()):
    print(f"every class has {min(totals.values())} photos")
else:
    print(f"photos per class: fewest {min(totals.values())} ({min(totals, key=totals.get)}), "
          f"most {max(totals.values())} ({max(totals, key=totals.get)})")

# %%
gallery.class_counts_figure(counts, title=f"Photos per class in {dataset.root.name}")
plt.show()

# %% [markdown]
# A balanced set makes accuracy a fair summary; on an unbalanced one, a model could score
# well by favouring the large classes, and the per-class accuracy of section 6 matters more.
# Now the photos themselves, letterboxed to squares as the model sees them:

# %%
gallery.photo_grid_figure(dataset, per_class=5, image_size=IMAGE_SIZE)
plt.show()

# %% [markdown]
# Waste is photographed on every kind of background, close up or from afar, whole or
# crushed. Some classes overlap in looks (paper and cardboard; plastic, glass and metal
# bottles): expect the mistakes there.
#
# **Augmentation** shows the network a slightly different copy of each photo at every epoch
# (mirrored, turned, zoomed, with another contrast), so that it cannot learn the training
# photos by heart. These are the course's layers; they act only in training:

# %%
show_source(data.augmentation)

# %%
augment = data.augmentation(seed=config.seed)
one_photo = data.load_images(dataset.paths(split.train[:1]), IMAGE_SIZE, progress=False)[0]
gallery.augmentation_figure(one_photo, augment)
plt.show()

# %% [markdown]
# ## 2. The yardstick: a small CNN trained from scratch
#
# Is the pretrained network worth it? Compare it with what the same photos teach a network
# that starts from random weights: four stages of a 3×3 convolution, BatchNormalization,
# ReLU and max pooling, then the same kind of head. Same input, same split, same
# augmentation and optimiser settings as the fine-tuning below.

# %%
show_source(baseline.build_baseline)

# %%
x = {part: data.load_images(dataset.paths(getattr(split, part)), IMAGE_SIZE, progress=False) for part in parts}
y = {part: dataset.labels[getattr(split, part)] for part in parts}
num_classes = len(dataset.class_names)

# %%
# NBVAL_CHECK_OUTPUT
print(f"baseline CNN: {baseline.trainable_parameters(baseline.build_baseline(num_classes, IMAGE_SIZE)):,} "
      "trainable parameters, all starting from random values")

# %%
base_run = baseline.train_baseline(x, y, num_classes, epochs=BASELINE_EPOCHS, batch_size=config.batch_size,
                                   lr=config.phase1_lr, label_smoothing=config.label_smoothing, seed=config.seed)
base_report = evaluation.report(y["test"], base_run.model.predict(x["test"], verbose=0), dataset.class_names,
                                dataset.paths(split.test))
print(f"baseline: {len(base_run.history)} epochs in {base_run.seconds:.0f} s; test accuracy "
      f"{base_report.accuracy:.1%} on {len(y['test'])} photos (chance: {1 / num_classes:.0%})")

# %% [markdown]
# Keep that number in mind. From scratch, a network has to learn edges, textures and
# shapes from the few photos it is given; MobileNetV2 learnt them from ImageNet's million.
#
# ## 3. Phase 1: a new head on the frozen base
#
# `build_classifier` puts a new head (dropout and a softmax over the classes) on the pooled
# features of the ImageNet-trained base, and freezes the whole base. Which weights the base
# starts from, and what the head reads:

# %%
print("base weights:", mv2.describe_weights(config.weights))
clf = mv2.build_classifier(num_classes, IMAGE_SIZE, weights=config.weights)
mv2.set_trainable_from(clf, None)
print(f"the head reads {clf.get_layer(mv2.FEATURES_NAME).output.shape[-1]} pooled features a photo and "
      f"outputs {clf.output.shape[-1]} probabilities")

# %% [markdown]
# (The file in `weights/`, whose origin and licence `weights/SOURCE.md` gives; `imagenet` would
# have Keras download the same weights, and `$LESSONS_WEIGHTS` chooses another source.)
#
# The table counts, for each part of the base and for the head, the parameters the optimiser
# may change (*trainable*) and those it may not (*frozen*). In phase 1 only the head trains:

# %%
# NBVAL_CHECK_OUTPUT
phase1_rows = mv2.block_table(clf)
phase1_trainable = sum(row["trainable"] for row in phase1_rows)
print(mv2.format_block_table(phase1_rows))
print(f"\nphase 1 trains {phase1_trainable:,} of {sum(r['trainable'] + r['frozen'] for r in phase1_rows):,} "
      f"parameters ({phase1_trainable / sum(r['trainable'] + r['frozen'] for r in phase1_rows):.2%})")

# %% [markdown]
# ### Feature caching
#
# With the base frozen, a photo goes through it and comes out as the same pooled features at
# every epoch. So why compute them at every epoch? Phase 1 computes them **once** (one pass
# of the training and validation photos through the base) and then trains the head alone on
# that array. An epoch no longer touches the base's layers at all:

# %%
show_source(training.run_phase1)

# %% [markdown]
# How much does that save? Here is a phase-1 epoch measured both ways on the training
# photos: through the frozen graph, and on cached features (with the one-off pass that
# fills the cache timed apart). Timings depend on your machine and on what else runs on it;
# the ratio is the point.

# %%
timing = feature_cache.time_phase1(clf, x["train"], y["train"], batch_size=config.batch_size)
graph_total, cached_total = timing.total(config.phase1_epochs)
print(f"{timing.photos} photos at {IMAGE_SIZE} px, batch {config.batch_size}")
print(f"  epoch through the frozen graph   {timing.graph_epoch:8.3f} s")
print(f"  one-off feature pass             {timing.feature_pass:8.3f} s")
print(f"  epoch on cached features         {timing.cached_epoch:8.3f} s")
print(f"an epoch on the cache is {timing.epoch_speedup:.0f}× faster than one through the graph")
print(f"{config.phase1_epochs} phase-1 epochs: {graph_total:.1f} s through the graph, {cached_total:.1f} s with the "
      f"cache, feature pass included ({graph_total / cached_total:.1f}× faster)")

# %% [markdown]
# In full mode (more photos, 224 px) the ratio is much larger: an epoch through the graph
# costs in proportion to photos × pixels, while an epoch on the cache costs almost nothing
# per photo. `benchmarks/phase1_caching.py` measures it on the course's full photo set.
#
# **The catch: augmentation.** The cache holds the features of the photos *as they were*
# when it was filled. With random augmentation, every epoch should see new copies. How far
# does augmentation move a photo's features? Measured on training photos, as a share of the
# feature vector's length, beside the distance to the closest *other* photo for scale:

# %%
shift = feature_cache.augmentation_shift(clf, x["train"][:32], data.augmentation(seed=config.seed + 1))
print(f"an augmented copy vs the photo:        {np.median(shift.augmented_vs_plain):.0%} (median over photos)")
print(f"two augmented copies of one photo:     {np.median(shift.two_copies):.0%}")
print(f"the photo vs the closest other photo:  {np.median(shift.nearest_other):.0%}")

# %% [markdown]
# Augmentation moves the features a long way, a sizeable share of the distance between two
# different photos: that is its purpose. A cache freezes one copy per photo, and the head
# would see that copy at every epoch: no augmentation at all. So a cache is only right
# without augmentation (what `run_phase1` does: with `cache_features`, phase 1 trains
# unaugmented), or with *K* augmented copies of each photo cached in advance, which costs
# *K* feature passes and still gives only *K* views instead of a fresh one per epoch. Dropout
# in the head is fine: it acts after the cache. Phase 2 changes the base at every step, so
# nothing can be cached there, and augmentation comes back.
#
# ## 4. Phase 2: unfreezing the top of the base
#
# The head now knows how to read the ImageNet features. Phase 2 lets the top blocks adapt
# those features to waste. `set_trainable_from` unfreezes a block and everything above it,
# and returns where the cut falls: the first unfrozen layer.

# %%
# NBVAL_CHECK_OUTPUT
cut_index, cut_name = mv2.set_trainable_from(clf, FINE_TUNE_FROM)
base_layers = mv2.backbone(clf).layers
print(f"unfreezing from {FINE_TUNE_FROM}: layers {cut_index}..{len(base_layers) - 1} of the base "
      f"({len(base_layers) - cut_index} of {len(base_layers)}), starting at {cut_name}")
print("the first layers above the cut:", ", ".join(layer.name for layer in base_layers[cut_index:cut_index + 4]))

# %%
# NBVAL_CHECK_OUTPUT
phase2_rows = mv2.block_table(clf)
phase2_trainable = sum(row["trainable"] for row in phase2_rows)
print(mv2.format_block_table(phase2_rows))
print(f"\nphase 2 trains {phase2_trainable:,} parameters, "
      f"{phase2_trainable / phase1_trainable:.0f}× as many as phase 1")

# %% [markdown]
# Three things in that table:
#
# - Blocks grow wider towards the top, so the last few blocks hold most of the parameters.
# - The *frozen* column of the unfrozen blocks is not zero: their BatchNormalization layers
#   stay frozen (more on that below).
# - The cut falls on a block boundary, at the block's expansion layer. Tutorials often cut at a layer *number*
#   instead, "fine-tune from layer 100" or "the last N layers"; see where such cuts land:

# %%
# NBVAL_CHECK_OUTPUT
for description, index in (("layer 100 (the TensorFlow tutorial's fine_tune_at)", 100),
                           ("the last 30 layers", len(base_layers) - 30),
                           ("the last 54 layers", len(base_layers) - 54)):
    name = base_layers[index].name
    print(f"{description:<52} -> layer {index} {name}, inside block {mv2.block_of(name)}")

# %% [markdown]
# Such cuts fall in the middle of a block: block 11's expansion stays frozen while the rest of
# it trains, or block 13's projection convolution stays frozen while the BatchNormalization
# right after it trains. It works, but it is hard to say what was trained. Cut at a block,
# and say which. (And in the tutorial's recipe, `base.trainable = True` then freezing the
# layers below the cut, the BatchNormalization layers above the cut become trainable: the
# end of this section shows why that matters.)
#
# ### Exercise 1: where does block k start?
#
# Write `first_layer_index(names, block)`: `names` is the list of the base's layer names in
# order (`[layer.name for layer in base.layers]`); return the index of the first layer of
# bottleneck block `block` (0–16). `mv2.block_of(name)` tells which block a layer belongs to;
# or look at the names: what is block 0 called? The first ones:

# %%
# NBVAL_CHECK_OUTPUT
print(layer_names()[1:10])  # [0] is the input layer

# %%
# NBVAL_CHECK_OUTPUT
def first_layer_index(names, block):
    ### BEGIN SOLUTION
    for index, name in enumerate(names):
        if mv2.block_of(name) == block:
            return index
    ### END SOLUTION


check_first_layer_index(first_layer_index)

# %% [markdown]
# ### Exercise 2: how many parameters does phase 2 train?
#
# Write `trainable_after_unfreezing(layers, block)`: `layers` lists `(name, class name,
# parameters)` for each layer of the base, in order. Three of them, the start of block 0:

# %%
# NBVAL_CHECK_OUTPUT
print(layer_sizes()[4:7])

# %% [markdown]
# Return how many of the base's parameters train after `set_trainable_from(model, block)`
# (`block` is 0–16 or `"top"`). `mv2.BLOCKS` lists the parts of the base in order, and the
# table above tells you what `set_trainable_from` leaves frozen.

# %%
# NBVAL_CHECK_OUTPUT
def trainable_after_unfreezing(layers, block):
    ### BEGIN SOLUTION
    first = mv2.BLOCKS.index(block)
    return sum(params for name, kind, params in layers
               if mv2.BLOCKS.index(mv2.block_of(name)) >= first and kind != "BatchNormalization")
    ### END SOLUTION


check_trainable_after_unfreezing(trainable_after_unfreezing)

# %% [markdown]
# ### A learning rate ten times lower
#
# The unfrozen blocks already hold good features; phase 2 should nudge them, not
# overwrite them. At the start of phase 2 the head is trained but the new combination is
# not, and large steps through the whole base would wreck what ImageNet taught in a few
# updates. So phase 2 uses a smaller learning rate, by default a tenth of phase 1's:

# %%
# NBVAL_CHECK_OUTPUT
print(f"phase 1: Adam, learning rate {config.phase1_lr:g}, on {phase1_trainable:,} parameters")
print(f"phase 2: Adam, learning rate {config.phase2_lr:g} ({config.phase1_lr / config.phase2_lr:.0f}× lower), "
      f"on {phase2_trainable:,} parameters")

# %% [markdown]
# ### BatchNormalization stays in inference mode
#
# Each BatchNormalization layer normalises its channels with a mean and a variance. In
# *inference mode* those are its **moving statistics**, learnt over ImageNet; in *training
# mode* it uses the statistics of the batch in front of it, and moves its moving statistics
# a little towards them. In fine-tuning, the base must stay in inference mode. To see why,
# take the course's reference checkpoint (trained on the full photo set, never on the
# sample photos) and classify sample photos twice: with the moving statistics, then as a
# training step would see them, with each batch's own statistics. Same weights, same photos.

# %%
reference = keras.models.load_model(paths.REFERENCE_CHECKPOINT / checkpoint.MODEL_FILE, safe_mode=True)
reference_labels, reference_meta = checkpoint.read(paths.REFERENCE_CHECKPOINT)
print(f"reference checkpoint: trained on {reference_meta['data']['photos']:,} photos of "
      f"{reference_meta['data']['root']} at {reference_meta['image_size']} px")

# %%
# NBVAL_CHECK_OUTPUT
momentum = batchnorm.batchnorm_layers(reference)[0].momentum
print(f"{len(batchnorm.batchnorm_layers(reference))} BatchNormalization layers in the base, momentum {momentum}: "
      f"a training step moves the moving statistics {1 - momentum:.1%} of the way to the batch's, so it takes "
      f"{np.log(0.5) / np.log(momentum):.0f} steps to go half-way")

# %% [markdown]
# When a BatchNormalization layer is left trainable, its moving statistics drift only
# slowly. What hurts at once is that every training step computes its outputs, and its
# gradients, with **batch statistics**:

# %%
sample = data.scan(paths.SAMPLE_DATA, progress=False)
assert list(sample.class_names) == reference_labels, "the sample's classes are the reference's outputs"
chosen = np.concatenate([np.flatnonzero(sample.labels == c)[:BN_PHOTOS_PER_CLASS] for c in range(num_classes)])
bn_pixels = data.load_images(sample.paths(chosen), reference_meta["image_size"], progress=False)
bn_accuracy = batchnorm.accuracy_by_batch_size(reference, bn_pixels, sample.labels[chosen], batch_sizes=(1, 4, 16))
for setting, accuracy in bn_accuracy.items():
    name = setting if isinstance(setting, str) else f"batch statistics, batches of {setting}"
    print(f"{name:<36} accuracy {accuracy:.0%} on {len(chosen)} sample photos")
assert bn_accuracy[1] < bn_accuracy["moving statistics"] - 0.3, bn_accuracy

# %%
plt.figure(figsize=(6, 3))
plt.bar([s if isinstance(s, str) else f"batch of {s}" for s in bn_accuracy], list(bn_accuracy.values()),
        color=["tab:green"] + ["tab:red"] * (len(bn_accuracy) - 1))
plt.axhline(1 / num_classes, color="grey", linestyle=":", label="chance")
plt.ylabel("accuracy")
plt.title("The reference checkpoint: moving vs batch statistics")
plt.legend()
plt.show()

# %% [markdown]
# With one photo per batch the statistics are those of a single photo: each channel is
# normalised to zero mean over the photo itself, which erases what distinguishes it, and the
# predictions are close to chance. Larger batches give better estimates but never the
# ImageNet statistics the following layers were trained with. A fine-tuning step with
# trainable BatchNormalization would compute its loss on features like these, and the
# head, trained on the real features in phase 1, would be pushed to fit them.
#
# **How the course prevents it, and a trap.** The TensorFlow transfer-learning tutorial calls the base with
# `base(x, training=False)` and says this keeps BatchNormalization in inference mode when
# the base is unfrozen. `build_classifier` does that too. But in Keras 3, `fit` calls the
# model with `training=True`, and the functional model passes that flag down to every layer
# inside, replacing the `False` of the graph. Measured: one call with `training=True` (what
# `fit` does) on two copies of the reference model, both unfrozen whole, one with its
# BatchNormalization layers left frozen by `set_trainable_from`, one with them made trainable:

# %%
# NBVAL_CHECK_OUTPUT
for setting, moved in batchnorm.fit_changes_moving_statistics(reference, bn_pixels[:4]).items():
    print(f"{setting:<30} moving statistics {'CHANGED: training mode' if moved else 'unchanged: inference mode'}")

# %%
show_source(batchnorm.copy_with_trainable_batchnorm)

# %% [markdown]
# So in Keras 3 what keeps BatchNormalization in inference mode is that its layers are
# **not trainable** (a frozen BatchNormalization layer always uses its moving statistics),
# and `set_trainable_from` leaves them frozen in every block it unfreezes. The
# `training=False` of the graph does not protect a model whose BatchNormalization layers are
# trainable.
#
# ## 5. Both phases for real: your checkpoint
#
# `training.train` runs the whole thing: scan and split, load the photos, phase 1 on cached
# features, phase 2 from `FINE_TUNE_FROM` through the graph with augmentation, the test
# scores, and then it writes the checkpoint directory (model, labels, meta, split, history)
# in one go. Phase 2 in the course's code:

# %%
show_source(training.run_phase2)

# %% [markdown]
# The equivalent command line is recorded in the checkpoint's meta.json. An interrupted run
# resumes from its last finished epoch when you run the cell again (with the same settings).
# Fast-mode runs (the tests run the notebooks that way) write to a folder of their own,
# `checkpoints/my-waste-mobilenetv2-fast`, so they never overwrite your full run.

# %%
changed = [f for f in ("image_size", "phase1_epochs", "phase2_epochs", "fine_tune_from", "weights")
           if getattr(config, f) != getattr(training.TrainConfig(data=config.data), f)]
command = shlex.join(["python", "-m", "lessons", "train", "--data", checkpoint.relative_to_repo(config.data),
                      "--out", checkpoint.relative_to_repo(OUT),
                      *[str(v) for f in changed for v in (f"--{f.replace('_', '-')}", getattr(config, f))]])
print(command)
# verbose=2: a line per epoch (and progress bars) in full mode; the stored fast-mode outputs stay short.
checkpoint_dir = training.train(config, OUT, command=command, verbose=0 if FAST else 2)

# %% [markdown]
# Everything below reads the checkpoint directory, as the app and next week will.

# %%
labels, meta = checkpoint.read(checkpoint_dir)
history = checkpoint.read_json(checkpoint_dir, checkpoint.HISTORY_FILE)
recorded = checkpoint.read_json(checkpoint_dir, checkpoint.SPLIT_FILE)
assert recorded["test"] == [dataset.files[i] for i in split.test], "train() made the split of section 1"
print(f"{OUT.name}: {', '.join(sorted(p.name for p in OUT.iterdir()))}")
for phase in ("phase1", "phase2"):
    p = meta[phase]
    print(f"{phase}: {p['epochs_run']} epochs in {p['seconds']:.0f} s, best epoch {p['best_epoch']} "
          f"(validation accuracy {p['best_val_accuracy']:.1%}), test accuracy {p['test_accuracy']:.1%}")

# %%
# NBVAL_CHECK_OUTPUT
print(f"meta.json: first trainable layer in phase 2 {meta['phase2']['first_trainable_layer']}, "
      f"{meta['trainable_parameters']:,} trainable parameters at the end")
assert meta["phase2"]["first_trainable_layer"] == cut_name and meta["trainable_parameters"] == phase2_trainable

# %% [markdown]
# ## 6. How did it go?
#
# The learning curve across both phases, from the checkpoint's history: the dashed line
# is where phase 2 starts.

# %%
gallery.learning_curve_figure(history, title=f"{OUT.name}: both phases ({MODE} mode)")
plt.show()

# %% [markdown]
# In phase 1 the validation accuracy usually climbs fast, then flattens: the head has
# learnt what the frozen features can tell. Phase 2 lets the features themselves move, and
# the curves can take a second step. At the boundary the *training* curves jump: phase 1
# trained on the cached, unaugmented photos, phase 2 trains on augmented copies, which are
# harder to fit. The gap between training and validation is what the
# head and blocks learnt about the training photos only. (In fast mode, with a few epochs on
# the small sample at a small image size, the curve is short and bumpy: run the full mode for
# the real picture.)
#
# ### Exercise 3: which epochs did each phase keep?
#
# Each phase keeps the weights of its epoch with the lowest **validation loss** (and stops
# early when that stops improving). Write `kept_epochs(history)`: from a list of history rows
# like the ones above, return `{phase: epoch}`.

# %%
# NBVAL_CHECK_OUTPUT
def kept_epochs(history):
    ### BEGIN SOLUTION
    best = {}
    for row in history:
        if row["phase"] not in best or row["val_loss"] < best[row["phase"]]["val_loss"]:
            best[row["phase"]] = row
    return {phase: row["epoch"] for phase, row in best.items()}
    ### END SOLUTION


check_kept_epochs(kept_epochs)

# %% [markdown]
# Your function on your own run should give the `best_epoch` of each phase in meta.json
# (printed in section 5).
#
# Now the test photos, which played no part in training or in choosing epochs. The
# confusion matrix shows which classes are taken for which:

# %%
model_report = evaluation.report(y["test"], Classifier.load(OUT, "keras").predict_pixels(x["test"]), labels,
                                 dataset.paths(split.test))
evaluation.confusion_figure(model_report)
plt.show()

# %%
gallery.per_class_figure({"baseline CNN": base_report, "fine-tuned MobileNetV2": model_report})
plt.show()

# %% [markdown]
# And the mistakes themselves, the most confident first. Look at them: some are the
# model's fault, some are hard or ambiguous photos, and a few may carry the wrong label.

# %%
gallery.misclassified_figure(model_report)
plt.show()

# %% [markdown]
# ### Baseline, phase 1, phase 2
#
# All from computed numbers: the baseline measured above, the two phases from your
# checkpoint's meta.json, and the reference checkpoint's meta.json beside them (its test
# photos come from the full photo set it was trained on, so its rows compare settings, not photos).

# %%
mv2.set_trainable_from(reference, None)
reference_head = sum(row["trainable"] for row in mv2.block_table(reference))
rows = [baseline.baseline_row(base_run, base_report.accuracy, len(y["test"])),
        *baseline.phase_rows(meta, phase1_trainable, "your run"),
        *baseline.phase_rows(reference_meta, reference_head, "reference")]
print(baseline.format_comparison(rows))

# %% [markdown]
# Read it row by row. Phase 1 trains only the head, a small share of the parameters, and
# most of its time goes into the one feature pass. Phase 2 trains many times more
# parameters and costs far more per epoch, since every step goes through the whole base.
# The baseline trains all of its parameters, from nothing. What that buys on your test photos:

# %%
phase2_accuracy = meta["phase2"]["test_accuracy"]
print(f"on the same {len(y['test'])} test photos: fine-tuned MobileNetV2 {phase2_accuracy:.0%}, baseline CNN "
      f"{base_report.accuracy:.0%} ({100 * (phase2_accuracy - base_report.accuracy):+.0f} points); one photo is "
      f"{1 / len(y['test']):.0%} of the test set")

# %% [markdown]
# With few test photos (fast mode) the numbers are coarse, and a few epochs at a small
# image size are far from what the model can do: the reference rows show what full training
# on the large set reaches.
#
# Your checkpoint is ready for the app: `python app.py --checkpoint checkpoints/my-waste-mobilenetv2`
# (next week; a fast-mode run writes `checkpoints/my-waste-mobilenetv2-fast` instead, so that
# running the tests never overwrites your full run). To train on your own photos, set `WORKBOOK_DATA` to a folder with one
# sub-folder per class and run this notebook in full mode, or use the command printed in
# section 5.
#
# ## Self-check
#
# You should now be able to explain, without looking back:
#
# - why you look at class counts and photos before training, and what augmentation shows the
#   network;
# - what the from-scratch baseline tells you that the fine-tuned model's accuracy alone does not;
# - what feature caching is, why a frozen base allows it, what it saves, and why it is wrong
#   with random augmentation (and what caching augmented copies would cost);
# - where `set_trainable_from(model, "block_13")` cuts the base, which layers then train,
#   and why BatchNormalization's parameters stay frozen;
# - why phase 2's learning rate is ten times lower;
# - what batch statistics do to a trained MobileNetV2, and why in Keras 3 `training=False`
#   in the graph is not enough: the BatchNormalization layers must be frozen;
# - how to read a two-phase learning curve, a confusion matrix and per-class accuracy, and
#   which epoch's weights a phase keeps.
