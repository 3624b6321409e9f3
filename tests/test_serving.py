"""What the site serves, without a server: the checkpoints on offer, their cards, the settings, and
AppProcess, which runs a site in a subprocess."""
import shutil
import sys
import urllib.request

import pytest

from lessons import checkpoint, paths, serving
from lessons.checkpoint import CheckpointError

PHOTO = sorted((paths.SAMPLE_DATA / "glass").glob("*.jpg"))[0]


@pytest.fixture
def shelf(small_checkpoint, tmp_path):
    """A checkpoints folder with a working checkpoint and one whose model.keras is gone."""
    shutil.copytree(small_checkpoint, tmp_path / "mine")
    shutil.copytree(small_checkpoint, tmp_path / "broken")
    (tmp_path / "broken" / checkpoint.MODEL_FILE).unlink()
    (tmp_path / "notes").mkdir()  # not a checkpoint: no meta.json
    return tmp_path


def test_checkpoints_are_offered_by_name_the_default_first(shelf, reference):
    checkpoints = serving.Checkpoints(reference, root=shelf)
    assert checkpoints.names() == ["waste-mobilenetv2", "broken", "mine"]
    assert checkpoints.default == "waste-mobilenetv2"
    # The default named by a relative path is the same checkpoint, under the same name.
    relative = reference.relative_to(paths.REPO)
    assert serving.Checkpoints(relative, root=paths.CHECKPOINTS).default == "waste-mobilenetv2"


def test_a_broken_checkpoint_is_one_line_and_the_others_keep_serving(shelf):
    checkpoints = serving.Checkpoints(shelf / "mine", root=shelf)
    with pytest.raises(CheckpointError) as error:
        checkpoints.get("broken")
    message = str(error.value)
    assert str(shelf / "broken" / checkpoint.MODEL_FILE) in message and "train" in message and "\n" not in message
    probabilities, overlay = checkpoints.get("mine").answer(PHOTO)
    assert len(probabilities) == 3 and overlay.size == (96, 96)
    with pytest.raises(CheckpointError, match="No checkpoint called 'elsewhere'"):
        checkpoints.get("elsewhere")


def test_the_card_reads_the_served_files_record(small_copy):
    _, meta = checkpoint.read(small_copy)
    del meta["test"]  # a checkpoint with only an export's record: no KeyError, the export's numbers
    meta["exports"] = {"keras": {"test_accuracy": 0.5, "test_photos": 12}}
    checkpoint.write_json(small_copy / checkpoint.META_FILE, meta)
    card = serving.Served.load(small_copy).card()
    assert "**Test accuracy** 50.0% on 12 held-out photos" in card
    del meta["exports"]
    checkpoint.write_json(small_copy / checkpoint.META_FILE, meta)
    assert "**Test accuracy** not recorded" in serving.Served.load(small_copy).card()


def test_settings_come_from_options_then_environment(monkeypatch):
    monkeypatch.setenv(serving.CHECKPOINT_ENV, "checkpoints/mine")
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    settings = serving.app_settings()
    assert str(settings.checkpoint) == "checkpoints/mine" and settings.host == "0.0.0.0" and not settings.share
    settings = serving.app_settings(["--checkpoint", "elsewhere", "--port", "9000", "--share"])
    assert str(settings.checkpoint) == "elsewhere" and settings.port == 9000 and settings.share


def test_colab_shares_a_public_link_by_default(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", object())
    assert serving.app_settings().share


CHATTY_LINES = 20_000
# An app.py that writes 1.4 MB before it serves, far more than a pipe holds (64 KiB on Linux): if AppProcess
# did not drain its output, it would block on a full pipe and never answer.
CHATTY_APP = f"""
import http.server, sys
for i in range({CHATTY_LINES}):
    print(f"line {{i}}: " + "x" * 60)
sys.stdout.flush()
port = int(sys.argv[sys.argv.index("--port") + 1])
http.server.HTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler).serve_forever()
"""


def test_a_chatty_app_is_drained_and_its_last_lines_kept(tmp_path):
    (tmp_path / "app.py").write_text(CHATTY_APP)
    with serving.AppProcess(app_dir=tmp_path, timeout=60) as app:
        assert urllib.request.urlopen(app.url, timeout=10).status == 200
    log = app.log()
    assert len(app.output) == app.output.maxlen, "only the last lines are kept"
    assert f"line {CHATTY_LINES - 1}: " in log and "line 0: " not in log
