"""Fetch a photo folder: any archive of class folders, or the course's own 4,396 photos.

Public API:

    download_archive(url, sha256, to)   a zip or tar(.gz/.bz2/.xz) archive of class folders
    download_waste(to, manifest)        the course's waste photos, file by file, from GitHub
    read_manifest(path)                 the (file, source_path, sha256) rows of a manifest
    next_command(folder)                the ``train`` command to run on what was fetched
    DownloadError, ChecksumError        what goes wrong, as one line for the command line
    WASTE_MANIFEST, WASTE_BASE_URL, WASTE_URL_ENV, TIMEOUT_S, WORKERS

Both end the same way: nothing reaches the destination folder until every byte has been
checked (SHA-256) and every photo decoded by :func:`lessons.data.scan`, the same checks
``train`` makes. What is still in progress lives in ``<folder>.partial`` beside it, so
that repeating an interrupted command resumes instead of starting over.
"""
import concurrent.futures
import csv
import dataclasses
import hashlib
import http.client
import lzma
import os
import re
import shlex
import shutil
import stat
import sys
import tarfile
import threading
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path

from tqdm.auto import tqdm

from lessons import atomic, checkpoint, data, paths

WASTE_MANIFEST = paths.REPO / "data" / "waste-full.csv"
# The repository snapshot the course's photos were taken from (see data/DOWNLOADS.md).
WASTE_BASE_URL = "https://raw.githubusercontent.com/nhahub/NHA-4-197/0769e50d738f809a14e1aa5da0c169e974a16bac/"
WASTE_URL_ENV = "LESSONS_WASTE_URL"  # another base URL: a mirror, or a test's local server
TIMEOUT_S = 30  # per connection attempt and per read: a dead server fails, it never hangs
WORKERS = 8  # parallel connections for the photo-by-photo download
CHUNK = 1 << 16
USER_AGENT = "mobilenetv2-workbook (python -m lessons download)"
MANIFEST_COLUMNS = ["file", "source_path", "sha256"]


class DownloadError(ValueError):
    """A download that could not be completed; the message says what to do next."""


class ChecksumError(DownloadError):
    """Fetched bytes that are not the ones expected: retrying the same source cannot help."""


def download_archive(url, sha256, to, *, timeout=TIMEOUT_S, progress=None):
    """Download an archive of class folders, check it, unpack it into ``to`` and scan it.

    Args:
        url: http(s) address of a zip, tar, tar.gz, tar.bz2 or tar.xz archive whose class
            folders are at its top or inside one single top folder.
        sha256: the archive's SHA-256 (64 hex digits), checked before anything is unpacked.
        to: the folder to create; it must not exist, or be empty.
        timeout: seconds without an answer after which the server counts as dead.
        progress: show a progress bar on stderr (None: when stderr is a terminal).

    Returns:
        The :class:`lessons.data.Dataset` of the new folder.

    Raises:
        DownloadError: one line saying what went wrong; nothing is left behind, except the
        bytes of an interrupted download, which the same command resumes.
    """
    target, expected = Path(to), _checked_sha256(sha256)
    _check_url(url)
    _refuse_existing(target)
    partial = _partial_dir(target) / f"{expected[:16]}.download"
    try:
        _fetch(url, partial, timeout, progress)
    except DownloadError as error:
        raise DownloadError(f"{error} {_resume_advice(partial)}") from None
    try:
        actual = checkpoint.sha256_of(partial)
        if actual != expected:
            raise ChecksumError(f"{url} has SHA-256 {actual}, not the expected {expected}: it is not the archive "
                                "asked for (changed at the source, or a wrong --sha256). Nothing was unpacked and "
                                "the download was deleted; check the URL and the checksum, then try again.")
        with atomic.building(target) as tmp:
            _unpack(partial, tmp, url)
            dataset = _scan(tmp, target, url, progress)
    finally:
        # A checked (or rejected) archive is never needed again: only interruptions keep bytes.
        _discard(partial)
    return dataclasses.replace(dataset, root=target)


