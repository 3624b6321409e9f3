"""`python -m lessons download`: archives and the course's photo set, all from a local HTTP server.

Every archive is made here from photos of data/sample; nothing reaches the internet.
"""
import csv
import hashlib
import io
import re
import socket
import stat
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lessons import data, download
from lessons.paths import SAMPLE_DATA
from tests.conftest import NOISY_CPU, run_cli

CLASSES = ("battery", "glass")  # 2 classes x 10 photos: data.MIN_PER_CLASS, what `train` (and download) require
PHOTOS = {f"{name}/{path.name}": path.read_bytes()
          for name in CLASSES for path in sorted((SAMPLE_DATA / name).glob("*.jpg"))}


# --- a local HTTP server with Range support ---------------------------------------------------

class Server:
    """Serves ``files`` (path -> bytes) on 127.0.0.1 and records every request's headers."""

    def __init__(self):
        self.files = {}
        self.requests = []  # (path, headers)
        self.cut_short = set()  # paths whose next answer stops halfway, then the connection closes
        self.ranges = True  # honour Range requests (206), or ignore them (200, whole file)
        self.stall = threading.Event()  # `/stall` waits for this before answering
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads, self.httpd.block_on_close = True, False
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.httpd.server_port}/{path}"

    def publish(self, path, content):
        """Serve ``content`` at ``path``; returns (url, sha256)."""
        self.files["/" + path] = content
        return self.url(path), hashlib.sha256(content).hexdigest()


