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
# # Week 5 — Deployment: TFLite, quantisation and the app
#
# Last week you fine-tuned MobileNetV2 on waste photos and saved a checkpoint. This week you ship it: you export
# it to TensorFlow Lite three ways, open the files to see what quantisation really stores, measure what each
# format costs and gains (file size, time for one photo, accuracy), and serve your checkpoint in the course's
# Gradio app.
#
# **Learning goals.** By the end you can
# - export a Keras model to TFLite FP32, dynamic-range and full INT8, and say what each one stores and computes;
# - turn any number of an INT8 file back into a real one with its scale and zero point, and explain why the INT8
#   model takes the photo's uint8 pixels as they are;
# - measure single-photo latency fairly (warm-up, many calls, median and p90, runtimes interleaved);
# - read a size / latency / accuracy table and choose the format that meets a latency budget;
# - launch the app on your own checkpoint from the notebook and from the command line.
#
# **Time:** about 2 hours (1 h reading and running, 45 min for the three exercises, 15 min with the app). The
# notebook runs in a few minutes on a laptop in full mode (the three conversions take most of it), longer if it
# has to train a checkpoint first.

# %% tags=["parameters"]
# Fast mode is what CI runs (20 timed calls per runtime instead of 100; the app is queried once and then closed;
# if a checkpoint must be trained, no weights are downloaded): never a smaller network.
import os
MODE = os.environ.get("WORKBOOK_MODE", "full")
FAST = MODE == "fast"
CALLS = 20 if FAST else 100  # timed calls of one photo per runtime
KEEP_APP_RUNNING = not FAST  # CI must not leave a server behind

# %%
import lessons  # noqa: F401  (first: it quiets TensorFlow's start-up log lines)

import re

import matplotlib.pyplot as plt
import numpy as np

try:
    from ai_edge_litert.interpreter import Interpreter
except ImportError:  # no LiteRT wheel for this platform (Windows): TensorFlow's own copy
    from tensorflow.lite.python.interpreter import Interpreter

from lessons import checkpoint, data, export, latency, paths, training
from lessons import model as mv2
from lessons.exercises import week5
from lessons.inference import Classifier
from lessons.notebook import show_source


# %% [markdown]
# ## 0. Your checkpoint
#
# Week 4 saved your fine-tuned model to `checkpoints/my-waste-mobilenetv2`. If it is not there (you skipped
# week 4, or this notebook runs on its own), the next cell trains a small one with the same code, on the sample
# photos at a small image size — a few minutes on a laptop, and a weaker model than yours would be. It says which
# it did.

# %%
CHECKPOINT = paths.student_checkpoint(FAST)
if (CHECKPOINT / checkpoint.META_FILE).is_file():
    print(f"Using the checkpoint in {CHECKPOINT.relative_to(paths.REPO)} (made by: "
          f"{checkpoint.read(CHECKPOINT)[1].get('command') or 'an unrecorded command'}).")
else:
    # The head's epochs run on cached features: 20 of them cost less than one epoch through the whole network.
    config = training.TrainConfig(data=paths.SAMPLE_DATA, image_size=96, phase1_epochs=20, phase2_epochs=1,
                                  batch_size=16)
    print(f"No checkpoint in {CHECKPOINT.relative_to(paths.REPO)}: training a small one on data/sample at "
          f"{config.image_size} px ({config.phase1_epochs} epochs of the head, {config.phase2_epochs} of "
          f"fine-tuning), starting from {mv2.describe_weights(config.weights)}.")
    training.train(config, CHECKPOINT, command="weeks/week5_deployment (no week-4 checkpoint)", verbose=0)

LABELS, META = checkpoint.read(CHECKPOINT)
IMAGE_SIZE = META["image_size"]
print(f"MobileNetV2 alpha {META['alpha']} at {IMAGE_SIZE} px, {len(LABELS)} classes, trained on "
      f"{META['data']['photos']} photos; Keras test accuracy {META['test']['accuracy']:.1%} on "
      f"{META['test']['photos']} held-out photos.")

# %% [markdown]
# ## 1. Three ways to export
#
# TensorFlow Lite is a file format and a small runtime for running a trained network on phones, browsers and
# servers without TensorFlow. The converter turns the Keras graph into a flat list of operations with their
# constants; on the way it **folds** each BatchNormalization into the convolution before it (a per-channel
# scaling of the weights, plus a bias), because at inference BatchNorm is just that. The course exports three
# variants:
#
# - **FP32**: the same float32 arithmetic as Keras, in a lighter runtime. Same answers, same size.
# - **Dynamic range**: the weights are stored as 8-bit integers (a quarter of the size), the activations stay
#   float. No calibration photos needed. At run time the integer weights are turned back into floats, or the
#   runtime quantises each activation on the fly to multiply integers.
# - **Full INT8**: weights *and* activations are 8-bit integers, with integer arithmetic from the first layer to
#   the last. To give every activation tensor its integer range, the converter runs **calibration** photos (a
#   sample of the checkpoint's *training* photos: never the test photos) through the float model and records
#   the smallest and largest value each tensor takes.
#
# An 8-bit number q stands for the real number **scale × (q − zero point)**: the scale is the step between two
# neighbouring values, and the zero point is the integer that stands for 0.0 (so that 0, the padding and every
# ReLU's output floor, is exact). Weights get one scale per output channel and zero point 0; activations one
# scale and zero point per tensor. Here is the course's converter:

# %%
show_source(export.convert)

# %% [markdown]
# `export.export` converts the checkpoint's model in each format, writes the files into the checkpoint
# directory (where the app looks for them), and records their test accuracy in `meta.json`:

# %%
EXPORTS = export.export(CHECKPOINT, ("fp32", "dynamic", "int8"), progress=False)
for kind, result in EXPORTS.items():
    print(f"{result['file']:<22}{result['bytes'] / 1e6:6.2f} MB")

# %% [markdown]
# A float32 number takes 4 bytes and an int8 one 1 byte, so you might expect the INT8 file to be a quarter of the
# FP32 one. Divide each file's size by the model's parameter count:

# %%
keras_model = Classifier.load(CHECKPOINT, runtime="keras").runtime.model
PARAMETERS = keras_model.count_params()
print(f"{PARAMETERS:,} parameters in the Keras model")

# %%
# NBVAL_CHECK_OUTPUT
for kind, result in EXPORTS.items():
    print(f"{kind:<8} {result['bytes'] / PARAMETERS:.1f} bytes per parameter")


# %% [markdown]
# FP32 comes out a little under 4 (BatchNorm's four numbers per channel became one scale folded into the
# weights and one bias), INT8 well over 1. The INT8 file itself says where its bytes go. The LiteRT interpreter
# lists every tensor of a file with its type and quantisation parameters; weights and biases are the tensors
# with one scale per output channel:

# %%
def tensors(kind):
    """Every tensor of an export (name, shape, dtype, quantisation parameters), read with LiteRT."""
    interpreter = Interpreter(model_path=str(CHECKPOINT / checkpoint.TFLITE_FILES[kind]))
    return interpreter, interpreter.get_tensor_details()


def per_channel(tensor):
    return len(tensor["quantization_parameters"]["scales"]) > 1


def layer_of(tensor):
    """The Keras convolution a weight tensor comes from.

    The converter names a fused tensor after one of the layers it fused (the convolution, its BatchNorm or its
    ReLU, depending on the weights), and a reloaded model's layers carry a _1: both suffixes are dropped.
    """
    layer = re.sub(r"_\d+$", "", tensor["name"].split(";")[0].split("/")[2])
    return re.sub(r"_(BN|relu)$", "", layer)


