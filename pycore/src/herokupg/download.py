"""Download a backup through its signed public URL, atomically, and check what arrived.

Like ``heroku pg:backups:download``: a plain GET of the signed URL with no Authorization header
(the signature is the credential), streamed through :meth:`HerokuClient.open_url` (the API
client's proxies, certificates, timeouts and redaction). A body that
breaks off is resumed with ``Range`` when the server supports it (``Accept-Ranges: bytes``, as
S3 and the sandbox do), guarded by ``If-Range`` so that a changed file starts over. The file is
written next to its destination under a temporary name, checked (size against the server's and the
backup's ``processed_bytes``; ``pg_restore --list`` for a pg_dump custom-format archive), and only
then renamed into place.

A file is identified by the backup it holds, not by its size (two dumps of a quiet database have
the same size): a stamp beside it (``.<name>.herokupg.json``) records the backup's app, name,
transfer id, size and the file's SHA-256, and a file is kept only when all of them still match.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from herokupg.client import HerokuClient
from herokupg.errors import ConnectionFailedError, HerokuPgError, StreamBrokenError, ValidationError
from herokupg.redact import redact

# pg_dump's custom format starts with these bytes.
PGDUMP_MAGIC = b"PGDMP"
CHUNK = 1024 * 1024
STAMP_SUFFIX = ".herokupg.json"


class DownloadError(HerokuPgError):
    """The backup could not be downloaded, or what arrived is not the backup."""


@dataclass(frozen=True)
class Downloaded:
    path: str
    size: int
    validated: bool
    validation: str  # what was checked, or why the archive itself could not be
    sha256: str | None = None
    backup: str | None = None  # the backup's name

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "validated": self.validated,
            "validation": self.validation,
            "sha256": self.sha256,
            "backup": self.backup,
        }


@dataclass(frozen=True)
class BackupIdentity:
    """What makes a downloaded file that backup's: recorded beside it in a stamp."""

    app: str
    backup: str
    uuid: str | None
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"app": self.app, "backup": self.backup, "uuid": self.uuid, "size": self.size}


def stamp_path(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}{STAMP_SUFFIX}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def already_there(dest: Path, identity: BackupIdentity) -> Downloaded | None:
    """``dest`` when its stamp names this backup and the file still has the recorded bytes."""
    try:
        stamp = json.loads(stamp_path(dest).read_text())
        size = dest.stat().st_size
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or {k: stamp.get(k) for k in identity.as_dict()} != identity.as_dict():
        return None
    if size != identity.size or stamp.get("sha256") != _sha256(dest):
        return None
    why = f"already there: {identity.backup}, same size and SHA-256 as when it was downloaded; kept"
    return Downloaded(str(dest), size, False, why, str(stamp["sha256"]), identity.backup)


def write_stamp(dest: Path, identity: BackupIdentity, sha256: str) -> None:
    """Record which backup ``dest`` holds (atomically, owner-only like the dump)."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".stamp", dir=dest.parent)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump({**identity.as_dict(), "sha256": sha256}, out)
        os.replace(tmp_name, stamp_path(dest))
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def target_path(dest: str, default_name: str) -> Path:
    """``dest`` itself, or ``dest/default_name`` when it is a directory; its directory must exist."""
    path = Path(dest).expanduser()
    if path.is_dir():
        return path / default_name
    if not path.parent.is_dir():
        raise ValidationError(f"Cannot download to {dest}: directory {path.parent} does not exist.")
    return path


def _validate(path: Path) -> tuple[bool, str]:
    with path.open("rb") as handle:
        head = handle.read(len(PGDUMP_MAGIC))
    if head != PGDUMP_MAGIC:
        return False, "not a pg_dump custom-format archive, so only its size was checked"
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        return False, "pg_restore is not installed, so only the size was checked"
    proc = subprocess.run(  # a binary found on PATH, reading our own temp file
        [pg_restore, "--list", str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    if proc.returncode != 0:
        raise DownloadError(f"The download is not a readable archive: {proc.stderr.strip()[-500:]}")
    entries = sum(1 for line in proc.stdout.splitlines() if line and not line.startswith(";"))
    return True, f"pg_restore --list read {entries} table of contents entries"


def download(
    client: HerokuClient,
    url: str,
    dest: Path,
    *,
    expected_size: int | None,
    identity: BackupIdentity | None = None,
    resumes: int = 3,
) -> Downloaded:
    """GET ``url`` into ``dest`` (atomically) through ``client``; raise DownloadError on any mismatch.

    With ``identity``, the stamp beside ``dest`` records it once the file is in place. ``resumes``:
    how many times a body that broke off is picked up where it stopped.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            size = _fetch(client, url, out, resumes)
        if expected_size and size != expected_size:
            raise DownloadError(f"Download has {size} bytes but the backup has {expected_size}.")
        validated, validation = _validate(tmp)
        sha256 = _sha256(tmp)
        tmp.chmod(0o600)  # a dump holds the whole database
        os.replace(tmp, dest)
        if identity is not None:
            write_stamp(dest, identity, sha256)
    except ConnectionFailedError as exc:  # already redacted, the URL without its signature
        raise DownloadError(f"Download failed: {exc.message}") from None
    except OSError as exc:  # the disk is full, the directory went away
        raise DownloadError(f"Download failed: {type(exc).__name__}: {redact(str(exc))}") from None
    finally:
        tmp.unlink(missing_ok=True)
    name = identity.backup if identity else None
    return Downloaded(str(dest), size, validated, validation, sha256, name)


_CONTENT_RANGE = re.compile(r"bytes (\d+)-\d+/(\d+|\*)", re.ASCII)


def _fetch(client: HerokuClient, url: str, out: IO[bytes], resumes: int) -> int:
    """Stream ``url`` into ``out``, resuming with Range after a break; the number of bytes."""
    size, total, validator = 0, None, None
    while True:
        asked: dict[str, str] = {}
        if size and validator:  # resuming: only if the file is still the one begun
            asked = {"Range": f"bytes={size}-", "If-Range": validator}
        with client.open_url(url, what="the download", headers=asked) as response:
            status = response.status
            if status == 206 and size:
                match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
                if match is None or int(match.group(1)) != size:
                    raise DownloadError(f"Download failed: {redact(url)} resumed at another offset.")
            elif status == 200:
                out.seek(0)
                out.truncate()  # a fresh copy: the first request, or the server would not resume
                size, length = 0, response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
            else:
                raise DownloadError(f"Download failed: HTTP {status} from {redact(url)}")
            validator = response.headers.get("ETag") or response.headers.get("Last-Modified")
            resumable = response.headers.get("Accept-Ranges", "").lower() == "bytes" or status == 206
            try:
                for chunk in response.iter_raw():  # as it comes: a break keeps what arrived
                    out.write(chunk)
                    size += len(chunk)
            except StreamBrokenError as exc:
                if not (resumable and validator and resumes > 0):
                    if total is not None:
                        raise DownloadError(
                            f"Download truncated: got {size} bytes, the server announced {total} "
                            f"({exc.message})."
                        ) from None
                    raise
                resumes -= 1
                continue
        if total is not None and size != total:
            raise DownloadError(f"Download truncated: got {size} bytes, the server announced {total}.")
        return size
