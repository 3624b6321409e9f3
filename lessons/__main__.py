"""The course's command line: ``python -m lessons COMMAND``.

Commands: train, evaluate, predict, export, results, student-edition, space, download.

Run ``python -m lessons COMMAND --help`` for the options of each command.

Public API: :func:`main`, :func:`build_parser`, :func:`run_train`, :func:`run_evaluate`,
:func:`run_predict`, :func:`run_export`, :func:`run_results`, :func:`run_student_edition`,
:func:`run_space`, :func:`run_download`.
"""
import argparse
import dataclasses
import json
import shlex
import sys
from pathlib import Path

from lessons import paths, quiet


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    # stderr carries this command's own lines only (one per unreadable photo, say), never
    # TensorFlow's or LiteRT's C++ notices, which differ from CPU to CPU.
    quiet.silence_native_stderr()
    quiet.quiet_tensorflow_python()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    from lessons.checkpoint import CheckpointError
    from lessons.data import DataError
    from lessons.distribute import ClusterError
    from lessons.mobilenetv2 import WeightsError

    try:
        return args.run(args, argv) or 0
    except (CheckpointError, ClusterError, DataError, WeightsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m lessons", description="The MobileNetV2 Workbook's command "
                                     "line. `python -m lessons COMMAND --help` tells more.")
    commands = parser.add_subparsers(metavar="COMMAND")

    train = commands.add_parser("train", help="two-phase training of MobileNetV2 on a photo folder",
                                description="Phase 1 trains a new head on the frozen ImageNet base; phase 2 "
                                "fine-tunes the top blocks. Writes a checkpoint directory. An interrupted "
                                "run resumes when the same command is repeated.")
    _add_config_options(train)
    train.add_argument("--out", type=Path, help="checkpoint directory to write (default: checkpoints/<data folder "
                       "name>-mobilenetv2)")
    train.add_argument("--restart", action="store_true", help="discard an interrupted run instead of resuming it")
    train.add_argument("--devices", type=_devices, default="all", metavar="N|all",
                       help="train on all GPUs (default) or the first N, one replica each, --batch-size photos per "
                       "replica; without GPUs, N > 1 splits the CPU (a rehearsal). Several machines: set TF_CONFIG "
                       "(README, 'Scaling up')")
    train.set_defaults(run=run_train)

    evaluate = commands.add_parser("evaluate", help="accuracy, per-class scores and confusion matrix",
                                   description="Evaluate a checkpoint on a photo folder, or on one part of the "
                                   "split it was trained with.")
    _add_checkpoint_options(evaluate)
    evaluate.add_argument("--data", type=Path, help="photo folder (default: the one the checkpoint was trained on)")
    evaluate.add_argument("--split", choices=("all", "train", "val", "test"), default="all",
                          help="'all' photos of --data, or one part of the checkpoint's recorded split")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--figure", type=Path, help="also save the confusion matrix as an image")
    evaluate.add_argument("--skip-bad-files", action="store_true",
                          help="leave out photos that cannot be read, and list them, instead of stopping")
    evaluate.set_defaults(run=run_evaluate)

    predict = commands.add_parser("predict", help="top classes of photos",
                                  description="Print the likeliest classes of each photo. A photo that cannot be "
                                  "read is reported on stderr; the others are still predicted.")
    _add_checkpoint_options(predict)
    predict.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    predict.add_argument("--top-k", type=int, default=3)
    predict.add_argument("--json", action="store_true", help="print one JSON object per photo")
    predict.set_defaults(run=run_predict)

    export = commands.add_parser("export", help="TFLite FP32 and INT8 exports, checked against Keras",
                                 description="Write model_fp32.tflite and model_int8.tflite (calibrated on "
                                 "training photos) into the checkpoint and compare them with the Keras model "
                                 "on the test photos.")
    export.add_argument("--checkpoint", type=Path, default=paths.REFERENCE_CHECKPOINT)
    export.add_argument("--formats", default="fp32,int8", help="comma-separated: fp32, dynamic, int8")
    export.add_argument("--data", type=Path, help="the photo folder it was trained on, if it has moved")
    export.set_defaults(run=run_export)

    results = commands.add_parser("results", help="a checkpoint's results as Markdown (README's table)",
                                  description="Print what the checkpoint's meta.json records: the data, the split "
                                  "and the test accuracy after each training step and each export, as Markdown.")
    results.add_argument("--checkpoint", type=Path, default=paths.REFERENCE_CHECKPOINT)
    results.set_defaults(run=run_results)

    student = commands.add_parser("student-edition", help="the weekly notebooks without their solutions",
                                  description="Write the student edition of the notebooks in weeks/ into OUTDIR "
                                  "(default: student/, the edition students open): every solution replaced by a stub, "
                                  "outputs and nbval markers cleared.")
    student.add_argument("outdir", type=Path, nargs="?", default=paths.REPO / "student")
    student.set_defaults(run=run_student_edition)

    space = commands.add_parser("space", help="a Hugging Face Space folder of the teaching site",
                                description="Write OUTDIR: app.py, the lessons package, the reference "
                                "checkpoint, the ImageNet weights, the sample photos, a slim requirements.txt, "
                                "README.md with the Spaces front matter and a .gitattributes for LFS/Xet. The "
                                "Dockerfile builds the container from the same folder.")
    space.add_argument("outdir", type=Path)
    space.set_defaults(run=run_space)

    download = commands.add_parser("download", help="fetch a photo folder: an archive of class folders, or the "
                                   "course's 4,396 photos",
                                   description="`download --url URL --sha256 HEX --to DIR` fetches a zip or tar "
                                   "archive of class folders; `download waste` fetches the course's photos file by "
                                   "file from GitHub (see data/DOWNLOADS.md). Every byte is checked against its "
                                   "SHA-256 and every photo decoded before DIR appears; an interrupted download "
                                   "resumes when the same command is repeated.")
    download.add_argument("name", nargs="?", choices=("waste",), metavar="waste",
                          help="'waste': the course's photo set, checked against data/waste-full.csv (base URL: "
                          "$LESSONS_WASTE_URL, else the GitHub snapshot)")
    download.add_argument("--url", help="http(s) address of a zip, tar, tar.gz, tar.bz2 or tar.xz archive")
    download.add_argument("--sha256", metavar="HEX", help="the archive's SHA-256, checked before anything is unpacked")
    download.add_argument("--to", type=Path, metavar="DIR", help="the folder to create, which must not exist or be "
                          "empty (default for waste: data/waste-full)")
    download.add_argument("--manifest", type=Path, metavar="CSV", help="for waste: another manifest with the columns "
                          "file,source_path,sha256 (default: data/waste-full.csv)")
    download.set_defaults(run=run_download)
    return parser


