"""The sandbox's files are its owner's alone: the state holds every database password and each
cluster's superuser password, the backups dir whole databases, the token the API key.

Files are created 0600 (never readable by anyone else, not even for a moment); the state dir is
0700, or 0710 with the server user's group when the postgres engine runs its servers as that user
(as root): it must pass through the dir to its clusters, and may list or read nothing there.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
TRAVERSE_MODE = 0o710  # owner all, the server user's group may pass through


def private_dir(path: Path, *, traverse_gid: int | None = None) -> Path:
    """Create ``path`` (and parents) if needed and make it the owner's alone (see module doc)."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if traverse_gid is None:
        path.chmod(DIR_MODE)
    else:
        os.chown(path, -1, traverse_gid)
        path.chmod(TRAVERSE_MODE)
    return path


def tighten(state_dir: Path, *, keep: tuple[str, ...] = ("clusters",)) -> None:
    """Make what an older sandbox left in ``state_dir`` private (``keep``: entries with modes of
    their own, such as PostgreSQL's data dirs)."""
    for path in state_dir.iterdir():
        if path.name in keep or path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(DIR_MODE)
            for inner in path.rglob("*"):
                if not inner.is_symlink():
                    inner.chmod(DIR_MODE if inner.is_dir() else FILE_MODE)
        else:
            path.chmod(FILE_MODE)


def private_file(path: Path) -> None:
    """Make an existing file (one another program wrote, such as pg_dump) the owner's alone."""
    path.chmod(FILE_MODE)


def open_private(path: Path, flags: int) -> int:
    """``os.open`` of ``path`` for writing, created 0600, and 0600 even if it existed before."""
    fd = os.open(path, flags | os.O_CREAT, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` atomically, mode 0600 from the first byte."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = open_private(tmp, os.O_WRONLY | os.O_TRUNC)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
