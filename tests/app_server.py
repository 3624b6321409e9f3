"""Start the real Gradio app in a subprocess, for the API and browser tests."""
import socket
import subprocess
import sys
import time
import urllib.request

from lessons import paths


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(checkpoint, timeout=240):
    """(process, url) of ``python app.py`` once it answers HTTP; raises with its log if it dies."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "app.py", "--checkpoint", str(checkpoint), "--port", str(port)],
                               cwd=paths.REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}:\n{process.stdout.read()}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return process, url
        except OSError:
            time.sleep(1)
    process.kill()
    raise RuntimeError(f"app.py did not answer within {timeout} s")


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
