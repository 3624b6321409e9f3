"""Phase 1 with cached features vs through the frozen graph, measured side by side.

    python benchmarks/phase1_caching.py [--data DIR] [--image-size 224] [--epochs 2]

Both ways train the same head (tests/test_training.py proves it). This measures what
each costs: a phase-1 epoch through the frozen MobileNetV2 graph, the one-off pass that
computes the features, and an epoch on the cached features. Epochs of the two kinds are
interleaved so that a busy machine slows both alike. Default data: ../shared/data/waste
(1,200 photos) when present, else data/sample.
"""
import argparse
import statistics
import time

import numpy as np

from lessons import data, model as mv2, paths, training


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=paths.shared_path("data/waste") or paths.SAMPLE_DATA)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs of each kind")
    parser.add_argument("--weights", default=None, help="default: as in training (model.default_weights)")
    args = parser.parse_args()

    dataset = data.scan(args.data)
    pixels = data.load_images(dataset.paths(), args.image_size)
    config = training.TrainConfig(data=args.data, image_size=args.image_size, weights=args.weights,
                                  augment=False, cache_features=False)
    clf = mv2.build_classifier(len(dataset.class_names), args.image_size, weights=config.weights)
    head = mv2.head_model(clf)
    print(f"{len(dataset)} photos from {args.data} at {args.image_size}px, batch {config.batch_size}")

    started = time.perf_counter()
    features = training.extract_features(clf, pixels, verbose=0)
    feature_pass = time.perf_counter() - started

    def epoch_timer(trainee, inputs):
        trainee.compile("adam", "categorical_crossentropy")
        batches = data.batches(inputs, dataset.labels, len(dataset.class_names), config.batch_size, shuffle_seed=0)
        trainee.fit(batches.take(2), verbose=0)  # trace and warm up outside the timing

        def timed():
            started = time.perf_counter()
            trainee.fit(batches, verbose=0, shuffle=False)
            return time.perf_counter() - started
        return timed

    graph_epoch, cached_epoch = epoch_timer(clf, pixels), epoch_timer(head, features)
    graph, cached = [], []
    for _ in range(args.epochs):
        graph.append(graph_epoch())
        cached.append(cached_epoch())
    graph_s, cached_s = statistics.median(graph), statistics.median(cached)
    print(f"epoch through the frozen graph  {graph_s:8.2f} s  (median of {args.epochs})")
    print(f"one-off feature pass            {feature_pass:8.2f} s")
    print(f"epoch on cached features        {cached_s:8.3f} s")
    print(f"cached epoch speed-up           {graph_s / cached_s:8.0f} x  (target >= 10 x)")
    for epochs in (10, 30):
        total_graph, total_cached = epochs * graph_s, feature_pass + epochs * cached_s
        print(f"{epochs:3d} phase-1 epochs: graph {total_graph:7.0f} s, cached {total_cached:6.0f} s "
              f"-> {total_graph / total_cached:.1f} x faster overall")
    assert np.isfinite(features).all()


if __name__ == "__main__":
    main()
