"""Download a backup through its signed public URL, atomically, and check what arrived.

Like ``heroku pg:backups:download``: a plain GET of the signed URL with no Authorization header
(the signature is the credential), streamed through the API client's ``httpx.Client``. A body that
breaks off is resumed with ``Range`` when the server supports it (``Accept-Ranges: bytes``, as
S3 and the sandbox do), guarded by ``If-Range`` so that a changed file starts over. The file is
written next to its destination under a temporary name, checked (size against the server's and the
backup's ``processed_bytes``; ``pg_restore --list`` for a pg_dump custom-format archive), and only
then renamed into place.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from herokupg import __version__
from herokupg.errors import HerokuPgError, ValidationError
from herokupg.redact import redact

# pg_dump's custom format starts with these bytes.
PGDUMP_MAGIC = b"PGDMP"


class DownloadError(HerokuPgError):
    """The backup could not be downloaded, or what arrived is not the backup."""


@dataclass(frozen=True)
class Downloaded:
    path: str
    size: int
    validated: bool
    validation: str  # what was checked, or why the archive itself could not be

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "validated": self.validated,
            "validation": self.validation,
        }


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
    http: httpx.Client, url: str, dest: Path, *, expected_size: int | None, resumes: int = 3
) -> Downloaded:
    """GET ``url`` into ``dest`` (atomically) through ``http``; raise DownloadError on any mismatch.

    ``resumes``: how many times a body that broke off is picked up where it stopped.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            size = _fetch(http, url, out, resumes)
        if expected_size and size != expected_size:
            raise DownloadError(f"Download has {size} bytes but the backup has {expected_size}.")
        validated, validation = _validate(tmp)
        tmp.chmod(0o600)  # a dump holds the whole database
        os.replace(tmp, dest)
    except httpx.HTTPError as exc:
        raise DownloadError(f"Download failed: {type(exc).__name__}: {redact(str(exc))}") from None
    except OSError as exc:  # the disk is full, the directory went away
        raise DownloadError(f"Download failed: {type(exc).__name__}: {redact(str(exc))}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return Downloaded(str(dest), size, validated, validation)


_CONTENT_RANGE = re.compile(r"bytes (\d+)-\d+/(\d+|\*)", re.ASCII)


def _fetch(http: httpx.Client, url: str, out: IO[bytes], resumes: int) -> int:
    """Stream ``url`` into ``out``, resuming with Range after a break; the number of bytes."""
    headers = {"User-Agent": f"herokupg/{__version__}", "Accept-Encoding": "identity"}
    size, total, validator = 0, None, None
    while True:
        asked = headers
        if size and validator:  # resuming: only if the file is still the one begun
            asked = {**headers, "Range": f"bytes={size}-", "If-Range": validator}
        with http.stream("GET", url, headers=asked, follow_redirects=True) as response:
            status = response.status_code
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
            except (httpx.TransportError, httpx.DecodingError) as exc:
                if not (resumable and validator and resumes > 0):
                    if total is not None:
                        raise DownloadError(
                            f"Download truncated: got {size} bytes, the server announced {total} "
                            f"({type(exc).__name__})."
                        ) from None
                    raise
                resumes -= 1
                continue
        if total is not None and size != total:
            raise DownloadError(f"Download truncated: got {size} bytes, the server announced {total}.")
        return size