def download_waste(to=paths.WASTE_FULL, manifest=WASTE_MANIFEST, *, base_url=None, workers=WORKERS,
                   timeout=TIMEOUT_S, progress=None):
    """Fetch every photo a manifest lists, check each one, and move the folder into place.

    Each photo is fetched from ``base_url`` joined with its ``source_path``, kept only if
    its SHA-256 matches, and saved under the course's name (``file``). Photos already in
    ``<to>.partial`` with the right checksum are not fetched again.

    Args:
        to: the folder to create (default ``data/waste-full``); it must not exist, or be empty.
        manifest: a CSV with the columns file, source_path, sha256 (default: the course's,
            ``data/waste-full.csv``).
        base_url: where the source files are (default: ``$LESSONS_WASTE_URL``, else
            :data:`WASTE_BASE_URL`, the GitHub snapshot the course used).
        workers: parallel connections.
        timeout: seconds without an answer after which the server counts as dead.
        progress: show a progress bar on stderr (None: when stderr is a terminal).

    Returns:
        The :class:`lessons.data.Dataset` of the new folder.

    Raises:
        DownloadError: one line; after a connection failure the photos already checked stay
        in ``<to>.partial`` for the next run, after a checksum mismatch nothing is left.
    """
    target = Path(to)
    entries = read_manifest(manifest)
    base = base_url or os.environ.get(WASTE_URL_ENV) or WASTE_BASE_URL
    _check_url(base)
    _refuse_existing(target)
    staging = _partial_dir(target)
    todo = _photos_to_fetch(entries, staging)
    try:
        _fetch_photos(todo, len(entries), base, staging, workers, timeout, progress)
    except ChecksumError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    except DownloadError as error:
        kept = len(entries) - len(_photos_to_fetch(entries, staging))
        if not kept:
            shutil.rmtree(staging, ignore_errors=True)
            raise DownloadError(f"{error} Check the address and your internet connection, then run the same "
                                "command again.") from None
        raise DownloadError(f"{error} The {kept} of {len(entries)} photos already checked stay in {staging}: run "
                            "the same command again to fetch the rest.") from None
    try:
        _remove_strays(staging, entries)
        dataset = _scan(staging, target, base, progress)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        target.rmdir()  # empty, checked above
    os.replace(staging, target)  # the only step that creates the folder: it appears complete
    return dataclasses.replace(dataset, root=target)


def read_manifest(path):
    """The rows of a download manifest as dicts; raises :class:`DownloadError` if malformed."""
    path = Path(path)
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            columns = reader.fieldnames
    except OSError as error:
        raise DownloadError(f"Cannot read the manifest {path} ({error.strerror or error}).") from None
    if columns != MANIFEST_COLUMNS:
        raise DownloadError(f"{path} must have the columns {','.join(MANIFEST_COLUMNS)}; it has {columns}.")
    bad = [row["file"] for row in rows if _path_problem(row["file"] or "") or len(Path(row["file"]).parts) != 2
           or not re.fullmatch(r"[0-9a-f]{64}", row["sha256"] or "") or _path_problem(row["source_path"] or "")]
    if bad or not rows:
        raise DownloadError(f"{path} has {len(bad)} malformed row(s) (first: {bad[0] if bad else 'no rows at all'}): "
                            "each needs file = <class>/<name>, a relative source_path and a 64-hex-digit sha256.")
    return rows


def next_command(folder):
    """``python -m lessons train --data FOLDER``, with the folder as short as it can be said."""
    folder = Path(folder).absolute()
    shown = folder.relative_to(Path.cwd()) if folder.is_relative_to(Path.cwd()) else folder
    return shlex.join(["python", "-m", "lessons", "train", "--data", str(shown)])


# --- checks before anything is fetched -------------------------------------------------------

def _checked_sha256(text):
    digest = (text or "").strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise DownloadError(f"--sha256 must be the archive's SHA-256, 64 hex digits (got {text!r}); its publisher "
                            "lists it, or `sha256sum FILE` computes it from a copy you trust.")
    return digest


def _check_url(url):
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DownloadError(f"{url!r} is not an http:// or https:// address.")


def _refuse_existing(target):
    # Nothing is ever overwritten: a folder a student filled by hand may not be replaceable.
    if target.exists() and not target.is_dir():
        raise DownloadError(f"{target} exists and is not a folder; choose another --to.")
    if target.is_dir() and any(target.iterdir()):
        raise DownloadError(f"{target} already exists and is not empty; nothing was downloaded. Choose another "
                            "--to, or delete that folder first to download it again.")


def _partial_dir(target):
    # Beside the destination, so the final rename stays on one file system (and is atomic).
    return target.with_name(f"{target.name}.partial")


# --- one file over HTTP, resumable -----------------------------------------------------------

