"""PostgresEngine: every `heroku-postgresql` add-on is a real PostgreSQL cluster.

Credentials: the bootstrap superuser is ADMIN_USER (the sandbox's own, like Heroku's internal
superuser); the add-on's user is an ordinary role owning the add-on's database. A follower is a
physical copy, so it has its leader's credentials (as on Heroku: the engine overwrites the
follower record's user/password/database); a fork or rollback renames the copied role and
database to the ones the provider generated for it.

Lag ("commits behind"): the number of transaction ids the leader has completed that the
follower has not replayed yet: ``xmax(leader snapshot) - xmax(follower snapshot)``. Every
committed (or aborted) write transaction consumes one id; read-only ones consume none, so this
is 0 exactly when the follower has replayed every write the leader finished.

Rollback: each cluster keeps a base backup from its creation and archives every WAL segment,
so ``fork(..., to=T)`` restores that base and replays the archive to ``recovery_target_time``.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from herokupg_sandbox.engine import DbStats, EngineError, LogLine, TransferResult
from herokupg_sandbox.pgengine.binaries import Binaries, CommandError, chown_tree, find, unreachable
from herokupg_sandbox.pgengine.cluster import (
    ADMIN_USER,
    Cluster,
    free_port,
    port_is_free,
    quote_ident,
    quote_literal,
)
from herokupg_sandbox.pgengine.logformat import LogReader
from herokupg_sandbox.pgsettings import DEFAULTS
from herokupg_sandbox.redact import register_secret
from herokupg_sandbox.state import Addon, Database, Transfer

log = logging.getLogger(__name__)

NOT_SERVER_SETTINGS = frozenset({"data_connector_details_logs"})  # Heroku-side switches, no GUC
ARCHIVE_TIMEOUT = 30.0
RECOVERY_TIMEOUT = 120.0
_STATS = """
SELECT pg_database_size(current_database()),
  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%'),
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'
    AND application_name <> 'herokupg-sandbox' AND usename <> 'sandbox_admin'),  -- the engine's own
  (SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'),
  pg_snapshot_xmax(pg_current_snapshot()),
  split_part(current_setting('server_version'), ' ', 1)
"""


def _db(addon: Addon) -> Database:
    if addon.db is None:
        raise EngineError(f"{addon.name} is not a Heroku Postgres database")
    return addon.db


def _error(what: str, exc: CommandError, extra: list[str] | None = None) -> EngineError:
    return EngineError(f"{what}: {exc}", [*exc.lines, *(extra or [])] or [str(exc)])


def server_gucs(settings: Mapping[str, Any], bins: Binaries) -> dict[str, object]:
    """pg:settings values (over Heroku's defaults) as server settings."""
    gucs: dict[str, object] = {}
    if (bins.bindir.parent / "lib" / "pg_stat_statements.so").exists():
        # preloaded as on Heroku Postgres: CREATE EXTENSION pg_stat_statements then works
        gucs["shared_preload_libraries"] = "pg_stat_statements"
    for key, value in {**DEFAULTS, **settings}.items():
        if key in NOT_SERVER_SETTINGS:
            continue
        if key == "auto_explain":
            if value and (bins.bindir.parent / "lib" / "auto_explain.so").exists():
                gucs["session_preload_libraries"] = "auto_explain"
            continue
        gucs[key] = value
    return gucs


class PostgresEngine:
    name = "postgres"
    blocking = True

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir = state_dir.resolve()  # servers run from other working dirs
        self.clusters_dir = state_dir / "clusters"
        self._lock = threading.Lock()
        self._readers: dict[str, LogReader] = {}
        self._ports: set[int] = set()

    # -- helpers -------------------------------------------------------------------------
    def _bins(self, major: str | None, *, explicit: bool) -> Binaries:
        bins = find(major) if explicit else (find(major) or find())
        if bins is None:
            wanted = f"PostgreSQL {major}" if explicit else "PostgreSQL"
            raise EngineError(f"{wanted} is not installed here (looked in /usr/lib/postgresql/*/bin).")
        return bins

    def _port(self, preferred: int | None = None) -> int:
        with self._lock:
            if preferred and preferred not in self._ports and port_is_free(preferred):
                self._ports.add(preferred)
                return preferred
            for _ in range(50):
                port = free_port()
                if port not in self._ports:
                    self._ports.add(port)
                    return port
        raise EngineError("No free TCP port on 127.0.0.1 for a new database.")

    def cluster(self, addon: Addon) -> Cluster:
        """The cluster of an add-on this engine created (for admin work and tests)."""
        db = _db(addon)
        data = db.engine_data
        if data.get("engine") != self.name:
            raise EngineError(f"{addon.name} has no PostgreSQL cluster (created by another engine?).")
        return Cluster(self.clusters_dir / addon.id, self._bins(db.version, explicit=True), db.port,
                       str(data["admin_password"]))

    def _new_cluster(self, addon: Addon, bins: Binaries, admin_password: str) -> Cluster:
        blocked = unreachable(self.state_dir)
        if blocked is not None:
            raise EngineError(f"The postgres user cannot enter {blocked}; use a state dir it can reach.")
        register_secret(admin_password)  # before any command can echo it (psql prints bad SQL)
        register_secret(_db(addon).password)
        root = self.clusters_dir / addon.id
        if root.exists():  # leftovers of an attempt that failed half-way
            Cluster(root, bins, 0, admin_password).stop()
            shutil.rmtree(root)
        self.clusters_dir.mkdir(parents=True, exist_ok=True)
        chown_tree(self.clusters_dir)
        cluster = Cluster(root, bins, self._port(), admin_password)
        cluster.make_dirs()
        return cluster

    def _created(self, addon: Addon, cluster: Cluster, role: str, base_time: float) -> None:
        db = _db(addon)
        db.host, db.port, db.version = "127.0.0.1", cluster.port, cluster.bins.major
        db.engine_data.update(
            engine=self.name, admin_password=cluster.admin_password, role=role, base_time=base_time
        )
        register_secret(db.password)  # a follower's is its leader's

    @contextmanager
    def _creating(self, cluster: Cluster, what: str, log_lines: int = 0) -> Iterator[None]:
        """Creating ``cluster``: if it fails, leave no server or files behind and raise an
        EngineError saying "Could not create ``what``" (with the last ``log_lines`` of the server
        log, read before the files go)."""
        try:
            yield
        except CommandError as exc:
            tail = cluster.log_tail(log_lines) if log_lines else None
            self._abandon(cluster)
            raise _error(f"Could not create {what}", exc, tail) from None
        except EngineError:
            self._abandon(cluster)
            raise

    def _abandon(self, cluster: Cluster) -> None:
        """Creation failed: leave no server or files behind."""
        try:
            cluster.stop()
        except CommandError as exc:
            log.warning("could not stop %s: %s", cluster.root.name, exc)
        shutil.rmtree(cluster.root, ignore_errors=True)
        with self._lock:
            self._ports.discard(cluster.port)

    def _start(self, cluster: Cluster, what: str) -> None:
        try:
            cluster.start()
        except CommandError as exc:
            tail = cluster.log_tail()
            fatal = [line.split("  ", 1)[-1] for line in tail if " FATAL:  " in line or " PANIC:  " in line]
            reason = fatal[-1] if fatal else str(exc)
            raise EngineError(f"{what}: the server did not start: {reason}", [*exc.lines, *tail]) from None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self, addons: list[Addon]) -> None:
        """Start the clusters of existing add-ons (leaders first, so followers find them)."""
        by_id = {a.id: a for a in addons}
        ours = [a for a in addons if a.db and a.db.engine_data.get("engine") == self.name
                and a.state not in ("deprovisioning", "deprovisioned")]
        for addon in sorted(ours, key=lambda a: _db(a).engine_data.get("role") == "standby"):
            try:
                self._restart(addon, by_id)
            except EngineError as exc:
                log.warning("could not start the database of %s: %s", addon.name, exc)

    def _restart(self, addon: Addon, by_id: Mapping[str, Addon]) -> None:
        db = _db(addon)
        cluster = self.cluster(addon)
        if not cluster.data.exists() or cluster.is_running():
            return
        cluster.port = self._port(db.port)
        db.port = cluster.port  # changes only if another program took the old port
        leader = by_id.get(str(db.engine_data.get("leader_id")))
        if db.engine_data.get("role") == "standby" and leader is not None and leader.db is not None:
            db.engine_data["leader_port"] = leader.db.port
        cluster.configure(server_gucs(db.settings, cluster.bins), leader_port=self._leader_port(addon))
        self._start(cluster, addon.name)
        register_secret(cluster.admin_password)

    def stop(self) -> None:
        """Stop every cluster under the state dir that is running (fast shutdown)."""
        for pidfile in sorted(self.clusters_dir.glob("*/data/postmaster.pid")):
            data = pidfile.parent
            try:
                major = (data / "PG_VERSION").read_text().strip()
                bins = self._bins(major, explicit=True)
                Cluster(data.parent, bins, 0, "").stop()
            except (OSError, EngineError, CommandError) as exc:
                log.warning("could not stop the cluster in %s: %s", data, exc)

    def provision(self, addon: Addon, now: float) -> None:
        db = _db(addon)
        bins = self._bins(db.version, explicit="version" in addon.config)
        cluster = self._new_cluster(addon, bins, secrets.token_hex(16))
        with self._creating(cluster, f"the database of {addon.name}"):
            cluster.initdb()
            cluster.write_hba()
            cluster.configure(server_gucs(db.settings, bins))
            cluster.save_base()  # a cold copy: with the WAL archive, the start of every rollback
            base_time = time.time()
            self._start(cluster, addon.name)
            cluster.sql(
                f"CREATE ROLE {quote_ident(db.user)} LOGIN PASSWORD {quote_literal(db.password)} "
                "IN ROLE pg_read_all_stats, pg_signal_backend;\n"
                f"CREATE DATABASE {quote_ident(db.database_name)} OWNER {quote_ident(db.user)};\n"
            )
        self._created(addon, cluster, "primary", base_time)

    def follow(self, addon: Addon, leader: Addon, now: float) -> None:
        db, source = _db(addon), self.cluster(leader)
        cluster = self._new_cluster(addon, source.bins, source.admin_password)
        with self._creating(cluster, f"the follower {addon.name}"):
            cluster.basebackup(source)
            cluster.save_base()
            cluster.configure(server_gucs(db.settings, source.bins), leader_port=source.port)
            self._start(cluster, addon.name)
        lead = _db(leader)  # a physical copy: the leader's roles, passwords and database
        db.user, db.password, db.database_name = lead.user, lead.password, lead.database_name
        self._created(addon, cluster, "standby", time.time())
        db.engine_data.update(leader_id=leader.id, leader_port=source.port)

    def fork(self, addon: Addon, source: Addon, now: float, *, to: float | None = None) -> None:
        db, origin = _db(addon), self.cluster(source)
        cluster = self._new_cluster(addon, origin.bins, origin.admin_password)
        with self._creating(cluster, f"the fork {addon.name}", log_lines=5):
            if to is None:
                cluster.basebackup(origin)
                for signal in ("standby.signal", "recovery.signal"):  # a fork of a follower is a primary
                    (cluster.data / signal).unlink(missing_ok=True)
                cluster.save_base()
                base_time = time.time()
                cluster.configure(server_gucs(db.settings, origin.bins))
                self._start(cluster, addon.name)
            else:
                self._recover(cluster, source, origin, to - (now - time.time()))
                base_time = time.time()
            self._rename_owner(cluster, _db(source), db)
            if to is not None:  # the recovered cluster's own base, for rolling it back in turn
                cluster.backup_self()
        self._created(addon, cluster, "primary", base_time)

    def _recover(self, cluster: Cluster, source: Addon, origin: Cluster, target: float) -> None:
        """Point-in-time recovery of ``source`` at wall time ``target`` into ``cluster``."""
        if source.db is not None and source.db.engine_data.get("role") != "primary":
            raise EngineError(
                f"Rollback of the follower {source.name} is not available in the sandbox; "
                "roll back its leader."
            )
        if not origin.base.exists():
            raise EngineError(f"Rollback is not available in the sandbox for {source.name}: no base backup.")
        base_time = float(_db(source).engine_data.get("base_time", 0.0))
        target = max(target, base_time)  # before the base backup the database was as in the base
        # A commit after the target gives recovery its stopping point; the switch archives it.
        origin.sql("SELECT txid_current()")
        segment = origin.value("SELECT pg_walfile_name(pg_switch_wal())")
        deadline = time.monotonic() + ARCHIVE_TIMEOUT
        while not (origin.archive / segment).exists():
            if time.monotonic() > deadline:
                raise EngineError(f"Rollback failed: WAL {segment} of {source.name} was not archived.")
            time.sleep(0.05)
        cluster.copy_data_from(origin.base)
        (cluster.data / "recovery.signal").touch()
        chown_tree(cluster.data / "recovery.signal")
        moment = datetime.fromtimestamp(target, UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
        gucs = server_gucs(_db(source).settings, cluster.bins)
        cluster.configure(gucs, recovery={
            "restore_command": f"cp {origin.archive}/%f %p",
            "recovery_target_time": moment,
            "recovery_target_action": "promote",
            "recovery_target_timeline": "latest",
        })
        self._start(cluster, "rollback")
        try:
            cluster.wait_until("SELECT pg_is_in_recovery()", "f", RECOVERY_TIMEOUT)
        except CommandError as exc:
            raise _error("Rollback failed", exc, cluster.log_tail()) from None
        cluster.configure(gucs)
        cluster.sql("SELECT pg_reload_conf()")

    def _rename_owner(self, cluster: Cluster, old: Database, new: Database) -> None:
        """Give a copied database the fork's own credentials (no session may use the old name)."""
        cluster.sql(
            f"ALTER ROLE {quote_ident(old.user)} RENAME TO {quote_ident(new.user)};\n"
            f"ALTER ROLE {quote_ident(new.user)} PASSWORD {quote_literal(new.password)};\n"
        )
        rename = (f"ALTER DATABASE {quote_ident(old.database_name)} "
                  f"RENAME TO {quote_ident(new.database_name)}")
        for attempt in range(20):  # an autovacuum worker may be connected for a moment
            try:
                cluster.sql(rename)
                return
            except CommandError:
                if attempt == 19:
                    raise
                time.sleep(0.1)

    def unfollow(self, addon: Addon, now: float) -> None:
        db = _db(addon)
        cluster = self.cluster(addon)
        try:
            if cluster.in_recovery():
                cluster.sql("SELECT pg_promote(true, 60)")
            db.engine_data["role"] = "primary"
            for key in ("leader_id", "leader_port"):
                db.engine_data.pop(key, None)
            cluster.configure(server_gucs(db.settings, cluster.bins))  # drops primary_conninfo
            cluster.sql("SELECT pg_reload_conf()")
        except CommandError as exc:
            raise _error(f"Could not promote {addon.name}", exc) from None

    def destroy(self, addon: Addon) -> None:
        root = self.clusters_dir / addon.id
        try:
            cluster = self.cluster(addon)
            cluster.stop()
        except (EngineError, CommandError) as exc:
            if (root / "data" / "postmaster.pid").exists():
                raise EngineError(f"Could not stop the database of {addon.name}: {exc}") from None
        shutil.rmtree(root, ignore_errors=True)
        with self._lock:
            self._readers.pop(addon.id, None)
            if addon.db is not None:
                self._ports.discard(addon.db.port)

    # -- observation ---------------------------------------------------------------------
    def _xmax(self, addon: Addon) -> int:
        try:
            cluster = self.cluster(addon)
            query = "SELECT pg_snapshot_xmax(pg_current_snapshot())"
            return int(cluster.value(query, _db(addon).database_name))
        except (CommandError, ValueError) as exc:
            raise EngineError(f"Could not read the replication state of {addon.name}: {exc}") from None

    def lag(self, addon: Addon, leader: Addon, now: float, *, delay: float = 0.0) -> int:
        """Transactions the leader completed that the follower has not replayed (see module doc)."""
        ahead = self._xmax(leader)  # the leader first: it only moves forward
        return max(0, ahead - self._xmax(addon))

    def stats(self, addon: Addon) -> DbStats:
        """Live figures; a database whose server is down reports zeros (and its version)."""
        db = _db(addon)
        try:
            row = self.cluster(addon).sql(_STATS, db.database_name)[0]
        except (CommandError, EngineError, IndexError):
            return DbStats(postgres_version=db.version)
        size, tables, conns, waiting, xmax, version = row
        return DbStats(int(size), int(tables), int(conns), int(waiting), int(xmax) - 1, version)

    def log_lines(self, addon: Addon, since: float) -> list[LogLine]:
        with self._lock:
            reader = self._readers.get(addon.id)
            if reader is None:
                path = self.clusters_dir / addon.id / "postgresql.log"
                reader = self._readers[addon.id] = LogReader(path, frozenset({ADMIN_USER}))
        return reader.lines(since)

    def apply_settings(self, addon: Addon, settings: dict[str, object]) -> None:
        """Rewrite the settings file and reload; returns once new sessions see the values."""
        db = _db(addon)
        cluster = self.cluster(addon)
        cluster.configure(server_gucs({**db.settings, **settings}, cluster.bins),
                          leader_port=self._leader_port(addon))
        if not cluster.is_running():
            return
        try:
            before = cluster.value("SELECT pg_conf_load_time()")
            cluster.sql("SELECT pg_reload_conf()")
            cluster.wait_until(f"SELECT pg_conf_load_time() > {quote_literal(before)}::timestamptz", "t", 10)
        except CommandError as exc:
            raise _error(f"Could not apply the settings of {addon.name}", exc) from None

    def _leader_port(self, addon: Addon) -> int | None:
        data = _db(addon).engine_data
        return int(data["leader_port"]) if data.get("role") == "standby" and "leader_port" in data else None

    # -- transfers -----------------------------------------------------------------------
    def capture(self, addon: Addon, transfer: Transfer, backup_dir: Path, now: float) -> TransferResult:
        db = _db(addon)
        cluster = self.cluster(addon)
        backup_dir.mkdir(parents=True, exist_ok=True)
        name = f"{transfer.uuid}.dump"
        target = backup_dir / name
        try:
            done = cluster.bins.run(
                "pg_dump", ["-Fc", "--verbose", "--no-password", "-f", str(target),
                            *cluster.conn_args(db.database_name)],
                env=cluster.admin_env(), timeout=3600,
            )
        except CommandError as exc:
            target.unlink(missing_ok=True)
            raise _error("Backup failed", exc) from None
        try:
            size = int(cluster.value("SELECT pg_database_size(current_database())", db.database_name))
        except (CommandError, ValueError):
            size = 0  # the dump is complete; only the "original size" figure is missing
        processed = target.stat().st_size
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return TransferResult(processed, size, name, [*lines, f"upload complete: {processed} bytes"])

    def restore(self, addon: Addon, transfer: Transfer, dump: Path, now: float) -> TransferResult:
        db = _db(addon)
        cluster = self.cluster(addon)
        try:
            if cluster.in_recovery():
                raise EngineError(
                    "pg_restore: error: cannot execute in a read-only transaction "
                    f"({addon.name} is a follower; unfollow it first)"
                )
            done = cluster.bins.run(
                "pg_restore",
                ["--clean", "--if-exists", "--no-owner", "--no-acl", "--verbose", "--no-password",
                 f"--role={db.user}", *cluster.conn_args(db.database_name), str(dump)],
                env=cluster.admin_env(), timeout=3600,
            )
        except CommandError as exc:
            raise _error("Restore failed", exc) from None
        size = dump.stat().st_size
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return TransferResult(size, size, None, lines)
