"""lessons.latency: warm-up left out, median and p90, runtimes interleaved, Classifiers timed whole."""
import dataclasses
import time

import numpy as np
import pytest

from lessons import checkpoint, latency, paths
from lessons.inference import Predictor

PHOTOS = np.arange(3 * 4 * 4 * 3, dtype=np.uint8).reshape(3, 4, 4, 3)


class FakeClock:
    """A clock that only moves when a fake runtime says it worked: exact, repeatable timings."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class FakeRuntime:
    """Takes ``durations[i]`` seconds (on the fake clock) for its i-th call and logs every call."""

    def __init__(self, name, clock, durations, log):
        self.name, self.clock, self.durations, self.log = name, clock, list(durations), log

    def __call__(self, batch):
        self.clock.now += self.durations[len([entry for entry in self.log if entry[0] == self.name])]
        self.log.append((self.name, batch.copy()))
        return np.zeros((len(batch), 10), dtype=np.float32)


def fakes(durations_by_name):
    clock, log = FakeClock(), []
    runtimes = {name: FakeRuntime(name, clock, durations, log) for name, durations in durations_by_name.items()}
    return runtimes, clock, log


def test_median_and_p90_of_known_durations():
    ms = [0.001 * k for k in (7, 1, 10, 3, 5, 2, 9, 4, 8, 6)]  # 1..10 ms, shuffled
    runtimes, clock, _ = fakes({"fake": ms})
    result = latency.measure(runtimes, PHOTOS, calls=10, warmup=0, clock=clock)["fake"]
    assert result.seconds == pytest.approx(ms)
    assert result.median == pytest.approx(0.0055)  # between the 5th and 6th of ten
    assert result.p90 == pytest.approx(0.0091)  # 90% of the way from 1 ms to 10 ms: 9 + 0.1 * (10 - 9)


def test_warm_up_calls_are_made_but_not_counted():
    slow_first = [5.0, 3.0] + [0.002] * 20  # tracing and set-up cost seconds; later calls 2 ms
    runtimes, clock, log = fakes({"fake": slow_first})
    result = latency.measure(runtimes, PHOTOS, calls=20, warmup=2, clock=clock)["fake"]
    assert len(log) == 22 and len(result.seconds) == 20
    assert result.median == pytest.approx(0.002) and max(result.seconds) == pytest.approx(0.002)


def test_runtimes_take_turns_starting_from_a_different_one_each_round():
    runtimes, clock, log = fakes({name: [0.001] * 10 for name in "abc"})
    latency.measure(runtimes, PHOTOS, calls=3, warmup=1, clock=clock)
    order = "".join(name for name, _ in log)
    assert order == "abc" + "abc" + "bca" + "cab"  # warm-up, then three rotated rounds


def test_a_busy_moment_slows_every_runtime_alike():
    """Interleaving: a slow patch of the machine lands on all runtimes, not on one of them."""
    clock, log = FakeClock(), []

    class Busy(FakeRuntime):
        def __call__(self, batch):
            busy = 4 <= len(log) < 10  # the machine is busy during calls 4..9 of the run
            self.clock.now += 0.001 * (10 if busy else 1)
            self.log.append((self.name, batch))

    runtimes = {name: Busy(name, clock, [], log) for name in ("a", "b")}
    results = latency.measure(runtimes, PHOTOS, calls=10, warmup=0, clock=clock)
    slowed = {name: sum(s > 0.005 for s in r.seconds) for name, r in results.items()}
    assert slowed == {"a": 3, "b": 3}


def test_every_call_gets_one_photo_and_the_photos_cycle():
    runtimes, clock, log = fakes({"fake": [0.001] * 10})
    latency.measure(runtimes, PHOTOS, calls=5, warmup=1, clock=clock)
    batches = [batch for _, batch in log]
    assert all(batch.shape == (1, 4, 4, 3) for batch in batches)
    np.testing.assert_array_equal(batches[0][0], PHOTOS[0])  # the warm-up
    for i, batch in enumerate(batches[1:]):
        np.testing.assert_array_equal(batch[0], PHOTOS[i % 3])


def test_one_photo_may_be_given_without_a_batch_axis():
    runtimes, clock, log = fakes({"fake": [0.001] * 3})
    latency.measure(runtimes, PHOTOS[1], calls=3, warmup=0, clock=clock)
    assert all(np.array_equal(batch[0], PHOTOS[1]) for _, batch in log)


def test_a_classifier_is_timed_through_its_whole_prediction_path():
    """With test-time flip on, a served prediction runs the model twice: both runs are timed."""
    calls = []

    def runtime(batch):
        calls.append(batch.shape)
        time.sleep(0.002)
        return np.full((len(batch), 2), 0.5, dtype=np.float32)

    meta = dataclasses.replace(checkpoint.read(paths.REFERENCE_CHECKPOINT).meta, image_size=4, test_time_flip=True)
    predictor = Predictor("unused", ["a", "b"], meta, runtime)
    result = latency.measure({"flip": predictor}, PHOTOS, calls=4, warmup=1)["flip"]
    assert len(calls) == 2 * (1 + 4)
    assert result.median >= 0.004  # two model calls of at least 2 ms each


def test_real_sleeps_come_out_in_order():
    naps = {"fast": lambda batch: time.sleep(0.002), "slow": lambda batch: time.sleep(0.012)}
    results = latency.measure(naps, PHOTOS, calls=7, warmup=1)
    assert 0.002 <= results["fast"].median < results["slow"].median
    assert results["slow"].median >= 0.012 and results["slow"].p90 >= results["slow"].median


@pytest.mark.parametrize("photos, calls, warmup, message", [
    (PHOTOS[:0], 5, 1, "at least one photo"),
    (PHOTOS, 0, 1, "calls must be at least 1"),
    (PHOTOS, 5, -1, "warmup at least 0"),
])
def test_impossible_settings_are_refused(photos, calls, warmup, message):
    with pytest.raises(ValueError, match=message):
        latency.measure({"fake": lambda batch: None}, photos, calls=calls, warmup=warmup)


def test_the_table_shows_milliseconds_and_speed_ups():
    results = {"slow": latency.Latency("slow", [0.020, 0.030, 0.040]),
               "fast": latency.Latency("fast", [0.004, 0.005, 0.006])}
    lines = latency.format_table(results, baseline="slow").splitlines()
    assert "speed-up vs slow" in lines[0]
    assert lines[1].split() == ["slow", "30.0", "38.0", "1.0x"]
    assert lines[2].split() == ["fast", "5.0", "5.8", "6.0x"]
    assert "speed-up" not in latency.format_table(results)


@pytest.fixture(scope="module")
def tiny_tflite(tmp_path_factory):
    """A small fully convolutional network with global pooling, as a FP32 .tflite file at 16 px."""
    import keras

    from lessons import export

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Rescaling(1 / 255),
                              keras.layers.Conv2D(4, 3, activation="relu6"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    path = tmp_path_factory.mktemp("tflite") / "tiny.tflite"
    path.write_bytes(export.convert(model, "fp32"))
    return model, path


@pytest.mark.slow
def test_a_tflite_file_is_timed_alone_at_its_own_size(tiny_tflite):
    model, path = tiny_tflite
    run = latency.tflite_runner(path, threads=1)
    photo = np.random.default_rng(0).integers(0, 256, (1, 16, 16, 3), dtype=np.uint8)
    np.testing.assert_allclose(run(photo), model(photo.astype(np.float32)), rtol=1e-5, atol=1e-6)
    assert latency.measure({"tiny": run}, photo, calls=3, warmup=1)["tiny"].median > 0


@pytest.mark.slow
def test_a_tflite_file_can_be_timed_at_another_size(tiny_tflite):
    """Resizing the input runs the same weights on larger photos: what timing at 224 px needs."""
    import keras

    model, path = tiny_tflite
    run = latency.tflite_runner(path, image_size=40, threads=2)
    larger = keras.Sequential([keras.Input((40, 40, 3))] + model.layers)  # the same layers, the same weights
    photo = np.random.default_rng(1).integers(0, 256, (1, 40, 40, 3), dtype=np.uint8)
    np.testing.assert_allclose(run(photo), larger(photo.astype(np.float32)), rtol=1e-5, atol=1e-6)
