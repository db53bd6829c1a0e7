"""The memory engine: simulated databases whose data lives in ``addon.db.engine_data``.

Each database keeps a journal of committed transactions (``{n, ts, op, ...}``) and the tables it
produces. That one structure gives every behaviour real Heroku Postgres has, honestly:
followers replay their leader's journal (lag = commits not yet replayed, each commit becoming
visible ``delay`` seconds after it happened or after the follower started); forks copy the
journal, and rollbacks copy it only up to the target time; backups write a real dump file.
Every method is instant, so the API layer calls it inline under the store lock (``blocking``).
"""

from __future__ import annotations

import copy
import json
import secrets
from pathlib import Path
from typing import Any

from herokupg_sandbox.engine import DbStats, EngineError, LogLine, TransferResult
from herokupg_sandbox.pgsettings import DEFAULTS
from herokupg_sandbox.state import Addon, Transfer

DUMP_FORMAT = "herokupg-memory-dump/1"
EMPTY_DB_BYTES = 8_283_000  # what an empty Heroku Postgres database reports (about 7.9 MB)
MAX_LOG_LINES = 2000
MINOR_VERSIONS = {"14": "14.13", "15": "15.8", "16": "16.4", "17": "17.2"}
_MOD_VERBS = ("insert", "update", "delete", "truncate", "copy")
_DDL_VERBS = ("create", "alter", "drop", "comment", "grant", "revoke")


def _data(addon: Addon) -> dict[str, Any]:
    if addon.db is None:
        raise EngineError(f"{addon.name} is not a Heroku Postgres database")
    return addon.db.engine_data


def _apply(tables: dict[str, list[Any]], entry: dict[str, Any]) -> dict[str, list[Any]]:
    if entry["op"] == "replace":
        return copy.deepcopy(entry["tables"])
    tables.setdefault(entry["table"], []).extend(copy.deepcopy(entry["rows"]))
    return tables


def _replay(journal: list[dict[str, Any]]) -> dict[str, list[Any]]:
    tables: dict[str, list[Any]] = {}
    for entry in journal:
        tables = _apply(tables, entry)
    return tables