def _add_checkpoint_options(parser):
    parser.add_argument("--checkpoint", type=Path, default=paths.REFERENCE_CHECKPOINT,
                        help="checkpoint directory (default: the reference checkpoint)")
    parser.add_argument("--runtime", choices=("auto", "keras", "fp32", "dynamic", "int8"), default="auto",
                        help="which model file to run (auto: the fastest present)")


def _add_config_options(parser):
    """One option per TrainConfig field, so the command line and the API cannot drift."""
    from lessons.training import TrainConfig

    help_text = {
        "data": "photo folder, one sub-folder per class (required)",
        "weights": "'imagenet' (a Keras download), a MobileNetV2 .weights.h5 file, or 'none' (default: "
                   "$LESSONS_WEIGHTS, else the ImageNet file the course ships in weights/)",
        "fine_tune_from": "first block unfrozen in phase 2 (block_0 .. block_16, or top)",
        "phase2_lr": "phase-2 learning rate (default: phase1-lr / 10)",
        "cache_features": "phase 1 on features computed once (no augmentation in phase 1)",
        "test_time_flip": "average each photo's prediction with its mirror image's",
        "mixed_precision": "float16 arithmetic with float32 weights: about 2x faster on GPUs with tensor cores "
                           "(needs a GPU); the checkpoint is saved in float32",
    }
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if isinstance(f.default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default,
                                help=help_text.get(f.name))
        else:
            kind = type(f.default) if f.default not in (None, dataclasses.MISSING) else str
            kind = float if f.name.endswith("_lr") else kind
            parser.add_argument(flag, type=kind, default=None if f.default is dataclasses.MISSING else f.default,
                                required=f.default is dataclasses.MISSING, help=help_text.get(f.name))


def run_train(args, argv):
    from lessons import training

    names = [f.name for f in dataclasses.fields(training.TrainConfig)]
    config = training.TrainConfig(**{name: getattr(args, name) for name in names})
    out = args.out or paths.CHECKPOINTS / f"{Path(config.data).name}-mobilenetv2"
    command = shlex.join(["python", "-m", "lessons", *argv])
    training.train(config, out, command=command, resume=not args.restart, verbose=1 if sys.stdout.isatty() else 2,
                   devices=args.devices)


