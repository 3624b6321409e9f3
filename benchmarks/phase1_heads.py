"""What helps phase 1? Head variants trained side by side on the same cached features.

    python -m benchmarks.phase1_heads [--data ../shared/data/waste-full] [--seeds 3]

The features of every photo (and of its mirror image) are computed once with the frozen
ImageNet base; then each variant of the head is trained on the course's split (seed 0,
near-duplicates kept together) and scored on the validation and test photos, averaged
over a few training seeds. A photo set of 4,396 has a test split of about 660 photos:
one photo is 0.15 points, and differences below a point or so are noise.
"""
import argparse
import statistics

import keras
import numpy as np

from lessons import data, mobilenetv2, paths, pipeline, splits, training

VARIANTS = {
    "linear head, no label smoothing": dict(label_smoothing=0.0),
    "linear head, label smoothing 0.1 (course default)": dict(),
    "+ dropout 0.5": dict(dropout=0.5),
    "+ hidden layer of 256": dict(hidden_units=256, dropout=0.5),
    "+ mirrored copies of the training photos": dict(mirrored=True),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=paths.shared_path("data/waste-full") or paths.SAMPLE_DATA)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()

    dataset = data.scan(args.data)
    split = splits.split(dataset, seed=0)
    clf = mobilenetv2.build_classifier(len(dataset.class_names))
    pixels = pipeline.load_images(dataset.paths(), 224)
    both = mobilenetv2.plain_and_flipped(lambda batch: training.extract_features(clf, batch, verbose=0))(pixels)
    features = {"plain": both[:, 0], "mirrored": both[:, 1]}
    print(f"{len(dataset)} photos; train {len(split.train)}, val {len(split.val)}, test {len(split.test)}")
    print(f"{'phase-1 head':<52}{'val':>7}{'test':>7}{'test+flip':>11}")
    for name, settings in VARIANTS.items():
        scores = [train_head(features, dataset.labels, split, seed=seed, **settings) for seed in range(args.seeds)]
        means = [statistics.mean(s[i] for s in scores) for i in range(3)]
        print(f"{name:<52}" + "".join(f"{m:>{w}.1%}" for m, w in zip(means, (7, 7, 11))))


def train_head(features, labels, split, seed, label_smoothing=0.1, dropout=0.2, hidden_units=0, mirrored=False):
    """(val, test, test with flip) accuracy of one head trained as phase 1 trains it."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(features["plain"].shape[1:])
    x = inputs
    for layer in mobilenetv2.head_layers(int(labels.max()) + 1, dropout, hidden_units):
        x = layer(x)
    head = keras.Model(inputs, x)
    head.compile(keras.optimizers.Adam(1e-3), keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
                 metrics=["accuracy"])
    train_x, train_y = features["plain"][split.train], labels[split.train]
    if mirrored:
        train_x = np.concatenate([train_x, features["mirrored"][split.train]])
        train_y = np.concatenate([train_y, train_y])
    onehot = np.eye(int(labels.max()) + 1)
    head.fit(train_x, onehot[train_y], validation_data=(features["plain"][split.val], onehot[labels[split.val]]),
             epochs=40, batch_size=32, verbose=0,
             callbacks=[keras.callbacks.EarlyStopping(patience=4, restore_best_weights=True)])
    predict = lambda part, kind: head.predict(features[kind][getattr(split, part)], verbose=0)  # noqa: E731
    accuracy = lambda p, part: float(np.mean(p.argmax(1) == labels[getattr(split, part)]))  # noqa: E731
    return (accuracy(predict("val", "plain"), "val"), accuracy(predict("test", "plain"), "test"),
            accuracy(predict("test", "plain") + predict("test", "mirrored"), "test"))


if __name__ == "__main__":
    main()