def _handler(server):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            server.requests.append((self.path, dict(self.headers)))
            if self.path == "/stall":
                server.stall.wait(10)
                return
            body = server.files.get(self.path)
            if body is None:
                return self.send_error(404)
            match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
            start = int(match[1]) if match and server.ranges else 0
            if start >= len(body) > 0:
                return self.send_error(416)
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            if self.path in server.cut_short:
                server.cut_short.discard(self.path)
                self.wfile.write(body[start:start + (len(body) - start) // 2])
                return  # HTTP/1.0: the connection closes with half the promised bytes sent
            self.wfile.write(body[start:])

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stall.set()
    s.httpd.shutdown()
    s.httpd.server_close()


def free_port():
    """A port on 127.0.0.1 that nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- archives made in the test ----------------------------------------------------------------

def tar_bytes(members, compression="gz"):
    """A tar archive of (name, bytes) files and ready-made TarInfo members (links, devices)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=f"w:{compression}") as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                name, content = member
                info = tarfile.TarInfo(name)
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for member in members:
            if isinstance(member, zipfile.ZipInfo):
                zf.writestr(member, "battery/gv2_battery_108.jpg")
            else:
                zf.writestr(*member)
    return buffer.getvalue()


def photo_members(top=""):
    return [(top + name, content) for name, content in PHOTOS.items()]


def tar_link(name, kind):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, "battery/gv2_battery_108.jpg"
    return info


def zip_symlink(name):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


# --- helpers for the checks -------------------------------------------------------------------

def one_error_line(result):
    """The single `error: ...` line a failed command prints on stderr (exit code 2)."""
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def assert_photos_unpacked(folder):
    assert {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == PHOTOS


# --- download --url URL --sha256 HEX --to DIR -------------------------------------------------

@pytest.mark.parametrize("kind, make", [
    ("zip with the class folders at its top", lambda: zip_bytes(photo_members())),
    ("tar.gz with one top folder", lambda: tar_bytes(photo_members("waste/"), "gz")),
    ("tar.xz with one top folder", lambda: tar_bytes(photo_members("./photos/"), "xz")),
])
def test_archive_is_unpacked_checked_and_the_train_command_printed(server, tmp_path, kind, make):
    url, sha = server.publish("photos.archive", make())
    target = tmp_path / "photos"
    result = run_cli("download", "--url", url, "--sha256", sha, "--to", target)
    assert_photos_unpacked(target)
    assert f"python -m lessons train --data {target}" in result.stdout
    assert "20 photos in 2 classes" in result.stdout
    assert result.stderr == ""  # no bar when stderr is not a terminal
    assert leftovers(tmp_path) == ["photos"]  # no partial download, no temporary folder


def test_progress_bar_counts_bytes_on_stderr(server, tmp_path, capsys):
    url, sha = server.publish("photos.zip", zip_bytes(photo_members()))
    dataset = download.download_archive(url, sha, tmp_path / "photos", progress=True)
    assert dataset.root == tmp_path / "photos" and dataset.class_names == CLASSES and len(dataset) == 20
    assert re.search(r"downloading photos\.zip: .*/2\d\dk .*B/s", capsys.readouterr().err)  # of about 240 kB


def test_wrong_checksum_is_refused_before_unpacking_and_the_file_deleted(server, tmp_path):
    url, _ = server.publish("photos.zip", zip_bytes(photo_members()))
    line = one_error_line(run_cli("download", "--url", url, "--sha256", "0" * 64, "--to", tmp_path / "photos",
                                  check=False))
    assert "SHA-256" in line and "not the expected" in line and "deleted" in line
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("where", ["a port nobody listens on", "a missing file (HTTP 404)"])
def test_an_unreachable_archive_is_one_line_and_leaves_nothing(server, tmp_path, where):
    url = f"http://127.0.0.1:{free_port()}/photos.zip" if "port" in where else server.url("missing.zip")
    line = one_error_line(run_cli("download", "--url", url, "--sha256", "a" * 64, "--to", tmp_path / "photos",
                                  check=False))
    assert url in line and ("Could not reach" in line or "HTTP 404" in line) and "run the same command" in line
    assert leftovers(tmp_path) == []


def test_a_stalled_server_times_out(server, tmp_path):
    with pytest.raises(download.DownloadError, match=r"did not answer within 0\.5 s"):
        download.download_archive(server.url("stall"), "a" * 64, tmp_path / "photos", timeout=0.5)
    assert leftovers(tmp_path) == []


def test_a_file_that_is_not_an_archive_is_refused(server, tmp_path):
    url, sha = server.publish("photos.zip", b"<html><body>Download page</body></html>")
    line = one_error_line(run_cli("download", "--url", url, "--sha256", sha, "--to", tmp_path / "photos",
                                  check=False))
    assert "is not a zip or tar archive" in line
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("kind, archive", [
    ("../ in a tar", lambda: tar_bytes(photo_members() + [("../escaped.jpg", b"x")])),
    ("absolute path in a tar", lambda: tar_bytes(photo_members() + [("/tmp/escaped.jpg", b"x")])),
    ("symlink in a tar", lambda: tar_bytes(photo_members() + [tar_link("glass/link.jpg", tarfile.SYMTYPE)])),
    ("hard link in a tar", lambda: tar_bytes(photo_members() + [tar_link("glass/link.jpg", tarfile.LNKTYPE)])),
    ("device in a tar", lambda: tar_bytes(photo_members() + [tar_link("glass/dev.jpg", tarfile.CHRTYPE)])),
    ("../ in a zip", lambda: zip_bytes(photo_members("top/") + [("top/../../escaped.jpg", b"x")])),
    ("absolute path in a zip", lambda: zip_bytes(photo_members() + [("/tmp/escaped.jpg", b"x")])),
    ("symlink in a zip", lambda: zip_bytes(photo_members() + [zip_symlink("glass/link.jpg")])),
])
def test_unsafe_members_are_refused_before_anything_is_unpacked(server, tmp_path, kind, archive):
    url, sha = server.publish("photos.archive", archive())
    line = one_error_line(run_cli("download", "--url", url, "--sha256", sha, "--to", tmp_path / "photos",
                                  check=False))
    assert "unsafe member" in line and "nothing was unpacked" in line
    why = {"../": "leaves the folder", "absolute": "absolute path", "symlink": "symbolic link",
           "hard link": "hard link", "device": "device file"}
    assert next(text for key, text in why.items() if key in kind) in line
    assert leftovers(tmp_path) == []


def test_an_archive_with_a_corrupt_photo_is_listed_and_nothing_kept(server, tmp_path):
    broken = [("battery/broken.jpg", b"\xff\xd8\xff\xe0 truncated"), ("glass/notes.jpg", b"not a photo")]
    url, sha = server.publish("photos.tar.gz", tar_bytes(photo_members() + broken))
    target = tmp_path / "photos"
    result = run_cli("download", "--url", url, "--sha256", sha, "--to", target, check=False)
    assert result.returncode == 2 and result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert "2 problem(s)" in result.stderr and f"nothing was kept at {target}" in result.stderr
    assert "battery/broken.jpg" in result.stderr and "glass/notes.jpg" in result.stderr
    assert leftovers(tmp_path) == []


def test_an_existing_non_empty_folder_is_never_overwritten(server, tmp_path):
    url, sha = server.publish("photos.zip", zip_bytes(photo_members()))
    target = tmp_path / "photos"
    target.mkdir()
    (target / "mine.txt").write_text("my own notes")
    line = one_error_line(run_cli("download", "--url", url, "--sha256", sha, "--to", target, check=False))
    assert "not empty" in line
    assert leftovers(target) == ["mine.txt"] and leftovers(tmp_path) == ["photos"]
    assert server.requests == []  # refused before anything was fetched


def test_an_empty_existing_folder_is_filled(server, tmp_path):
    url, sha = server.publish("photos.zip", zip_bytes(photo_members()))
    (tmp_path / "photos").mkdir()
    run_cli("download", "--url", url, "--sha256", sha, "--to", tmp_path / "photos")
    assert_photos_unpacked(tmp_path / "photos")


@pytest.mark.parametrize("ranges", [True, False], ids=["server-resumes", "server-ignores-range"])
def test_an_interrupted_download_resumes_when_repeated(server, tmp_path, ranges):
    archive = tar_bytes(photo_members(), "")  # uncompressed: big enough to cut in two
    url, sha = server.publish("photos.tar", archive)
    server.cut_short.add("/photos.tar")
    server.ranges = ranges
    target = tmp_path / "photos"
    command = ["download", "--url", url, "--sha256", sha, "--to", target]

    line = one_error_line(run_cli(*command, check=False))
    assert "broke off" in line and "run the same command again to resume" in line
    assert not target.exists()
    [partial] = (tmp_path / "photos.partial").iterdir()  # kept for the retry
    assert partial.stat().st_size == len(archive) // 2

    run_cli(*command)
    assert server.requests[1][1].get("Range") == f"bytes={len(archive) // 2}-"
    assert_photos_unpacked(target)
    assert leftovers(tmp_path) == ["photos"]


def test_the_command_needs_url_sha256_and_to():
    line = one_error_line(run_cli("download", "--url", "http://127.0.0.1:1/x.zip", check=False))
    assert "--sha256 HEX --to DIR" in line


# --- download waste ---------------------------------------------------------------------------

@pytest.fixture
def waste_source(server, tmp_path, monkeypatch):
    """The sample's 2 classes served as a source repository, a manifest for them, LESSONS_WASTE_URL set."""
    with open(SAMPLE_DATA / "manifest.csv", newline="") as f:
        source_paths = {row["file"]: row["source_path"] for row in csv.DictReader(f)}
    manifest = tmp_path / "manifest.csv"
    with open(manifest, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(download.MANIFEST_COLUMNS)
        for name, content in PHOTOS.items():
            server.publish(f"mirror/{source_paths[name]}", content)
            writer.writerow([name, source_paths[name], hashlib.sha256(content).hexdigest()])
    monkeypatch.setitem(NOISY_CPU, download.WASTE_URL_ENV, server.url("mirror/"))
    return manifest, source_paths


def test_waste_fetches_every_photo_checks_it_and_saves_it_under_the_course_name(server, waste_source, tmp_path):
    manifest, _ = waste_source
    target = tmp_path / "waste-full"
    result = run_cli("download", "waste", "--to", target, "--manifest", manifest)
    assert_photos_unpacked(target)
    assert sorted(path for path, _ in server.requests) == sorted(server.files)  # one request per photo
    assert f"python -m lessons train --data {target}" in result.stdout
    assert leftovers(tmp_path) == ["manifest.csv", "waste-full"]  # the staging folder became the folder


def test_waste_resumes_without_fetching_the_photos_it_already_has(server, waste_source, tmp_path):
    manifest, _ = waste_source
    target = tmp_path / "waste-full"
    # The last photo of the manifest is missing at first: every other fetch has started by then.
    missing = list(server.files)[-1]
    content = server.files.pop(missing)

    line = one_error_line(run_cli("download", "waste", "--to", target, "--manifest", manifest, check=False))
    assert "HTTP 404" in line and "19 of 20 photos" in line and "run the same command again" in line
    assert not target.exists() and (tmp_path / "waste-full.partial").is_dir()

    server.files[missing] = content
    server.requests.clear()
    run_cli("download", "waste", "--to", target, "--manifest", manifest)
    assert [path for path, _ in server.requests] == [missing]
    assert_photos_unpacked(target)
    assert leftovers(tmp_path) == ["manifest.csv", "waste-full"]


def test_a_waste_photo_with_the_wrong_checksum_stops_everything(server, waste_source, tmp_path):
    manifest, _ = waste_source
    wrong = sorted(server.files)[5]
    server.files[wrong] = PHOTOS["battery/gv2_battery_108.jpg"]  # a real photo, but not this one
    line = one_error_line(run_cli("download", "waste", "--to", tmp_path / "waste-full", "--manifest", manifest,
                                  check=False))
    assert wrong in line and "SHA-256" in line and "Nothing was kept" in line
    assert leftovers(tmp_path) == ["manifest.csv"]


def test_the_shipped_waste_manifest_lists_the_course_photos():
    rows = download.read_manifest(download.WASTE_MANIFEST)
    assert len(rows) == 4396 and len({row["file"] for row in rows}) == 4396
    assert {row["file"].split("/")[0] for row in rows} == {p.name for p in SAMPLE_DATA.iterdir() if p.is_dir()}
    # battery/gv2_battery_10.jpg came from standardized_256/battery/battery_10.jpg (one source is a .jpeg).
    assert all(row["source_path"].rsplit(".", 1)[0] == "standardized_256/" + row["file"].replace("gv2_", "")[:-4]
               for row in rows)
    # The sample's 100 photos are among them, with the same source files.
    with open(SAMPLE_DATA / "manifest.csv", newline="") as f:
        sample = {row["file"]: (row["source_path"], row["source_sha256"]) for row in csv.DictReader(f)}
    shipped = {row["file"]: (row["source_path"], row["sha256"]) for row in rows}
    assert all(shipped[name] == source for name, source in sample.items())
    assert download.WASTE_BASE_URL.endswith("/0769e50d738f809a14e1aa5da0c169e974a16bac/")
    assert data.MIN_PER_CLASS == 10  # what CLASSES above provides per class