int8, int8_tensors = tensors("int8")
weights = [t for t in int8_tensors if per_channel(t) and t["dtype"] == np.int8]
biases = [t for t in int8_tensors if per_channel(t) and t["dtype"] == np.int32]
channels = sum(len(t["quantization_parameters"]["scales"]) for t in weights + biases)
parts = {"weights, 1 byte each": sum(t["shape"].prod() for t in weights),
         "biases, 4 bytes each (int32)": 4 * sum(t["shape"].prod() for t in biases),
         # The file stores a float32 scale and an int64 zero point for every channel of every tensor.
         "per-channel scales and zero points, 4 + 8 bytes": 12 * channels}

# %%
# NBVAL_CHECK_OUTPUT
stored = sum(t["shape"].prod() for t in weights + biases)
print(f"The INT8 file stores {len(weights)} weight tensors and their biases: {stored:,} numbers "
      f"(the Keras model's {PARAMETERS:,} parameters, BatchNorm folded in).")
for part, size in parts.items():
    print(f"{part:<50}{size / 1e6:6.2f} MB")

# %% [markdown]
# The rest of the file is the graph itself: operator list, tensor names, the activations' scales. (The
# converter stores identical constant buffers once, so when several of them are equal the parts above can add up
# to a little *more* than the file.)

# %%
int8_bytes = EXPORTS["int8"]["bytes"]
print(f"{'the whole INT8 file':<50}{int8_bytes / 1e6:6.2f} MB")
for part, size in parts.items():
    print(f"{part:<50}{size / int8_bytes:6.0%}")
print(f"{'the graph, names and activations parameters':<50}{1 - sum(parts.values()) / int8_bytes:6.0%}")

# %% [markdown]
# The dynamic-range file quantises the same weights, except the smallest tensors, where 8 bits would save
# almost nothing:

# %%
# NBVAL_CHECK_OUTPUT
_, dynamic_tensors = tensors("dynamic")
dynamic_types = {t["name"]: t["dtype"] for t in dynamic_tensors}
left_float = [t for t in weights if dynamic_types[t["name"]] != np.int8]
print(f"dynamic range: {len(weights) - len(left_float)} of {len(weights)} weight tensors stored as int8; "
      f"activations float32: {all(t['dtype'] != np.int8 for t in dynamic_tensors if not per_channel(t))}")
for t in left_float:
    print(f"  left in float32: {layer_of(t):<24} {t['shape'].prod():>4} numbers")

# %% [markdown]
# ## 2. Inside the INT8 file
#
# ### Input and output
#
# Your model takes raw RGB pixels in 0..255 and rescales them *itself* (its first layer maps them to [−1, 1]),
# and the calibration photos are raw pixels too. So the converter finds that the input tensor runs from 0 to 255:
# as uint8, that is scale 1 and zero point 0, and a pixel's byte *is* its value. The app hands the photo's
# uint8 pixels straight to the model, with no arithmetic of its own. (A model that expected pixels already
# scaled to [−1, 1] would get an input scale of about 2/255, and every caller would have to quantise its photo
# by hand first.) The output is the softmax: probabilities in [0, 1], for which TFLite always uses the scale
# 1/256.

# %%
calibration, _ = checkpoint.split_photos(CHECKPOINT, "train", limit=export.CALIBRATION_PHOTOS)
calibration_pixels = data.load_images(calibration, IMAGE_SIZE, progress=False)

# %%
# NBVAL_CHECK_OUTPUT
print(f"calibration photos: pixel values from {calibration_pixels.min()} to {calibration_pixels.max()}")
for side, details in (("input", int8.get_input_details()[0]), ("output", int8.get_output_details()[0])):
    scale, zero_point = details["quantization"]
    print(f"{side:<7}{details['dtype'].__name__}, shape {details['shape'].tolist()}, scale {scale:.8g} "
          f"(= 1/{1 / scale:g}), zero point {zero_point}")