def _open(url, timeout, headers=None):
    """The server's response, or None when it answers 416 to a Range request."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 416 and headers and "Range" in headers:
            return None  # the bytes we have already reach the end: the checksum decides
        raise DownloadError(f"{url} answered HTTP {error.code} ({error.reason}).") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            raise DownloadError(f"{url} did not answer within {timeout:g} s.") from None
        raise DownloadError(f"Could not reach {url} ({reason}).") from None


def _fetch(url, partial, timeout, progress):
    """Download ``url`` into ``partial``, continuing what an interrupted run left there."""
    have = partial.stat().st_size if partial.is_file() else 0
    response = _open(url, timeout, {"Range": f"bytes={have}-"} if have else None)
    if response is None:
        return
    with response:
        start = _range_start(response)
        if have and start not in (None, have):
            # A 206 that does not continue where we stopped: start over rather than guess.
            response.close()
            partial.unlink()
            return _fetch(url, partial, timeout, progress)
        resumed = have and start == have  # else the server ignored Range (200): clean restart
        length = response.headers.get("Content-Length", "")
        total = (have if resumed else 0) + int(length) if length.isdigit() else None
        partial.parent.mkdir(parents=True, exist_ok=True)
        written = have if resumed else 0
        try:
            with open(partial, "ab" if resumed else "wb") as out, \
                    tqdm(total=total, initial=written, unit="B", unit_scale=True, unit_divisor=1024,
                         desc=f"downloading {Path(urllib.parse.urlsplit(url).path).name}", file=sys.stderr,
                         disable=_no_bar(progress), leave=False) as bar:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    written += len(chunk)
                    bar.update(len(chunk))
        except (OSError, http.client.HTTPException) as error:
            raise _broke_off(url, written, total, error) from None
    if total is not None and written < total:
        raise _broke_off(url, written, total, "the connection closed early")


def _range_start(response):
    """Where a 206 response's bytes start (None for any other answer)."""
    if getattr(response, "status", None) != 206:
        return None
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return int(match[1]) if match else -1


def _broke_off(url, written, total, reason):
    if isinstance(reason, TimeoutError):
        reason = "no data for too long"
    of = f" of {total:,}" if total else ""
    return DownloadError(f"The download of {url} broke off after {written:,}{of} bytes ({reason}).")


def _resume_advice(partial):
    if partial.is_file() and partial.stat().st_size:
        return (f"The {partial.stat().st_size:,} bytes fetched so far stay in {partial}: run the same command "
                "again to resume.")
    _discard(partial)
    return "Check the URL and your internet connection, then run the same command again."


def _discard(partial):
    partial.unlink(missing_ok=True)
    try:
        partial.parent.rmdir()  # only when empty: never another download's bytes
    except OSError:
        pass


def _no_bar(progress):
    # tqdm's None means "only on a terminal": logs and captured output get no carriage returns.
    return None if progress is None else not progress


# --- archives --------------------------------------------------------------------------------

def _unpack(archive, folder, source):
    """Unpack a checked archive into the empty ``folder``; refuse it whole if any member is unsafe."""
    try:
        if tarfile.is_tarfile(archive):
            with tarfile.open(archive, "r:*") as tar:
                _extract([(m.name, _tar_kind(m), lambda m=m: tar.extractfile(m)) for m in tar.getmembers()],
                         folder, source)
        elif zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                _extract([(i.filename, _zip_kind(i), lambda i=i: zf.open(i)) for i in zf.infolist()],
                         folder, source)
        else:
            raise DownloadError(f"{source} is not a zip or tar archive (its checksum matched, so it is what was "
                                "published); point --url at the archive itself, not at a web page about it.")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, lzma.LZMAError, OSError) as error:
        raise DownloadError(f"{source} could not be unpacked ({error}); nothing was kept.") from None


def _tar_kind(member):
    if member.isfile():
        return "file"
    if member.isdir():
        return "folder"
    return ("a symbolic link" if member.issym() else "a hard link" if member.islnk()
            else "a device file" if member.ischr() or member.isblk() else "a FIFO" if member.isfifo()
            else f"a special member (type {member.type!r})")


def _zip_kind(info):
    # Unix zips keep the file type in the high 16 bits; 0 there (a Windows zip) is a plain file.
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        return "a symbolic link"
    if info.is_dir():
        return "folder"
    if kind in (0, stat.S_IFREG):
        return "file"
    return "a device file" if kind in (stat.S_IFCHR, stat.S_IFBLK) else "a special member"


def _path_problem(name):
    """Why an archive path could write outside the destination, or None."""
    if not name or "\0" in name:
        return "an empty name"
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return "an absolute path"
    if ".." in re.split(r"[\\/]+", name):
        return "a path that leaves the folder (..)"
    return None


