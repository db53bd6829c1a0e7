"""Turns on this controller: one operation at a time per key (a database), across processes.

Heroku offers no lock, and Ansible runs the same task for many hosts at once (forks, each
delegating to localhost): "look whether a fresh backup exists, else capture one" must not
interleave between them. An exclusive ``flock`` on a file per key, in a directory only this user
can use, makes them take turns; the lock goes with the process (a killed run holds nothing).
Runs on other machines are not covered: operations settle such races themselves afterwards.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from herokupg.errors import OperationTimeoutError, ValidationError
from herokupg.ops.base import Context


def lock_dir() -> Path:
    """``$TMPDIR/herokupg-<uid>``, created 0700; refused if someone else owns it or it is a link."""
    path = Path(tempfile.gettempdir()) / f"herokupg-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise ValidationError(
            f"{path} must be a directory of your own that nobody else can use (mode 0700): remove it "
            "and run again."
        )
    return path


@contextlib.contextmanager
def turn(ctx: Context, key: str, what: str) -> Iterator[None]:
    """Hold the lock of ``key`` (waiting up to the wait timeout for it); nothing in check mode."""
    if ctx.check_mode:
        yield
        return
    name = hashlib.sha256(key.encode()).hexdigest()[:32] + ".lock"
    fd = os.open(lock_dir() / name, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = ctx.monotonic() + ctx.wait.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if ctx.monotonic() > deadline:
                    raise OperationTimeoutError(
                        f"Timed out after {ctx.wait.timeout:g}s waiting for another run on this machine "
                        f"to finish with {what}. Run again.",
                        resource=what,
                        last_status="locked by another run",
                    ) from None
                ctx.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock
