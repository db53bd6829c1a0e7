"""One PostgreSQL cluster of the sandbox: its directories, configuration and lifecycle.

Layout under ``<state_dir>/clusters/<addon-id>/``::

    data/             PGDATA; ``sandbox.conf`` (included by postgresql.conf) is rewritten by the
                      engine before every start and on pg:settings changes, so a fork or follower
                      never inherits its source's settings, port or paths
    postgresql.log    the native server log (stderr with LOG_LINE_PREFIX)
    wal-archive/      every WAL segment (archive_mode=always): with ``base/`` it allows rollbacks
    base.tar          a base backup taken when the cluster was created (one file: creating
                      PGDATA's thousand small files costs more than the tar)
    pgpass            a follower's credentials for its leader (kept out of the config files)

Every engine connection goes over TCP to 127.0.0.1 as the admin superuser, with logging of its
own statements switched off (they may carry passwords) and application_name ENGINE_APP.
"""

from __future__ import annotations

import shlex
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from herokupg_sandbox.pgengine.binaries import Binaries, CommandError, chown_tree, run
from herokupg_sandbox.pgengine.logformat import ENGINE_APP, LOG_LINE_PREFIX
from herokupg_sandbox.redact import redact

ADMIN_USER = "sandbox_admin"
HOST = "127.0.0.1"
FIELD_SEP = "\x1f"
ENGINE_OPTIONS = (
    "-c log_statement=none -c log_min_duration_statement=-1 -c log_min_error_statement=panic "
    "-c auto_explain.log_min_duration=-1"
)
# Small and quick: fsync=off only loses data on an OS crash; replication does not depend on it.
SERVER_SETTINGS: dict[str, str | int] = {
    "listen_addresses": HOST,
    "unix_socket_directories": "",
    "max_connections": 100,  # as initdb wrote it into the cold base backup (recovery checks it)
    "shared_buffers": "16MB",
    "fsync": "off",
    "wal_level": "replica",
    "max_wal_senders": 10,
    "wal_keep_size": "64MB",
    "hot_standby": "on",
    "archive_mode": "always",
    "logging_collector": "off",
    "log_destination": "stderr",
    "log_line_prefix": LOG_LINE_PREFIX,
    "log_timezone": "UTC",
    "timezone": "UTC",
    "lc_messages": "C",
}
START_TIMEOUT = 60


