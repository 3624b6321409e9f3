"""The results table says what meta.json records, whatever the run's settings."""
import dataclasses

from lessons import checkpoint, metadata, paths, results


def test_each_row_follows_the_recorded_settings():
    _, meta = checkpoint.read(paths.REFERENCE_CHECKPOINT)
    meta = dataclasses.replace(
        meta, test_time_flip=False, config={**meta.config, "hidden_units": 128, "augment": False},
        phase1=dataclasses.replace(meta.phase1, cached_features=False, test_accuracy=0.5, lr=3e-3),
        phase2=dataclasses.replace(meta.phase2, fine_tune_from="top", test_accuracy=0.75),
        exports={"keras": meta.exports["keras"], "fp32": metadata.Export("model_fp32.tflite", 1, 0.625, 1.0, 8)})
    assert results.rows(meta) == [
        ("phase 1: frozen base, a hidden layer of 128, label smoothing 0.1", 0.5),
        ("phase 2: the base from top fine-tuned at a 30× lower learning rate, BatchNorm frozen", 0.75),
        ("FP32 TFLite", 0.625)]
    assert "| FP32 TFLite | 62.5 % |" in results.markdown(meta).splitlines()


def test_a_run_without_phase_2_has_no_phase_2_row():
    _, meta = checkpoint.read(paths.REFERENCE_CHECKPOINT)
    meta = dataclasses.replace(meta, phase2=dataclasses.replace(meta.phase2, epochs_run=0), exports={})
    steps = [step.split(":")[0] for step, _ in results.rows(meta)]
    assert steps == ["phase 1", "+ test-time flip (average with the mirror image)"]
