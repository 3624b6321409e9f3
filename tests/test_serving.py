"""What the site serves, without a server: the checkpoints on offer, their cards, the settings, and
AppProcess, which runs a site in a subprocess."""
import shutil
import sys
import urllib.request

import pytest

from lessons import checkpoint, metadata, paths, serving
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
    served = serving.Served.load(small_copy)
    assert served.predictor.runtime.name == "keras"  # no export yet: the training run's record
    assert f"**Test accuracy** {meta.test.accuracy:.1%} on {meta.test.photos} held-out photos" in served.card()
    exported = metadata.Export("model.keras", 1, test_accuracy=0.5, agreement_with_keras=1.0, test_photos=12)
    checkpoint.write_meta(small_copy, meta.with_export("keras", exported))  # as `lessons export` records it
    assert "**Test accuracy** 50.0% on 12 held-out photos" in serving.Served.load(small_copy).card()


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


def test_a_visitor_is_told_what_to_fix_and_never_a_temporary_path(shelf, tmp_path):
    import gradio as gr

    checkpoints = serving.Checkpoints(shelf / "mine", root=shelf)
    upload = tmp_path / "gradio" / "3f9c2e" / "photo.jpg"  # where Gradio keeps a visitor's upload
    upload.parent.mkdir(parents=True)
    upload.write_text("not a photo")
    with pytest.raises(gr.Error) as refused:
        checkpoints.classify(str(upload), "mine")
    assert refused.value.message.startswith(f"{serving.UPLOAD_NAME} is not an image")
    assert str(tmp_path) not in refused.value.message
    with pytest.raises(gr.Error, match="Upload a photo"):
        checkpoints.classify(None, "mine")
    with pytest.raises(gr.Error, match=f"That checkpoint cannot be used: .*{checkpoint.MODEL_FILE}"):
        checkpoints.card("broken")
    probabilities, overlay, card = checkpoints.classify(str(PHOTO), "mine")
    assert len(probabilities) == 3 and card == checkpoints.card("mine") == checkpoints.get("mine").card()


def test_the_tabs_draw_from_gradios_float_values():
    import matplotlib.pyplot as plt

    from lessons import architecture, convcost
    from lessons import receptive_field as rf

    costs = convcost.conv_costs(3, 64, 128, 56)
    assert f"costs {costs['ratio']:.3f}" in serving.conv_cost_plot(3.0, 64.0, 128.0, 56.0).get_suptitle()
    assert "5 dimensions → ReLU6" in serving.spiral_plot(5.0, "relu6").get_suptitle()
    table, memory = serving.block_shapes(96.0)
    assert table.to_dict("records") == architecture.shapes_table(serving.shared_backbone(96))
    assert table["input"][0] == f"{96 // 2}×{96 // 2}×32"  # after the stride-2 stem's 32 filters
    assert len(memory.axes[0].patches) == 2 * len(table) and "at 96×96" in memory.axes[0].get_title()
    assert serving.shared_backbone(rf.IMAGE_SIZE) is rf.field_backbone().base  # the week-3 tab's model, not a second
    assert plt.get_fignums() == []  # Gradio draws the figures; pyplot keeps none of them


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
