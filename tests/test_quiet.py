"""TensorFlow's C++ notices stay out of what people read, on any CPU."""
import subprocess
import sys

from lessons import paths, quiet
from tests.conftest import NOISY_CPU

IMPORT_AND_SAY = "import tensorflow, sys; print('own line', file=sys.stderr)"


def stderr_of(code, **env):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=paths.REPO,
                            env={**NOISY_CPU, **env}, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_tensorflow_is_noisy_here_without_the_course():
    """The reason for lessons.quiet, shown on this machine (if it ever stops, so can the module)."""
    assert "oneDNN" in stderr_of(IMPORT_AND_SAY)


def test_silenced_only_python_reaches_stderr():
    code = f"from lessons import quiet; quiet.silence_native_stderr(); {IMPORT_AND_SAY}"
    assert stderr_of(code) == "own line\n"


def test_the_native_lines_can_be_asked_back():
    code = f"from lessons import quiet; quiet.silence_native_stderr(); {IMPORT_AND_SAY}"
    assert "oneDNN" in stderr_of(code, **{quiet.KEEP_ENV: "1"})


def test_a_traceback_still_reaches_stderr():
    code = "from lessons import quiet; quiet.silence_native_stderr(); import tensorflow; 1 / 0"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=paths.REPO,
                            env=NOISY_CPU, timeout=300)
    assert "ZeroDivisionError" in result.stderr and "oneDNN" not in result.stderr


def test_a_notebook_cell_shows_no_native_or_retracing_lines(monkeypatch):
    """A real kernel, as a student's: `import lessons` first, then TensorFlow at work."""
    import nbclient
    import nbformat

    cells = ["import lessons", "import tensorflow as tf, keras",
             # Keras' predict on several new models: TensorFlow reports retracing past the fifth.
             "for size in (32, 40, 48, 56, 64, 72):\n"
             "    model = keras.Sequential([keras.Input((size,)), keras.layers.Dense(2)])\n"
             "    model.predict(tf.zeros((1, size)), verbose=0)",
             "print('own line')"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", NOISY_CPU["TF_ENABLE_ONEDNN_OPTS"])  # the kernel inherits it
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(paths.REPO)}}).execute()
    streams = [(o.name, o.text) for c in notebook.cells for o in c.outputs if o.output_type == "stream"]
    assert streams == [("stdout", "own line\n")], streams