def _extract(entries, folder, source):
    """Write (name, kind, open) entries under ``folder``, after checking every one of them."""
    unsafe = [f"{name!r} is {kind}" for name, kind, _ in entries if kind not in ("file", "folder")]
    unsafe += [f"{name!r} has {why}" for name, _, _ in entries if (why := _path_problem(name))]
    if unsafe:
        more = f" and {len(unsafe) - 3} more" if len(unsafe) > 3 else ""
        raise DownloadError(f"{source} holds {len(unsafe)} unsafe member(s), so nothing was unpacked: "
                            f"{'; '.join(unsafe[:3])}{more}. A photo archive needs only folders and plain files "
                            "inside it; ask its publisher for one without links or outside paths.")
    # Hidden files and macOS's __MACOSX resource forks are not photos (scan would skip or reject them).
    kept = [(parts, kind, opener) for name, kind, opener in entries
            if (parts := [p for p in re.split(r"[\\/]+", name) if p not in ("", ".")])
            and parts[0] != "__MACOSX" and not any(p.startswith(".") for p in parts)]
    # Class folders may sit at the top of the archive or inside one single top folder.
    tops = {parts[0] for parts, _, _ in kept}
    strip = 1 if len(tops) == 1 and all(len(parts) > 1 or kind == "folder" for parts, kind, _ in kept) else 0
    for parts, kind, opener in kept:
        dest = folder.joinpath(*parts[strip:])
        if kind == "folder":
            dest.mkdir(parents=True, exist_ok=True)
        elif len(parts) > strip:
            dest.parent.mkdir(parents=True, exist_ok=True)
            with opener() as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)


def _scan(folder, target, source, progress):
    """``data.scan`` of the unpacked photos, its problems reported under the final folder's name."""
    try:
        return data.scan(folder, progress=sys.stderr.isatty() if progress is None else progress)
    except data.DataError as error:
        lines = str(error).replace(str(folder), str(target)).splitlines()
        listed = [line for line in lines if line.startswith("  - ")]
        if not listed:
            raise DownloadError(f"{source} does not give a photo folder `train` can use, so nothing was kept: "
                                f"{lines[0]}") from None
        raise DownloadError(f"The photos from {source} have {len(listed)} problem(s) `train` would refuse, so "
                            f"nothing was kept at {target}:\n" + "\n".join(listed)) from None


# --- the course's photos, one file each ------------------------------------------------------

def _photos_to_fetch(entries, staging):
    """The manifest rows whose photo is not yet in ``staging`` with the right checksum."""
    return [row for row in entries
            if not ((staging / row["file"]).is_file() and checkpoint.sha256_of(staging / row["file"]) == row["sha256"])]


def _fetch_photos(todo, total, base, staging, workers, timeout, progress):
    stop = threading.Event()  # set by the first failure: the others stop starting new fetches

    def fetch(row):
        if stop.is_set():
            return
        url = urllib.parse.urljoin(base if base.endswith("/") else base + "/", urllib.parse.quote(row["source_path"]))
        content = _get(url, timeout)
        actual = hashlib.sha256(content).hexdigest()
        if actual != row["sha256"]:
            raise ChecksumError(f"{url} is not the photo {row['file']} of the manifest (SHA-256 {actual[:16]}..., "
                                f"expected {row['sha256'][:16]}...): the source changed or the base URL is wrong "
                                f"(${WASTE_URL_ENV}). Nothing was kept; tell the course's maintainers.")
        dest = staging / row["file"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(dest, content)  # through a rename: a killed run leaves no half photo

    staging.mkdir(parents=True, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool, \
            tqdm(total=total, initial=total - len(todo), unit="photo", desc="downloading photos", file=sys.stderr,
                 disable=_no_bar(progress), leave=False) as bar:
        futures = [pool.submit(fetch, row) for row in todo]
        try:
            for future in concurrent.futures.as_completed(futures):
                future.result()
                bar.update()
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            raise


def _get(url, timeout):
    """The whole body of a small file."""
    response = _open(url, timeout)
    try:
        with response:
            return response.read()
    except (OSError, http.client.HTTPException) as error:
        reason = "no data for too long" if isinstance(error, TimeoutError) else error
        raise DownloadError(f"The download of {url} broke off ({reason}).") from None


def _remove_strays(staging, entries):
    # Left by an older manifest or a killed write: DIR must hold exactly the listed photos.
    wanted = {staging / row["file"] for row in entries}
    for path in sorted(staging.rglob("*"), reverse=True):
        if path.is_file() and path not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
