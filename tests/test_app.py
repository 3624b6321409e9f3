"""The teaching site through its API, against a real server started by the test."""
import concurrent.futures
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from lessons import paths, serving
from tests.conftest import NATIVE_NOTICE, NOISY_CPU

ONE_PER_CLASS = paths.sample_photo_per_class()


@pytest.fixture(scope="module")
def app(reference):
    # A relative --checkpoint, as README and week 5 print it.
    relative = reference.relative_to(paths.REPO)
    with serving.AppProcess(["--checkpoint", relative], env=NOISY_CPU) as app:
        yield app


@pytest.fixture(scope="module")
def server(app):
    return app.url


@pytest.fixture(scope="module")
def client(server):
    return Client(server, verbose=False)


def classify(client, path, checkpoint=paths.REFERENCE_CHECKPOINT.name):
    return client.predict(handle_file(str(path)), checkpoint, api_name="/classify")


def test_the_chooser_offers_checkpoints_by_name(client):
    with pytest.raises(Exception, match="not in the list of choices"):
        classify(client, ONE_PER_CLASS[0], str(paths.REFERENCE_CHECKPOINT))
    assert classify(client, ONE_PER_CLASS[0])[0]["label"] == "battery"


def test_the_log_holds_no_tensorflow_notices(app, client):
    classify(client, ONE_PER_CLASS[1])  # TFLite and Grad-CAM have run
    assert "Running on local URL" in app.log()
    assert not NATIVE_NOTICE.search(app.log()), app.log()


def test_sample_photos_get_their_class(client):
    right = [classify(client, photo)[0]["label"] == photo.parent.name for photo in ONE_PER_CLASS]
    assert sum(right) >= 8, right  # held-out photos; the reference is right on about 9 in 10


def test_the_answer_has_probabilities_a_gradcam_and_a_model_card(client):
    label, overlay, card = classify(client, ONE_PER_CLASS[4])
    confidences = [c["confidence"] for c in label["confidences"]]
    assert len(confidences) == 3 and confidences == sorted(confidences, reverse=True)
    assert Image.open(overlay).size == (224, 224)
    assert "Test accuracy" in card and "Measured latency" in card and "int8" in card


def write(tmp_path, name, image, fmt, **options):
    path = tmp_path / name
    image.save(path, fmt, **options)
    return path


@pytest.fixture
def bad_inputs(tmp_path):
    photo = ONE_PER_CLASS[0]
    (tmp_path / "notes.jpg").write_text("this is not a photo")
    (tmp_path / "cut.jpg").write_bytes(photo.read_bytes()[:4000])
    frames = [Image.new("RGB", (64, 64), c) for c in ("red", "blue")]
    return {
        "not an image": (tmp_path / "notes.jpg", "not an image"),
        "truncated": (tmp_path / "cut.jpg", "truncated or corrupt"),
        "enormous": (write(tmp_path, "huge.png", Image.new("1", (12000, 12000)), "PNG", optimize=True), "megapixels"),
        "animated": (write(tmp_path, "anim.gif", frames[0], "GIF", save_all=True, append_images=frames[1:]),
                     "animated"),
        "one pixel": (write(tmp_path, "dot.png", Image.new("RGB", (1, 1)), "PNG"), "1x1 pixels"),
    }


@pytest.mark.parametrize("case", ["not an image", "truncated", "enormous", "animated", "one pixel"])
def test_bad_input_gets_a_clear_message_and_the_next_request_works(client, bad_inputs, case):
    path, expected = bad_inputs[case]
    with pytest.raises(Exception, match=expected):
        classify(client, path)
    assert classify(client, ONE_PER_CLASS[2])[0]["label"] == "cardboard"


@pytest.mark.parametrize("mode", ["CMYK", "I;16"])
def test_cmyk_and_16_bit_photos_are_classified_like_the_original(client, tmp_path, mode):
    photo = Image.open(ONE_PER_CLASS[8]).convert("RGB")
    if mode == "CMYK":
        converted = write(tmp_path, "cmyk.jpg", photo.convert("CMYK"), "JPEG", quality=95)
    else:
        grey16 = (np.asarray(photo.convert("L"), dtype=np.uint16) * 257)
        converted = write(tmp_path, "grey16.png", Image.fromarray(grey16), "PNG")
        photo = photo.convert("L").convert("RGB")
    original = write(tmp_path, "original.png", photo, "PNG")
    assert classify(client, converted)[0]["label"] == classify(client, original)[0]["label"]


def test_uploads_over_the_size_limit_are_refused(client, tmp_path):
    noise = np.random.default_rng(0).integers(0, 255, (3000, 3000, 3), dtype=np.uint8)
    big = write(tmp_path, "big.png", Image.fromarray(noise), "PNG")
    assert big.stat().st_size > 15e6
    with pytest.raises(Exception, match="(?i)size|large"):
        classify(client, big)


def test_clients_at_once_get_the_answers_each_gets_alone(client, server):
    photos = ONE_PER_CLASS[:8]
    alone = [classify(client, photo)[0] for photo in photos]
    clients = [Client(server, verbose=False) for _ in photos]
    together = threading.Barrier(len(photos), timeout=60)  # all send at once, however slowly threads start

    def timed(each, photo):
        together.wait()
        started = time.monotonic()
        answers = [classify(each, photo)[0] for _ in range(2)]
        return started, time.monotonic(), answers

    with concurrent.futures.ThreadPoolExecutor(len(photos)) as pool:
        runs = list(pool.map(timed, clients, photos))
    for photo, expected, (_, _, answers) in zip(photos, alone, runs):
        for answer in answers:
            assert answer["label"] == expected["label"], photo
            assert confidences(answer) == pytest.approx(confidences(expected), abs=1e-4), photo
    # The requests really overlapped: when the last client started, at least as many were still waiting for
    # their answers as the server answers at once (a client that sent its requests one after another would not).
    last_start = max(started for started, _, _ in runs)
    in_flight = sum(started <= last_start < ended for started, ended, _ in runs)
    assert in_flight >= serving.CONCURRENCY, runs


def confidences(answer):
    return {c["label"]: c["confidence"] for c in answer["confidences"]}


def test_a_broken_checkpoint_stops_the_app_at_start_naming_the_file(small_copy):
    (small_copy / "labels.json").write_text('["only", "three", "classes"]')
    result = subprocess.run([sys.executable, "app.py", "--checkpoint", str(small_copy)], cwd=paths.REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "labels.json lists 3" in result.stderr and "Traceback" not in result.stderr