# %% [markdown]
# Inside, the rescaling runs in integers too. The first operation re-reads the uint8 pixels as int8 (the same
# numbers shifted by 128, zero point −128), then the model's own multiply-and-add gives the pixels in [−1, 1],
# stored with the scale 2/255. Since 0.0 must be an integer, the zero point is the nearest integer to −0.5: the
# stored range is very slightly off-centre. And every ReLU6 output is stored with the range [0, 6] whenever
# calibration reached the clip:

# %%
# NBVAL_CHECK_OUTPUT
def quantization(*name_parts):
    """Scale, zero point and range of the first tensor whose name holds all of ``name_parts``."""
    found = next(t for t in int8_tensors if all(part in t["name"].split(";")[0] for part in name_parts))
    scale, zero_point = found["quantization"]
    low, high = scale * (-128 - zero_point), scale * (127 - zero_point)
    return (f"{found['dtype'].__name__}, scale {scale:.6f} = {scale * 255:.3g}/255, zero point {zero_point:>4}, "
            f"range [{low:.4f}, {high:.4f}]")


print(f"pixels as int8:   {quantization('tfl.quantize')}")
print(f"pixels rescaled:  {quantization('preprocess', '/add')}")

# %%
relu6 = [t for t in int8_tensors if not per_channel(t) and t["name"].split(";")[0].endswith("Relu6")]
full_range = [t for t in relu6 if np.isclose(t["quantization"][0] * 255, 6) and t["quantization"][1] == -128]
print(f"{len(full_range)} of the {len(relu6)} ReLU6 outputs are stored with the range [0, 6] "
      "(scale 6/255, zero point -128)")

# %% [markdown]
# ### One layer's weights
#
# The first convolution, `Conv1`, has one filter of 3×3 weights per colour for each output channel. In the
# INT8 file each filter has its own
# scale, chosen so that its largest weight (in absolute value) becomes ±127; the zero point is 0. We read the
# int8 weights and their scales from the file, turn them back into real numbers, and compare with the Keras
# model's weights, folded with their BatchNorm exactly as the converter does:

# %%
conv1 = next(t for t in weights if layer_of(t) == "Conv1")
int8.allocate_tensors()  # the interpreter reads the file's constants into memory
q = int8.get_tensor(conv1["index"])  # (filters, height, width, input channels)
scales = conv1["quantization_parameters"]["scales"]
dequantised = scales[:, None, None, None] * q.astype(np.float32)

base = mv2.backbone(keras_model)
bn = base.get_layer("bn_Conv1")
gamma, _, _, variance = (w.numpy() for w in bn.weights)
folded = base.get_layer("Conv1").kernel.numpy() * gamma / np.sqrt(variance + bn.epsilon)  # (h, w, in, filters)
folded = folded.transpose(3, 0, 1, 2)
error = np.abs(dequantised - folded)

# %%
# NBVAL_CHECK_OUTPUT
print(f"Conv1 in the INT8 file: {conv1['dtype'].__name__} weights of shape {conv1['shape'].tolist()}, "
      f"{len(scales)} scales (one a filter), zero points all 0: "
      f"{not conv1['quantization_parameters']['zero_points'].any()}")
half_step = scales[:, None, None, None] / 2 * 1.0001  # a hair of slack: the converter folds in its own order
print(f"every weight within half a step of the Keras weight: {bool(np.all(error <= half_step))}")

# %%
largest = np.abs(folded).max(axis=(1, 2, 3))
full = np.abs(q).max(axis=(1, 2, 3)) == 127
assert np.allclose(scales[full] * 127, largest[full], rtol=1e-4)
print(f"{full.sum()} filters use the whole range -127..127, with scale = largest |weight| / 127 "
      f"(from {scales[full].min():.5f} to {scales[full].max():.5f}).")
if not full.all():
    print(f"The other {(~full).sum()} filters have weights of at most {largest[~full].max():.1e}: dead filters of "
          "these weights, stored as 0.")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.bar(range(len(scales)), scales)
