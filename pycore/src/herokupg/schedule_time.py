"""Parse a backup schedule time the way ``heroku pg:backups:schedule --at`` does.

Accepted: ``'[HOUR]:00 [TIMEZONE]'`` — an hour 0-23 (one or two digits) followed by ``:00``, then
optionally a space and a timezone. A few abbreviations map to IANA zones (as in the CLI); any
other value is used verbatim, and must be a zone Python's zoneinfo knows. Default is UTC.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from functools import cache

from herokupg.errors import ValidationError

FORMAT_HINT = "expected '[HOUR]:00 [TIMEZONE]', e.g. '02:00 UTC', '6:00 America/New_York' or '23:00 PST'"

_AT = re.compile(r"(0?\d|1\d|2[0-3]):00 ?(\S*)", re.ASCII)

# The CLI's table; the lookup is case-insensitive (it upper-cases the input).
TZ_ABBREVIATIONS: dict[str, str] = {
    "BST": "Europe/London",
    "CDT": "America/Chicago",
    "CEST": "Europe/Paris",
    "CET": "Europe/Paris",
    "CST": "America/Chicago",
    "EDT": "America/New_York",
    "EST": "America/New_York",
    "GMT": "Europe/London",
    "MDT": "America/Boise",
    "MST": "America/Boise",
    "PDT": "America/Los_Angeles",
    "PST": "America/Los_Angeles",
    "Z": "UTC",
}


@dataclass(frozen=True)
class ScheduleTime:
    hour: int
    timezone: str  # an IANA zone name

    @property
    def hour_text(self) -> str:
        """The hour as the API's ``hour`` field receives it (``"06"``)."""
        return f"{self.hour:02d}"

    def __str__(self) -> str:
        return f"{self.hour:02d}:00 {self.timezone}"


@cache
def _tz_database_available() -> bool:
    return bool(zoneinfo.available_timezones())


def _check_zone(name: str, at: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # Without any tz database installed we cannot judge; let the API decide.
        if not _tz_database_available():
            return
        raise ValidationError(
            f"Invalid schedule time {at!r}: unknown timezone {name!r}. Use an IANA zone name such as "
            f"'America/New_York' or 'Europe/Berlin', one of {', '.join(sorted(TZ_ABBREVIATIONS))}, "
            f"or leave it out for UTC ({FORMAT_HINT})."
        ) from None


def parse_schedule_time(at: str) -> ScheduleTime:
    """``"6:00 EST"`` → ``ScheduleTime(6, "America/New_York")``; raises ValidationError otherwise."""
    match = _AT.fullmatch(at)
    if not match:
        raise ValidationError(
            f"Invalid schedule time {at!r}: {FORMAT_HINT}. Only whole hours (HH:00, hour 0-23) are allowed."
        )
    hour, zone = match.groups()
    timezone = TZ_ABBREVIATIONS.get(zone.upper()) or zone or "UTC"
    _check_zone(timezone, at)
    return ScheduleTime(hour=int(hour), timezone=timezone)