def conf_value(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass
class Cluster:
    root: Path
    bins: Binaries
    port: int
    admin_password: str

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "postgresql.log"

    @property
    def archive(self) -> Path:
        return self.root / "wal-archive"

    @property
    def base(self) -> Path:
        return self.root / "base.tar"

    @property
    def passfile(self) -> Path:
        return self.root / "pgpass"

    # -- creation ------------------------------------------------------------------------
    def make_dirs(self) -> None:
        self.archive.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        chown_tree(self.root)

    def initdb(self) -> None:
        pwfile = self.root / "initdb.pw"
        pwfile.write_text(self.admin_password + "\n")
        pwfile.chmod(0o600)
        chown_tree(pwfile)
        try:
            self.bins.run(
                "initdb",
                ["-D", str(self.data), "-U", ADMIN_USER, f"--pwfile={pwfile}", "--auth=scram-sha-256",
                 "--encoding=UTF8", "--locale=C.UTF-8", "--wal-segsize=1", "--no-sync", "--no-instructions"],
                as_server=True, cwd=self.root,
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def basebackup(self, source: Cluster) -> None:
        """A physical copy of ``source`` (primary or standby) as it is now."""
        self._basebackup(source, ["-D", str(self.data), "-X", "stream"])

    def backup_self(self) -> None:
        """This running cluster's base backup, straight into base.tar (WAL included)."""
        work = self.root / "base-backup"
        self._basebackup(self, ["-D", str(work), "-F", "t", "-X", "fetch"])
        (work / "base.tar").replace(self.base)
        for leftover in work.iterdir():
            leftover.unlink()
        work.rmdir()

    def _basebackup(self, source: Cluster, args: list[str]) -> None:
        self.bins.run(
            "pg_basebackup",
            [*args, "-c", "fast", "--no-sync", "-w",
             "-h", HOST, "-p", str(source.port), "-U", ADMIN_USER],
            as_server=True, cwd=self.root, env=source.admin_env(), timeout=300,
        )

    def copy_data_from(self, base: Path) -> None:
        """Unpack a base backup (another cluster's base.tar) as this cluster's data dir."""
        self.data.mkdir(mode=0o700)
        chown_tree(self.data)
        run(["tar", "-C", str(self.data), "-xf", str(base)], as_server=True, cwd=self.root)

    def save_base(self) -> None:
        """Keep the current (stopped or just received) data dir as this cluster's base backup."""
        run(["tar", "-C", str(self.data), "--exclude=./postmaster.pid", "-cf", str(self.base), "."],
            as_server=True, cwd=self.root)

    def write_hba(self) -> None:
        (self.data / "pg_hba.conf").write_text(
            "# herokupg sandbox: password logins over TCP on 127.0.0.1 only\n"
            f"host all all {HOST}/32 scram-sha-256\n"
            f"host replication all {HOST}/32 scram-sha-256\n"
        )
        conf = self.data / "postgresql.conf"
        if "include_if_exists = 'sandbox.conf'" not in conf.read_text():
            with conf.open("a") as handle:
                handle.write("\ninclude_if_exists = 'sandbox.conf'\n")
        chown_tree(self.data)

    def configure(
        self, gucs: Mapping[str, object], *, leader_port: int | None = None,
        recovery: Mapping[str, object] | None = None,
    ) -> None:
        """Write sandbox.conf: fixed server settings, this cluster's paths and port, ``gucs``."""
        archive = shlex.quote(str(self.archive))
        values: dict[str, object] = {
            **SERVER_SETTINGS,
            "port": self.port,
            "archive_command": f"test ! -f {archive}/%f && cp %p {archive}/%f",
            **gucs,
        }
        if leader_port is not None:  # a follower's admin role is its leader's (a physical copy)
            self.passfile.write_text(f"{HOST}:{leader_port}:*:{ADMIN_USER}:{self.admin_password}\n")
            self.passfile.chmod(0o600)
            values["primary_conninfo"] = (
                f"host={HOST} port={leader_port} user={ADMIN_USER} passfile={self.passfile} "
                f"application_name={self.root.name}"
            )
            (self.data / "standby.signal").touch()
        else:
            self.passfile.unlink(missing_ok=True)
        values.update(recovery or {})
        lines = [f"{key} = {conf_value(value)}" for key, value in values.items()]
        text = "# written by the herokupg sandbox\n" + "\n".join(lines) + "\n"
        (self.data / "sandbox.conf").write_text(text)
        for path in (self.data / "sandbox.conf", self.data / "standby.signal", self.passfile):
            if path.exists():
                chown_tree(path)

    # -- running -------------------------------------------------------------------------
    def is_running(self) -> bool:
        try:
            self.bins.run("pg_ctl", ["status", "-D", str(self.data)], as_server=True, cwd=self.root)
        except CommandError:
            return False
        return True

    def start(self) -> None:
        self.bins.run(
            "pg_ctl",
            ["start", "-w", "-t", str(START_TIMEOUT), "-s", "-D", str(self.data), "-l", str(self.log)],
            as_server=True, cwd=self.root, timeout=START_TIMEOUT + 10,
        )

    def stop(self) -> None:
        """Stop (fast mode) if running; returns once every server process has exited."""
        if not (self.data / "postmaster.pid").exists():
            return
        try:
            self.bins.run(
                "pg_ctl", ["stop", "-w", "-t", str(START_TIMEOUT), "-s", "-m", "fast", "-D", str(self.data)],
                as_server=True, cwd=self.root, timeout=START_TIMEOUT + 10,
            )
        except CommandError:
            if self.is_running():
                raise  # a stale postmaster.pid is fine; a server that won't stop is not

    def log_tail(self, count: int = 15) -> list[str]:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return []
        return [redact(line) for line in lines[-count:]]

    # -- SQL -----------------------------------------------------------------------------
    def admin_env(self) -> dict[str, str]:
        return {
            "PGPASSWORD": self.admin_password,
            "PGAPPNAME": ENGINE_APP,
            "PGOPTIONS": ENGINE_OPTIONS,
            "PGCONNECT_TIMEOUT": "10",
        }

    def conn_args(self, database: str = "postgres") -> list[str]:
        return ["-h", HOST, "-p", str(self.port), "-U", ADMIN_USER, "-d", database]

    def sql(self, query: str, database: str = "postgres", timeout: float = 60.0) -> list[list[str]]:
        """Run ``query`` (sent on stdin, so secrets stay out of argv) as the admin; rows of text."""
        done = self.bins.run(
            "psql",
            ["-X", "-q", "-A", "-t", "-F", FIELD_SEP, "-v", "ON_ERROR_STOP=1", "-w",
             *self.conn_args(database), "-f", "-"],
            env=self.admin_env(), stdin=query, timeout=timeout,
        )
        return [line.split(FIELD_SEP) for line in done.stdout.splitlines() if line]

    def value(self, query: str, database: str = "postgres") -> str:
        rows = self.sql(query, database)
        return rows[0][0] if rows and rows[0] else ""

    def in_recovery(self) -> bool:
        return self.value("SELECT pg_is_in_recovery()") == "t"

    def wait_until(self, query: str, expected: str, timeout: float) -> None:
        """Poll ``query`` until it returns ``expected`` (connection errors count as not yet)."""
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            try:
                last = self.value(query)
            except CommandError as exc:
                last = str(exc)
                if not (self.data / "postmaster.pid").exists():
                    raise  # the server went away (e.g. a failed recovery): no point waiting
            if last == expected:
                return
            if time.monotonic() > deadline:
                raise CommandError("psql", -1, [f"timed out waiting for {query!r} (last: {last})"])
            time.sleep(0.1)