left.set(title="Conv1: one scale per filter", xlabel="filter", ylabel="scale (real value of one int8 step)")
steps = folded[full] / scales[full, None, None, None]  # each weight, in steps of its filter's grid
right.plot(steps.ravel(), (q[full] - steps).ravel(), ".", markersize=4)
for bound in (-0.5, 0.5):
    right.axhline(bound, color="grey", lw=0.8, ls="--")
right.set(title=f"Rounding error of the {steps.size} weights of the {full.sum()} full-range filters",
          xlabel="Keras weight ÷ scale (BatchNorm folded)", ylabel="stored int8 − weight ÷ scale (steps)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Every weight moves to the nearest step of its filter's grid, so the error is at most half a step (dashed
# lines) wherever the weight lies; the largest weight of each filter lands exactly on ±127, with no error.
#
# ### Exercise 1 — quantise
#
# Write `quantise(x, scale, zero_point)`: the int8 array that stores the float array `x`. Round x / scale to the
# nearest integer, add the zero point, and clip to [−128, 127] (values beyond the range saturate).

# %%
def quantise(x, scale, zero_point):
    ### BEGIN SOLUTION
    return np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
week5.check_quantise(quantise)


# %% [markdown]
# ### Exercise 2 — dequantise
#
# Write `dequantise(q, scale, zero_point)`: the real numbers that the int8 or uint8 array `q` stands for. (The
# check includes an int8 softmax output: find out what int8 arithmetic does to 100 − (−128).)

# %%
def dequantise(q, scale, zero_point):
    ### BEGIN SOLUTION
    return scale * (q.astype(np.float32) - zero_point)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
week5.check_dequantise(dequantise)

# %% [markdown]
# ## 3. Accuracy: does each format still answer like the Keras model?
#
# The checkpoint's test photos (its recorded split), through every runtime with `Classifier.predict_pixels`, the
# same call the app uses. "Agrees with Keras" counts the photos whose top class is the Keras model's.

# %%
test_files, test_labels = checkpoint.split_photos(CHECKPOINT, "test")
test_pixels = data.load_images(test_files, IMAGE_SIZE, progress=False)
classifiers = {kind: Classifier.load(CHECKPOINT, runtime=kind) for kind in ("keras", "fp32", "dynamic", "int8")}
predicted = {kind: clf.predict_pixels(test_pixels).argmax(axis=1) for kind, clf in classifiers.items()}
accuracy = {kind: float(np.mean(p == test_labels)) for kind, p in predicted.items()}
agreement = {kind: float(np.mean(p == predicted["keras"])) for kind, p in predicted.items()}
for kind in classifiers:  # the same numbers export.export recorded in meta.json
    assert accuracy[kind] == EXPORTS[kind]["test_accuracy"] and agreement[kind] == EXPORTS[kind]["agreement_with_keras"]
    print(f"{kind:<8} test accuracy {accuracy[kind]:6.1%}   agrees with Keras on {agreement[kind]:6.1%} "
          f"of {len(test_labels)} photos")
print(f"(one photo is {1 / len(test_labels):.1%} of this test set)")

# %% [markdown]
# FP32 should agree with Keras on every photo: the same arithmetic, only in another order (a photo whose two
# likeliest classes differ by less than float rounding could flip). The 8-bit formats can flip a photo whose two
# likeliest classes were close; on a small test set one photo weighs a lot, so judge them by the agreement as
# much as by the accuracy, and on a larger test set (full mode of week 4) before you conclude.
#
# ## 4. Latency: how long one photo takes
#
# A served app answers one photo at a time, so that is what we time. A fair measurement warms every runtime up
# first (the first calls trace graphs and set up XNNPACK), times many calls and reports the **median** (a
# typical request) and the **p90** (nine requests in ten are at least this fast), and interleaves the runtimes
# so that a busy moment of the machine slows all of them alike:

# %%
show_source(latency.measure)

# %% [markdown]
# Besides the four formats we time `model.predict`, the call you may know from Keras tutorials: it builds a data
# pipeline for every call, which is why the course's Keras runtime calls a compiled function instead.

# %%
runtimes = {"keras model.predict": lambda batch: keras_model.predict(batch, verbose=0), **classifiers}
LATENCY = latency.measure(runtimes, test_pixels, calls=CALLS)
print(latency.format_table(LATENCY, baseline="keras model.predict"))

# %% [markdown]
# The whole table, on this machine:

# %%
sizes = {kind: EXPORTS[kind]["bytes"] / 1e6 for kind in classifiers}
TABLE = {kind: {"median_ms": LATENCY[kind].median * 1e3, "p90_ms": LATENCY[kind].p90 * 1e3,
                "accuracy": accuracy[kind], "megabytes": sizes[kind]} for kind in classifiers}
print(f"{'format':<9}{'file':<22}{'MB':>6}{'median ms':>11}{'p90 ms':>8}{'vs keras':>10}{'accuracy':>10}"
      f"{'agrees':>8}")
for kind, row in TABLE.items():
    print(f"{kind:<9}{EXPORTS[kind]['file']:<22}{row['megabytes']:>6.2f}{row['median_ms']:>11.1f}"
          f"{row['p90_ms']:>8.1f}{TABLE['keras']['median_ms'] / row['median_ms']:>9.1f}x"
          f"{row['accuracy']:>10.1%}{agreement[kind]:>8.0%}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.5))
names = list(LATENCY)
medians = [LATENCY[n].median * 1e3 for n in names]
p90s = [LATENCY[n].p90 * 1e3 for n in names]
left.barh(names, medians, color="tab:blue", label="median")
left.plot(p90s, names, "k|", markersize=14, label="p90")
left.set(xscale="log", xlabel="ms for one photo (log scale)", title=f"Latency at {IMAGE_SIZE} px, {CALLS} calls")
left.invert_yaxis()
left.legend()
right.barh(list(sizes), list(sizes.values()), color="tab:green")
right.set(xlabel="MB", title="File size")
right.invert_yaxis()
plt.tight_layout()
plt.show()

# %% [markdown]
# Which format wins depends on the machine and the runtime: XNNPACK, the CPU engine of LiteRT, has fast float
# and integer kernels for x86 and ARM; a phone's NPU or a microcontroller runs *only* integer models. Dynamic
# range mainly saves file size and download time. How fast it runs depends on the runtime: its "hybrid" kernels
# quantise each activation on the fly and multiply integers, and they may be faster or slower than a good float
# kernel. Measure on the machine you deploy to:

# %%
print(f"Here: dynamic range takes {TABLE['dynamic']['median_ms'] / TABLE['fp32']['median_ms']:.2f}x the time of "
      f"FP32, INT8 {TABLE['int8']['median_ms'] / TABLE['fp32']['median_ms']:.2f}x; the INT8 file is "
      f"{sizes['fp32'] / sizes['int8']:.1f}x smaller than FP32's.")


# %% [markdown]
# ### Exercise 3 — pick the runtime for a latency budget
#
# A product team gives you a budget: "a photo must be classified within `budget_ms` milliseconds". Write
# `pick_runtime(table, budget_ms)`: `table` maps each runtime's name to a row like the ones in `TABLE` above
# (`median_ms`, `p90_ms`, `accuracy`, `megabytes`). Return the name of the most accurate runtime whose p90 is
# within the budget; among equally accurate ones, the one with the smaller file; `None` when none fits.
# Why the p90 and not the median?

# %%
def pick_runtime(table, budget_ms):
    ### BEGIN SOLUTION
    fitting = [name for name, row in table.items() if row["p90_ms"] <= budget_ms]
    if not fitting:
        return None
    return max(fitting, key=lambda name: (table[name]["accuracy"], -table[name]["megabytes"]))
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
week5.check_pick_runtime(pick_runtime)

# %% [markdown]
# Try yours on `TABLE`, this machine's measurements, with a few budgets. How much does the answer change if you
# measure again while the machine is busy?
#
# ## 5. Serve your checkpoint
#
# The course's Gradio app (`app.py`) loads a checkpoint once, warms it up, serves each photo with the fastest
# export it finds (INT8, now that you exported it) and draws where the network looked with the Keras model
# (Grad-CAM). From a terminal in the project folder, either of these serves your checkpoint at the local address
# it prints (Ctrl+C stops it):

# %%
from lessons import serving  # noqa: E402

relative = CHECKPOINT.relative_to(paths.REPO)
print(f"python app.py --checkpoint {relative}")
print(f"{serving.CHECKPOINT_ENV}={relative} python app.py")

# %% [markdown]
# From the notebook: `app.py` builds the site when it is imported (its module-level `demo`, on the checkpoint
# that `WORKBOOK_CHECKPOINT` names), and `serving.launch` starts it with the same settings as `python app.py`
# (the upload cap, the links to the notebooks, a public link when you are in Colab), here from a background
# thread (`block=False`), so the notebook stays usable.

# %%
os.environ[serving.CHECKPOINT_ENV] = str(CHECKPOINT)
import app  # noqa: E402  (the project's app.py: importable because the project is installed)

_, url, share_url = serving.launch(app.demo, block=False, inline=not FAST, quiet=True)
print(f"The app serves {relative} at {url}" + (f" and at {share_url}" if share_url else ""))

# %% [markdown]
# Anything that speaks HTTP can use it, not only a browser. The `gradio_client` package calls its `/classify`
# endpoint with a photo and the name of a checkpoint (as the page's chooser lists them), as the web page does —
# here with one of your test photos:

# %%
from gradio_client import Client, handle_file  # noqa: E402

photo, truth = test_files[0], LABELS[test_labels[0]]
label, overlay, card = Client(url, verbose=False).predict(handle_file(str(photo)), CHECKPOINT.name,
                                                          api_name="/classify")
print(f"{photo.parent.name}/{photo.name} (a {truth}):")
for answer in label["confidences"]:
    print(f"  {answer['label']:<11}{answer['confidence']:.1%}")
print(card.replace("**", ""))

# %%
# NBVAL_CHECK_OUTPUT
print(f"The app answered with {len(label['confidences'])} classes, a Grad-CAM overlay "
      f"({'yes' if overlay else 'no'}), and a model card that says it serves the int8 export: "
      f"{'Served as int8' in card.replace('**', '')}")

# %% [markdown]
# In fast mode (CI) the next cell closes the app, so that no server outlives the notebook. In full mode it keeps
# running: open the address printed above (or use the app shown under the launch cell), upload your own photos,
# and stop it with `app.demo.close()` — or by restarting the kernel — when you are done.

# %%
if KEEP_APP_RUNNING:
    print(f"The app keeps running at {url}: stop it with app.demo.close().")
else:
    app.demo.close()
    print("The app is closed.")

# %% [markdown]
# ## Self-check
#
# You should now be able to explain, without looking back:
#
# - what the FP32, dynamic-range and full-INT8 files each store, and what arithmetic each runs;
# - what a scale and a zero point are, how to turn an int8 number into a real one and back, and why weights get
#   one scale per output channel;
# - what calibration is, which photos it must use and which it must never use;
# - why the INT8 model takes the photo's uint8 pixels as they are (input scale 1, zero point 0), and what would
#   change if the model expected pixels in [−1, 1];
# - why the INT8 file is larger than one byte per parameter;
# - how to time one photo fairly (warm-up, median and p90, interleaving), why `model.predict` is slow for one
#   photo, and why a latency budget is judged by the p90;
# - how to serve your checkpoint in the app from a terminal and from a notebook, and how to stop it.
