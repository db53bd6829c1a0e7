"""Finding PostgreSQL's programs and running them, as the `postgres` user when we are root.

The server refuses to run as root, so as root every program that touches a data directory
(initdb, pg_ctl, pg_basebackup) runs through ``runuser -u postgres --`` and the cluster
directories belong to that user. Client programs (psql, pg_dump, pg_restore) run as we are.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from herokupg_sandbox.redact import redact

SERVER_USER = "postgres"
BIN_GLOB = "/usr/lib/postgresql/*/bin"
REQUIRED = ("initdb", "pg_ctl", "postgres", "pg_basebackup", "psql", "pg_dump", "pg_restore")


class CommandError(Exception):
    """A program failed; ``lines`` is its redacted stderr (or stdout when stderr was empty)."""

    def __init__(self, program: str, returncode: int, lines: list[str]) -> None:
        detail = lines[-1] if lines else f"exit status {returncode}"
        super().__init__(f"{program} failed: {detail}")
        self.program, self.returncode, self.lines = program, returncode, lines


def is_root() -> bool:
    return os.geteuid() == 0


def installed() -> dict[str, Path]:
    """Major version -> bin directory holding every program we need."""
    found: dict[str, Path] = {}
    for directory in Path("/").glob(BIN_GLOB.lstrip("/")):
        major = directory.parent.name
        if re.fullmatch(r"\d+", major) and all((directory / p).is_file() for p in REQUIRED):
            found[major] = directory
    return dict(sorted(found.items(), key=lambda item: int(item[0])))


def server_user() -> tuple[int, int] | None:
    """(uid, gid) of the `postgres` user when we are root (None otherwise)."""
    if not is_root():
        return None
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def unreachable(path: Path) -> Path | None:
    """The first existing ancestor of ``path`` the server user cannot enter, if any.

    As root we hand the cluster directories to `postgres`, which also needs search permission
    on every directory above them (``/root`` and pytest's tmp dirs are 0700).
    """
    ids = server_user()
    if ids is None:
        return None
    uid, gid = ids
    current = path.resolve()
    for directory in [current, *current.parents]:
        if not directory.exists():
            continue
        st = directory.stat()
        bit = 0o100 if st.st_uid == uid else 0o010 if st.st_gid == gid else 0o001
        if not st.st_mode & bit:
            return directory
    return None


def chown_tree(path: Path) -> None:
    """Give ``path`` (recursively) to the server user when we are root."""
    ids = server_user()
    if ids is None:
        return
    uid, gid = ids
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


def _lines(text: str) -> list[str]:
    return [redact(line) for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class Binaries:
    major: str
    bindir: Path

    def program(self, name: str) -> str:
        return str(self.bindir / name)

    def run(
        self,
        name: str,
        args: Sequence[str],
        *,
        as_server: bool = False,
        env: Mapping[str, str] | None = None,
        stdin: str | None = None,
        cwd: Path | None = None,
        timeout: float = 120.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL program; raise CommandError with its redacted output when it fails."""
        return run([self.program(name), *args], as_server=as_server, env=env, stdin=stdin, cwd=cwd,
                   timeout=timeout)


def run(
    argv: Sequence[str],
    *,
    as_server: bool = False,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
    timeout: float = 120.0,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (as the server user if asked and we are root); CommandError on failure."""
    name = Path(argv[0]).name
    full = ["runuser", "-u", SERVER_USER, "--", *argv] if as_server and is_root() else list(argv)
    full_env = {**os.environ, "LC_ALL": "C.UTF-8", **(env or {})}
    try:
        done = subprocess.run(
            full, input=stdin, capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CommandError(name, -1, [f"{name} did not finish within {timeout:.0f} s"]) from None
    if done.returncode != 0:
        raise CommandError(name, done.returncode, _lines(done.stderr) or _lines(done.stdout))
    return done


def find(major: str | None = None) -> Binaries | None:
    """The binaries of ``major`` (or of the newest installed version)."""
    versions = installed()
    if major is not None:
        return Binaries(major, versions[major]) if major in versions else None
    if not versions:
        return None
    newest = list(versions)[-1]
    return Binaries(newest, versions[newest])


def available(state_dir: Path | None = None) -> tuple[bool, str]:
    """Can the postgres engine run here? (ok, reason) for the sandbox to report its choice."""
    versions = installed()
    if not versions:
        return False, f"no PostgreSQL server binaries found in {BIN_GLOB}"
    if is_root():
        if server_user() is None:
            return False, f"running as root but there is no {SERVER_USER!r} user to run the server"
        if shutil.which("runuser") is None:
            return False, "running as root but runuser is missing"
    if state_dir is not None:
        blocked = unreachable(state_dir)
        if blocked is not None:
            return False, (
                f"the {SERVER_USER} user cannot enter {blocked}: choose a state dir it can reach "
                f"(e.g. under /var/tmp) or run chmod o+x {blocked}"
            )
    where = ", ".join(f"{major} ({path})" for major, path in versions.items())
    who = f" as the {SERVER_USER} user" if is_root() else ""
    return True, f"PostgreSQL {where}; servers run{who}"
