"""Phase 1 with cached features vs through the frozen graph, measured side by side.

    python -m benchmarks.phase1_caching [--data DIR] [--image-size 224] [--epochs 2]

Both ways train the same head (tests/test_training.py proves it). This measures what
each costs with :func:`lessons.feature_cache.time_phase1`: a phase-1 epoch through the
frozen MobileNetV2 graph, the one-off pass that computes the features, and an epoch on
the cached features, epochs of the two kinds interleaved so that a busy machine slows
both alike. Default data: ../shared/data/waste (1,200 photos) when present, else
data/sample. Target: a cached epoch >= 10x faster.
"""
import argparse

from lessons import data, feature_cache, mobilenetv2, paths, pipeline


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=paths.shared_path("data/waste") or paths.SAMPLE_DATA)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs of each kind")
    parser.add_argument("--weights", default=None, help="default: as in training (model.default_weights)")
    args = parser.parse_args()

    dataset = data.scan(args.data)
    pixels = pipeline.load_images(dataset.paths(), args.image_size)
    clf = mobilenetv2.build_classifier(len(dataset.class_names), args.image_size, weights=args.weights)
    timing = feature_cache.time_phase1(clf, pixels, dataset.labels, repeats=args.epochs)
    print(f"{timing.photos} photos from {args.data} at {args.image_size}px, batch 32")
    print(f"epoch through the frozen graph  {timing.graph_epoch:8.2f} s  (median of {args.epochs})")
    print(f"one-off feature pass            {timing.feature_pass:8.2f} s")
    print(f"epoch on cached features        {timing.cached_epoch:8.3f} s")
    print(f"cached epoch speed-up           {timing.epoch_speedup:8.0f} x  (target >= 10 x)")
    for epochs in (10, 30):
        graph, cached = timing.total(epochs)
        print(f"{epochs:3d} phase-1 epochs: graph {graph:7.0f} s, cached {cached:6.0f} s -> {graph / cached:.1f} x "
              "faster overall")


if __name__ == "__main__":
    main()
