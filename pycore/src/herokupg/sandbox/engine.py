"""What a sandbox engine does for the databases behind `heroku-postgresql` add-ons.

The API layer owns the records (state.py) and Heroku's rules; an engine owns the data: the
memory engine simulates it, the postgres engine runs real clusters. Engine methods may block
(initdb, pg_basebackup, pg_dump): the server calls them from its worker thread, never while
holding the store lock for long.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from herokupg.sandbox.state import Addon, Transfer


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
    artifact: str | None = None  # dump file name under the engine's backup dir
    logs: list[str] = field(default_factory=list)


class Engine(Protocol):
    name: str

    def start(self, addons: list[Addon]) -> None:
        """Bring back the databases of existing add-ons after a (re)start."""

    def stop(self) -> None:
        """Stop every database process; data stays on disk."""

    def provision(self, addon: Addon) -> None:
        """Create an empty primary (fills addon.db.host/port/user/password/version)."""

    def follow(self, addon: Addon, leader: Addon) -> None:
        """Create ``addon`` as a read-only replica of ``leader``."""

    def fork(self, addon: Addon, source: Addon, *, to: float | None = None) -> None:
        """Create ``addon`` as an independent writable copy of ``source`` (at time ``to``)."""

    def unfollow(self, addon: Addon) -> None:
        """Promote a replica: it becomes writable and stops following."""

    def destroy(self, addon: Addon) -> None:
        """Remove the database and its files."""

    def lag(self, addon: Addon, leader: Addon, now: float) -> int:
        """Commits (transactions) the follower is behind its leader."""

    def stats(self, addon: Addon) -> DbStats:
        """Sizes and counts shown by pg:info."""

    def capture(self, addon: Addon, transfer: Transfer, backup_dir: Path) -> TransferResult:
        """Dump the database into a file under ``backup_dir``; raise EngineError on failure."""

    def restore(self, addon: Addon, transfer: Transfer, dump: Path) -> TransferResult:
        """Load ``dump`` into the database, replacing its objects; raise EngineError on failure."""

    def apply_settings(self, addon: Addon, settings: dict[str, object]) -> None:
        """Apply pg:settings values (log_min_duration_statement, ...)."""

    def log_lines(self, addon: Addon, since: float) -> list[tuple[float, str]]:
        """Postgres log lines (timestamp, Heroku-format body) after ``since``."""
