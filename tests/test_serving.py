"""What the site serves, without a server: the checkpoints on offer, their cards, the settings."""
import shutil
import sys

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
    assert served.classifier.runtime.name == "keras"  # no export yet: the training run's record
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