class MemoryEngine:
    name = "memory"
    blocking = False

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    # -- lifecycle -----------------------------------------------------------------------
    def start(self, addons: list[Addon]) -> None:
        """Nothing runs: the data is part of the persisted state."""

    def stop(self) -> None:
        """Nothing runs."""

    def _init(self, addon: Addon, journal: list[dict[str, Any]], *, read_only: bool) -> dict[str, Any]:
        data = _data(addon)
        data.clear()
        data.update(
            journal=journal,
            tables=_replay(journal),
            commits=journal[-1]["n"] if journal else 0,
            read_only=read_only,
            pid=1000 + secrets.randbelow(30000),
            stmt_seq=0,
            gucs={},
            log=[],
        )
        return data

    def provision(self, addon: Addon, now: float) -> None:
        self._init(addon, [], read_only=False)

    def follow(self, addon: Addon, leader: Addon, now: float) -> None:
        data = self._init(addon, [], read_only=True)
        data["follow_started"] = now

    def fork(self, addon: Addon, source: Addon, now: float, *, to: float | None = None) -> None:
        journal = [e for e in _data(source)["journal"] if to is None or e["ts"] <= to]
        self._init(addon, copy.deepcopy(journal), read_only=False)

    def unfollow(self, addon: Addon, now: float) -> None:
        data = _data(addon)
        data["read_only"] = False
        data.pop("follow_started", None)

    def destroy(self, addon: Addon) -> None:
        if addon.db is not None:
            addon.db.engine_data.clear()

    # -- replication ---------------------------------------------------------------------
    def lag(self, addon: Addon, leader: Addon, now: float, *, delay: float = 0.0) -> int:
        data, source = _data(addon), _data(leader)
        started = float(data.get("follow_started", 0.0))
        for entry in source.get("journal", []):
            if entry["n"] <= data["commits"]:
                continue
            if max(entry["ts"], started) + delay > now:
                break
            replayed = copy.deepcopy(entry)
            data["journal"].append(replayed)
            data["tables"] = _apply(data["tables"], replayed)
            data["commits"] = entry["n"]
        return max(0, int(source.get("commits", 0)) - int(data["commits"]))

    # -- simulated client activity (admin API) -------------------------------------------
    def write(self, addon: Addon, table: str, rows: list[Any], now: float) -> int:
        """Commit one transaction inserting ``rows`` into ``table``; returns the commit number."""
        data = _data(addon)
        if data.get("read_only"):
            raise EngineError("cannot execute INSERT in a read-only transaction")
        return self._commit(data, {"ts": now, "op": "insert", "table": table, "rows": rows})

    def _commit(self, data: dict[str, Any], entry: dict[str, Any]) -> int:
        data["commits"] = int(data["commits"]) + 1
        entry["n"] = data["commits"]
        data["journal"].append(entry)
        data["tables"] = _apply(data["tables"], entry)
        return int(data["commits"])

    def snapshot(self, addon: Addon) -> dict[str, Any]:
        data = _data(addon)
        return {"commits": data.get("commits", 0), "tables": copy.deepcopy(data.get("tables", {}))}

    def record_statement(self, addon: Addon, sql: str, duration_ms: float, now: float) -> bool:
        """A client ran ``sql``; log it the way Postgres would with the current settings.

        Returns whether anything was logged.
        """
        data = _data(addon)
        gucs = {**DEFAULTS, **data.get("gucs", {})}
        verb = sql.lstrip().split(None, 1)[0].lower() if sql.strip() else ""
        mode = gucs.get("log_statement", "none")
        by_kind = mode == "all" or (mode == "mod" and verb in _MOD_VERBS + _DDL_VERBS) or (
            mode == "ddl" and verb in _DDL_VERBS
        )
        threshold = int(gucs.get("log_min_duration_statement", -1))
        by_duration = threshold >= 0 and duration_ms >= threshold
        if by_kind:
            self._log(data, now, f"statement: {sql}")
        if by_duration:
            # Postgres omits the text from the duration line when log_statement already showed it.
            text = f"duration: {duration_ms:.3f} ms" + ("" if by_kind else f"  statement: {sql}")
            self._log(data, now, text)
        return by_kind or by_duration

    def _log(self, data: dict[str, Any], now: float, message: str, level: str = "LOG") -> None:
        data["stmt_seq"] = int(data.get("stmt_seq", 0)) + 1
        seq = data["stmt_seq"]
        proc = f"postgres.{data.get('pid', 1000)}"
        lines = message.splitlines() or [""]
        log = data.setdefault("log", [])
        log.append([now, proc, f"[{seq}-1]  sql_error_code = 00000 {level}:  {lines[0]}"])
        for k, more in enumerate(lines[1:], start=2):
            log.append([now, proc, f"[{seq}-{k}] {more}"])
        del log[:-MAX_LOG_LINES]

    def log_lines(self, addon: Addon, since: float) -> list[LogLine]:
        return [LogLine(ts, proc, body) for ts, proc, body in _data(addon).get("log", []) if ts > since]

    def apply_settings(self, addon: Addon, settings: dict[str, object]) -> None:
        _data(addon).setdefault("gucs", {}).update(settings)

    # -- stats ---------------------------------------------------------------------------
    def stats(self, addon: Addon) -> DbStats:
        data = _data(addon)
        tables = data.get("tables", {})
        version = addon.db.version if addon.db else "16"
        return DbStats(
            num_bytes=EMPTY_DB_BYTES + len(json.dumps(tables)),
            num_tables=len(tables),
            current_transaction=int(data.get("commits", 0)),
            postgres_version=MINOR_VERSIONS.get(version, f"{version}.0"),
        )

    # -- transfers -----------------------------------------------------------------------
    def capture(self, addon: Addon, transfer: Transfer, backup_dir: Path, now: float) -> TransferResult:
        data = _data(addon)
        backup_dir.mkdir(parents=True, exist_ok=True)
        name = f"{transfer.uuid}.dump"
        body = {
            "format": DUMP_FORMAT,
            "database": addon.db.database_name if addon.db else addon.name,
            "commits": data.get("commits", 0),
            "tables": data.get("tables", {}),
        }
        (backup_dir / name).write_text(json.dumps(body, sort_keys=True))
        size = (backup_dir / name).stat().st_size
        tables = len(body["tables"])
        return TransferResult(
            processed_bytes=size,
            source_bytes=self.stats(addon).num_bytes,
            artifact=name,
            logs=[f"pg_dump: dumping contents of {tables} table(s)", f"upload complete: {size} bytes"],
        )

    def restore(self, addon: Addon, transfer: Transfer, dump: Path, now: float) -> TransferResult:
        data = _data(addon)
        if data.get("read_only"):
            raise EngineError("pg_restore: error: cannot execute in a read-only transaction")
        try:
            body = json.loads(dump.read_bytes())
        except (OSError, ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or body.get("format") != DUMP_FORMAT or not isinstance(
            body.get("tables"), dict
        ):
            raise EngineError(
                "pg_restore: error: input file does not appear to be a valid archive",
                ["pg_restore: error: input file does not appear to be a valid archive"],
            )
        self._commit(data, {"ts": now, "op": "replace", "tables": body["tables"]})
        size = dump.stat().st_size
        return TransferResult(
            processed_bytes=size,
            source_bytes=size,
            logs=[f"pg_restore: restored {len(body['tables'])} table(s)"],
        )
