"""What a sandbox engine does for the databases behind `heroku-postgresql` add-ons.

The API layer (provider.py, transfers.py) owns the records (state.py) and Heroku's rules; an
engine owns the data: the memory engine simulates it, the postgres engine runs real clusters.

Threading contract: when ``blocking`` is False (memory engine) the API layer calls the engine
inline while holding ``store.lock``; when True (initdb, pg_basebackup, pg_dump take seconds) it
calls it from a worker thread without the lock, and then stores the results under the lock.
``now`` arguments are the sandbox clock (which the admin API can advance), never wall time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from herokupg_sandbox.state import Addon, Transfer


class EngineError(Exception):
    """An engine operation failed; ``logs`` are the lines to show in the transfer or add-on."""

    def __init__(self, message: str, logs: list[str] | None = None) -> None:
        super().__init__(message)
        self.logs = logs or [message]


@dataclass
class DbStats:
    num_bytes: int = 0
    num_tables: int = 0
    num_connections: int = 0
    num_connections_waiting: int = 0
    current_transaction: int = 0
    postgres_version: str = "16.4"


@dataclass
class TransferResult:
    processed_bytes: int
    source_bytes: int
    artifact: str | None = None  # dump file name under the backup dir
    logs: list[str] = field(default_factory=list)


@dataclass
class LogLine:
    """One Postgres server log line before the app/attachment prefix is added.

    ``body`` starts at the statement counter: ``[5-1]  sql_error_code = 00000 LOG:  ...``.
    """

    ts: float
    proc: str  # e.g. "postgres.1234"
    body: str


class Engine(Protocol):
    name: str
    blocking: bool  # True: call from a worker thread, never under store.lock

    def start(self, addons: list[Addon]) -> None:
        """Bring back the databases of existing add-ons after a (re)start."""

    def stop(self) -> None:
        """Stop every database process; data stays on disk."""

    def provision(self, addon: Addon, now: float) -> None:
        """Create an empty writable primary (may fill addon.db.host/port/version)."""

    def follow(self, addon: Addon, leader: Addon, now: float) -> None:
        """Create ``addon`` as a read-only replica of ``leader``."""

    def fork(self, addon: Addon, source: Addon, now: float, *, to: float | None = None) -> None:
        """Create ``addon`` as an independent writable copy of ``source`` (as of time ``to``)."""

    def unfollow(self, addon: Addon, now: float) -> None:
        """Promote a replica: it becomes writable and stops following."""

    def destroy(self, addon: Addon) -> None:
        """Remove the database and its files."""

    def lag(self, addon: Addon, leader: Addon, now: float, *, delay: float = 0.0) -> int:
        """Commits the follower is behind its leader, after replaying what it can by ``now``.

        ``delay`` is the simulated replication delay in seconds (settings.follower_catchup);
        an engine with real replication measures the lag instead and ignores it.
        """

    def stats(self, addon: Addon) -> DbStats:
        """Sizes and counts shown by pg:info."""

    def capture(self, addon: Addon, transfer: Transfer, backup_dir: Path, now: float) -> TransferResult:
        """Dump the database into a new file under ``backup_dir``; raise EngineError on failure."""

    def restore(self, addon: Addon, transfer: Transfer, dump: Path, now: float) -> TransferResult:
        """Load ``dump`` into the database, replacing its objects; raise EngineError on failure."""

    def apply_settings(self, addon: Addon, settings: dict[str, object]) -> None:
        """Apply pg:settings values (log_min_duration_statement, ...)."""

    def log_lines(self, addon: Addon, since: float) -> list[LogLine]:
        """Postgres server log lines with ``ts > since``, oldest first."""
