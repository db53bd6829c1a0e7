"""Download a backup through its signed public URL, atomically, and check what arrived.

Like ``heroku pg:backups:download``: a plain GET of the signed URL with no Authorization header
(the signature is the credential). The file is written next to its destination under a temporary
name, checked (size against Content-Length and the backup's ``processed_bytes``; ``pg_restore
--list`` for a pg_dump custom-format archive), and only then renamed into place.

A file is identified by the backup it holds, not by its size (two dumps of a quiet database have
the same size): a stamp beside it (``.<name>.herokupg.json``) records the backup's app, name,
transfer id, size and the file's SHA-256, and a file is kept only when all of them still match.
"""

from __future__ import annotations

import hashlib
import http.client
import json
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
    url: str,
    dest: Path,
    *,
    expected_size: int | None,
    verify: bool = True,
    timeout: float = 60,
    identity: BackupIdentity | None = None,
) -> Downloaded:
    """GET ``url`` into ``dest`` (atomically); raise DownloadError on any mismatch.

    With ``identity``, the stamp beside ``dest`` records it once the file is in place.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    # A transport of its own and no auth header: the signed URL is the credential, and it may
    # point at another host.
    transport = StdlibTransport(verify=verify)
    digest = hashlib.sha256()
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
                digest.update(chunk)
                size += len(chunk)
        if length is not None and length.isdigit() and int(length) != size:
            raise DownloadError(f"Download truncated: got {size} bytes, the server announced {length}.")
        if expected_size and size != expected_size:
            raise DownloadError(f"Download has {size} bytes but the backup has {expected_size}.")
        validated, validation = _validate(tmp)
        tmp.chmod(0o600)  # a dump holds the whole database
        os.replace(tmp, dest)
        if identity is not None:
            write_stamp(dest, identity, digest.hexdigest())
    except TransportError as exc:
        raise DownloadError(f"Download failed: {exc.kind}: {redact(str(exc))}") from None
    except (OSError, http.client.HTTPException) as exc:  # the body broke off, or the disk is full
        raise DownloadError(f"Download failed: {type(exc).__name__}: {redact(str(exc))}") from None
    finally:
        transport.close()
        tmp.unlink(missing_ok=True)
    name = identity.backup if identity else None
    return Downloaded(str(dest), size, validated, validation, digest.hexdigest(), name)