def _devices(text):
    if text == "all":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give 'all' or a number of devices") from None


def run_evaluate(args, argv):
    from lessons import checkpoint, evaluation, streaming
    from lessons.figures import results
    from lessons.inference import Predictor

    clf = Predictor.load(args.checkpoint, args.runtime)
    if args.split == "all":
        photos, labels = _folder_photos(args.data or checkpoint.resolve_from_repo(clf.meta.data.root), clf)
    else:
        photos, labels = checkpoint.split_photos(args.checkpoint, args.split, args.data)
    # Streamed: memory stays that of a few batches however many photos there are.
    stream = streaming.PhotoStream(photos, clf.image_size, labels, skip_bad=args.skip_bad_files)
    found, labels, probabilities = stream.predict(clf.predict_pixels, progress=not args.json)
    for path in stream.skipped:
        print(f"skipped, could not be read: {path}", file=sys.stderr)
    rep = evaluation.report(labels, probabilities, clf.labels, [photos[i] for i in found])
    if args.figure:
        results.confusion_figure(rep).savefig(args.figure, dpi=120)
    if args.json:
        print(json.dumps({"checkpoint": str(args.checkpoint), "runtime": clf.runtime.name, "split": args.split,
                          **rep.to_json()}))
    else:
        print(evaluation.format_report(rep))


def _folder_photos(folder, clf):
    """All photos of a class folder, labelled with the checkpoint's class indices."""
    from lessons import checkpoint, data

    dataset = data.scan(folder, min_per_class=1)
    unknown = sorted(set(dataset.class_names) - set(clf.labels))
    if unknown:
        raise data.DataError(f"{folder} has classes the checkpoint does not know: {', '.join(unknown)} "
                             f"(it knows {', '.join(clf.labels)}).")
    seen = checkpoint.read_split(clf.directory)
    trained_on = set(seen.train) | set(seen.val)
    overlap = sum(f in trained_on for f in dataset.files)
    if overlap:
        print(f"note: {overlap} of these {len(dataset)} photos were used in training; for held-out accuracy "
              "use --split test", file=sys.stderr)
    labels = [clf.labels.index(dataset.class_names[i]) for i in dataset.labels]
    return dataset.paths(), labels


def run_predict(args, argv):
    from lessons.images import ImageError
    from lessons.inference import Predictor

    clf = Predictor.load(args.checkpoint, args.runtime)
    failed = 0
    for path in args.images:
        try:
            ranked = clf.top_k(path, args.top_k)
        except ImageError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        if args.json:
            print(json.dumps({"image": str(path), "predictions": [
                {"label": p.label, "probability": round(p.probability, 6)} for p in ranked]}))
        else:
            print(f"{path}: " + ", ".join(f"{p.label} {p.probability:.1%}" for p in ranked))
    return 1 if failed else 0


def run_export(args, argv):
    from lessons import export

    kinds = [k.strip() for k in args.formats.split(",") if k.strip()]
    results = export.export(args.checkpoint, kinds, args.data)
    print(export.format_results(results))


def run_results(args, argv):
    from lessons import checkpoint, results

    print(results.markdown(checkpoint.read(args.checkpoint).meta))


def run_student_edition(args, argv):
    from lessons import student_edition

    for path in student_edition.write(args.outdir):
        print(f"wrote {path}")


def run_space(args, argv):
    from lessons import space

    outdir = space.write(args.outdir)
    print(f"wrote {outdir}: publish it with huggingface_hub's upload_folder (see README), or run it with "
          f"`cd {outdir} && pip install -r requirements.txt && python app.py`")


def run_download(args, argv):
    from lessons import download

    if args.name == "waste":
        if args.url or args.sha256:
            raise download.DownloadError("`download waste` takes no --url or --sha256: its manifest lists every "
                                         "photo's address and checksum.")
        dataset = download.download_waste(args.to or paths.WASTE_FULL, args.manifest or download.WASTE_MANIFEST)
    else:
        if args.manifest or not (args.url and args.sha256 and args.to):
            raise download.DownloadError("usage: `python -m lessons download --url URL --sha256 HEX --to DIR` for "
                                         "an archive, or `python -m lessons download waste [--to DIR]`.")
        dataset = download.download_archive(args.url, args.sha256, args.to)
    print(f"{len(dataset)} photos in {len(dataset.class_names)} classes ({', '.join(dataset.class_names)}), "
          "every one checked. Next:")
    print(download.next_command(dataset.root))


if __name__ == "__main__":
    sys.exit(main())
