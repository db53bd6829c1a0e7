"""Which backups to keep: a grandfather-father-son retention policy as a pure function.

The classic Heroku Postgres policy keeps 7 daily and some weekly scheduled backups and a number
of manual ones. ``select`` applies such a policy to any list of backups - the ones Heroku lists,
or the copies kept in a directory off the platform, or both at once - and says which to keep and
which to drop. Nothing here talks to an API or touches a file.

Rules (all counts may be 0):

* Manual backups (``b012``, or anything not scheduled): the newest ``manual`` are kept.
* Scheduled backups (``a012``): the newest backup of each of the ``daily`` most recent days that
  have one is kept; then, among the backups older than the oldest kept daily one, the newest of
  each of the ``weekly`` most recent ISO weeks that have one. Everything else is dropped.
* "Newest" orders by day, then by backup number (numbers only grow within an app).
* Days and weeks are UTC calendar days and ISO weeks of when the backup was taken.

Off-platform copies are named ``<backup name>-<YYYY-MM-DD>.dump`` (``offsite_filename``), so a
directory listing alone is enough to apply the policy again (``parse_offsite_filename``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from herokupg.errors import ValidationError

BACKUP_NAME = re.compile(r"^(?P<prefix>[a-z]{1,2})(?P<num>\d+)$")
OFFSITE_FILE = re.compile(r"^(?P<name>[a-z]{1,2}\d+)-(?P<day>\d{4}-\d{2}-\d{2})\.dump$")
SCHEDULED_PREFIX = "a"


@dataclass(frozen=True)
class Policy:
    """How many backups of each kind to keep."""

    daily: int = 7
    weekly: int = 5
    manual: int = 10

    def __post_init__(self) -> None:
        for field_name in ("daily", "weekly", "manual"):
            value = getattr(self, field_name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValidationError(f"Retention {field_name} must be a whole number >= 0, got {value!r}.")


@dataclass(frozen=True)
class Backup:
    """One backup: its name (``a012``, ``b003``), number, kind and the UTC day it was taken."""

    name: str
    num: int
    scheduled: bool
    day: date

    @property
    def week(self) -> tuple[int, int]:
        iso = self.day.isocalendar()
        return iso[0], iso[1]

    @property
    def order(self) -> tuple[date, int, str]:
        return self.day, self.num, self.name


@dataclass(frozen=True)
class Selection:
    """Names to keep and to drop, each newest first; every input name is in exactly one of them."""

    keep: tuple[str, ...]
    drop: tuple[str, ...]

    def as_dict(self) -> dict[str, list[str]]:
        return {"keep": list(self.keep), "drop": list(self.drop)}


def parse_backup_name(name: str) -> tuple[str, int]:
    """``"a012"`` -> ``("a", 12)``; a ValidationError for anything that is not a backup name."""
    match = BACKUP_NAME.match(name)
    if match is None:
        raise ValidationError(f"{name!r} is not a backup name such as b001 or a012.")
    return match.group("prefix"), int(match.group("num"))


def parse_day(value: str | date | datetime) -> date:
    """A UTC day from a datetime, a date, or Heroku's ``2026-11-25 14:18:17 +0000`` (or ISO 8601)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    text = value.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d"):
        try:
            return parse_day(datetime.strptime(text, fmt))
        except ValueError:
            continue
    try:
        return parse_day(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise ValidationError(f"Cannot read a date from {value!r}.") from None


def backup(name: str, taken: str | date | datetime, scheduled: bool | None = None) -> Backup:
    """A Backup from its name and when it was taken; scheduled defaults to an ``a`` prefix."""
    prefix, num = parse_backup_name(name)
    return Backup(name, num, prefix == SCHEDULED_PREFIX if scheduled is None else scheduled, parse_day(taken))


def from_transfer(transfer: Mapping[str, Any]) -> Backup:
    """A Backup from a transfer as heroku_pg_backup_info returns it (name, scheduled, created_at)."""
    name = transfer.get("name")
    taken = transfer.get("created_at") or transfer.get("started_at") or transfer.get("finished_at")
    if not isinstance(name, str) or not isinstance(taken, (str, date)):
        raise ValidationError(f"A backup needs a name and a created_at, got {dict(transfer)!r}.")
    scheduled = transfer.get("scheduled")
    return backup(name, taken, scheduled if isinstance(scheduled, bool) else None)


def offsite_filename(item: Backup) -> str:
    """``a012-2026-11-25.dump``: the backup's name and UTC day, what parse_offsite_filename reads."""
    return f"{item.name}-{item.day.isoformat()}.dump"


def parse_offsite_filename(filename: str) -> Backup | None:
    """The Backup a file name written by offsite_filename stands for; None for any other file."""
    match = OFFSITE_FILE.match(filename.rsplit("/", 1)[-1])
    if match is None:
        return None
    try:
        return backup(match.group("name"), match.group("day"))
    except ValidationError:
        return None


def _newest_first(items: Iterable[Backup]) -> list[Backup]:
    return sorted(items, key=lambda b: b.order, reverse=True)


def _scheduled_keep(scheduled: list[Backup], policy: Policy) -> set[Backup]:
    kept: set[Backup] = set()
    days: list[date] = []
    for item in scheduled:  # newest first
        if len(days) >= policy.daily:
            break
        if item.day not in days:
            days.append(item.day)
            kept.add(item)
    oldest_daily = days[-1] if days else None
    weeks: list[tuple[int, int]] = []
    for item in scheduled:
        if len(weeks) >= policy.weekly:
            break
        if oldest_daily is not None and item.day >= oldest_daily:
            continue  # the daily ones cover this span
        if item.week not in weeks:
            weeks.append(item.week)
            kept.add(item)
    return kept


def select(backups: Iterable[Backup], policy: Policy | None = None) -> Selection:
    """Apply ``policy`` (default: 7 daily, 5 weekly, 10 manual). Duplicate names count once."""
    policy = policy or Policy()
    unique: dict[str, Backup] = {}
    for item in backups:
        current = unique.get(item.name)
        if current is None or item.order > current.order:
            unique[item.name] = item
    ordered = _newest_first(unique.values())
    scheduled = [b for b in ordered if b.scheduled]
    manual = [b for b in ordered if not b.scheduled]
    kept = _scheduled_keep(scheduled, policy) | set(manual[: policy.manual])
    return Selection(
        keep=tuple(b.name for b in ordered if b in kept),
        drop=tuple(b.name for b in ordered if b not in kept),
    )
