"""What the backup, restore and backup-info operations share: transfer output, matching a transfer
to a database, durations, confirmation, and waiting for a transfer to finish (contract §5)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from herokupg.errors import TransferFailedError, ValidationError
from herokupg.models import Transfer, format_bytes
from herokupg.ops.base import Context
from herokupg.resolve import ResolvedDatabase, same_database

BACKUP_ID = re.compile(r"[abcr]\d+|o[ab]\d+", re.ASCII)
# The CLI shows the last 5 log lines of a failed transfer.
FAILED_LOG_LINES = 5

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])", re.ASCII)


def parse_duration(value: str | int | float, what: str = "max_age") -> float:
    """``"24h"``, ``"30m"``, ``"7d"``, ``"1h30m"`` or a number of seconds -> seconds (> 0)."""
    text = str(value).strip().lower().replace(" ", "")
    seconds: float | None = None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        seconds = float(text)
    elif text and re.fullmatch(r"(?:\d+(?:\.\d+)?[smhdw])+", text):
        seconds = sum(float(n) * _UNITS[unit] for n, unit in _DURATION_PART.findall(text))
    if seconds is None or seconds <= 0:
        raise ValidationError(
            f"Invalid {what} {value!r}: expected a positive duration such as '30m', '24h', '7d', "
            "'1h30m' or a number of seconds."
        )
    return seconds


def parse_time(value: str | None) -> datetime | None:
    """A transfer timestamp (``"2016-10-01 00:42:54 +0000"``, or ISO 8601) as an aware datetime."""
    if not value:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def check_backup_id(name: str) -> str:
    if not BACKUP_ID.fullmatch(name):
        raise ValidationError(
            f"Invalid backup id {name!r}: expected a name such as b001, a012 (scheduled) or ob012 (imported)."
        )
    return name


def bare_url(url: str) -> str:
    """A URL without credentials, query and fragment: a backup's identity, without its secrets
    (a password in the userinfo, a signature in the query)."""
    try:
        parts = urlsplit(url)
        return parts._replace(netloc=parts.netloc.rpartition("@")[2], query="", fragment="").geturl()
    except ValueError:
        return url


@dataclass(frozen=True)
class DatabaseMatcher:
    """Tells which transfers read from or wrote to one database.

    By URL (host, port, path) when both sides have one, because attachment names move (a promotion
    hands ``DATABASE`` to another add-on); by attachment or add-on name otherwise.
    """

    names: frozenset[str]
    url: str | None

    @classmethod
    def of(cls, db: ResolvedDatabase, url: str | None) -> DatabaseMatcher:
        """``url``: the database's, from its config var or the Data API's ``resource_url``."""
        return cls(frozenset({*db.names, db.addon_name}), url)

    def _is(self, name: str | None, url: str | None) -> bool:
        if url and self.url and url.startswith(("postgres://", "postgresql://")):
            return same_database(url, self.url)
        return name in self.names

    def source_of(self, t: Transfer) -> bool:
        return self._is(t.from_name, t.from_url)

    def target_of(self, t: Transfer) -> bool:
        return self._is(t.to_name, t.to_url)

    def involved_in(self, t: Transfer) -> bool:
        if t.kind == "backup":
            return self.source_of(t)
        if t.kind == "restore":
            return self.target_of(t)
        return self.source_of(t) or self.target_of(t)


def newest(transfers: list[Transfer], key: str = "finished_at") -> Transfer | None:
    """The newest by a timestamp (string order, as the CLI sorts them), ties broken by num."""
    dated = [t for t in transfers if getattr(t, key)]
    return max(dated, key=lambda t: (getattr(t, key), t.num or 0), default=None)


def state_of(t: Transfer) -> str:
    if t.succeeded:
        return "completed"
    if t.canceled_at:
        return "canceled"
    if t.finished_at:
        return "failed"
    return "running" if t.started_at else "pending"


def describe_transfer(t: Transfer, app: str) -> dict[str, Any]:
    """A transfer as module output: names and numbers only, never its URLs (credentials, signatures)."""
    database = t.from_name if t.kind == "backup" else t.to_name
    return {
        "name": t.name,
        "num": t.num,
        "uuid": t.uuid,
        "app": app,
        "kind": t.kind,
        "database": database,
        "source": t.from_name,
        "target": t.to_name,
        "scheduled": t.scheduled,
        "status": t.status_text,
        "state": state_of(t),
        "succeeded": t.succeeded,
        "warnings": t.warnings,
        "created_at": t.created_at,
        "started_at": t.started_at,
        "finished_at": t.finished_at,
        "canceled_at": t.canceled_at,
        "processed_bytes": t.processed_bytes,
        "source_bytes": t.source_bytes,
        "size": format_bytes(t.processed_bytes),
        "source_size": format_bytes(t.source_bytes),
    }


def sort_newest_first(transfers: list[Transfer]) -> list[Transfer]:
    """The CLI's list order: ``created_at`` descending (string order), then num."""
    return sorted(transfers, key=lambda t: (t.created_at or "", t.num or 0), reverse=True)


def raise_if_failed(ctx: Context, app: str, t: Transfer, what: str) -> None:
    """A finished, unsuccessful transfer fails the operation with its last log lines."""
    if not t.finished or t.succeeded:
        return
    verbose = ctx.api.transfer(app, t.uuid, verbose=True)
    logs = verbose.log_messages(FAILED_LOG_LINES)
    # The CLI shows the last 5 log lines; the one that explains is rarely the very last.
    reason = " / ".join(logs) if logs else "no log lines were recorded"
    raise TransferFailedError(
        f"{what} {t.name} did not finish successfully ({verbose.info_status}): {reason}. "
        f"See `heroku pg:backups:info {t.name} -a {app}` for details.",
        transfer=t.name,
        logs=logs,
    )


def wait_for_transfer(ctx: Context, app: str, t: Transfer, what: str) -> Transfer:
    """Poll ``GET /client/v11/apps/{app}/transfers/{uuid}`` until finished (if waiting is on).

    ``app`` must be the database's billing app: transfers are numbered and listed there.
    """
    latest = t
    if ctx.wait.enabled and not t.finished:

        def probe() -> tuple[bool, str]:
            nonlocal latest
            latest = ctx.api.transfer(app, t.uuid)
            return latest.finished, latest.status_text

        ctx.wait_until(probe, resource=f"{what} {t.name} on app {app}", goal="finish")
    raise_if_failed(ctx, app, latest, what)
    return latest
