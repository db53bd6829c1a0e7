"""Download a backup through its signed public URL, atomically, and check what arrived.

Like ``heroku pg:backups:download``: a plain GET of the signed URL with no Authorization header
(the signature is the credential). The file is written next to its destination under a temporary
name, checked (size against Content-Length and the backup's ``processed_bytes``; ``pg_restore
--list`` for a pg_dump custom-format archive), and only then renamed into place.
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from herokupg import __version__
from herokupg.errors import HerokuPgError, ValidationError
from herokupg.redact import redact
from herokupg.stdlib_transport import StdlibTransport
from herokupg.wire import Headers, Request, TransportError

# pg_dump's custom format starts with these bytes.
PGDUMP_MAGIC = b"PGDMP"
CHUNK = 1024 * 1024


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
    url: str, dest: Path, *, expected_size: int | None, verify: bool = True, timeout: float = 60
) -> Downloaded:
    """GET ``url`` into ``dest`` (atomically); raise DownloadError on any mismatch."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    # A transport of its own and no auth header: the signed URL is the credential, and it may
    # point at another host.
    transport = StdlibTransport(verify=verify)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            headers = Headers({"User-Agent": f"herokupg/{__version__}", "Accept-Encoding": "identity"})
            response = transport.open_following(Request("GET", url, headers), timeout, timeout)
            if response.status != 200:
                raise DownloadError(f"Download failed: HTTP {response.status} from {redact(url)}")
            length = response.getheader("Content-Length")
            while chunk := response.read(CHUNK):
                out.write(chunk)
                size += len(chunk)
        if length is not None and length.isdigit() and int(length) != size:
            raise DownloadError(f"Download truncated: got {size} bytes, the server announced {length}.")
        if expected_size and size != expected_size:
            raise DownloadError(f"Download has {size} bytes but the backup has {expected_size}.")
        validated, validation = _validate(tmp)
        tmp.chmod(0o600)  # a dump holds the whole database
        os.replace(tmp, dest)
    except TransportError as exc:
        raise DownloadError(f"Download failed: {exc.kind}: {redact(str(exc))}") from None
    except (OSError, http.client.HTTPException) as exc:  # the body broke off, or the disk is full
        raise DownloadError(f"Download failed: {type(exc).__name__}: {redact(str(exc))}") from None
    finally:
        transport.close()
        tmp.unlink(missing_ok=True)
    return Downloaded(str(dest), size, validated, validation)

