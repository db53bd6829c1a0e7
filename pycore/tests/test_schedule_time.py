"""`--at` parsing, as `heroku pg:backups:schedule` does it."""

from __future__ import annotations

import pytest

from herokupg.errors import ValidationError
from herokupg.schedule_time import ScheduleTime, parse_schedule_time


@pytest.mark.parametrize(
    ("at", "hour", "timezone"),
    [
        ("00:00", 0, "UTC"),
        ("0:00", 0, "UTC"),
        ("02:00", 2, "UTC"),
        ("2:00 UTC", 2, "UTC"),
        ("06:00 EST", 6, "America/New_York"),
        ("06:00 EDT", 6, "America/New_York"),
        ("23:00 PST", 23, "America/Los_Angeles"),
        ("23:00 PDT", 23, "America/Los_Angeles"),
        ("12:00 CST", 12, "America/Chicago"),
        ("12:00 CDT", 12, "America/Chicago"),
        ("12:00 MST", 12, "America/Boise"),
        ("12:00 MDT", 12, "America/Boise"),
        ("12:00 GMT", 12, "Europe/London"),
        ("12:00 BST", 12, "Europe/London"),
        ("12:00 CET", 12, "Europe/Paris"),
        ("12:00 CEST", 12, "Europe/Paris"),
        ("12:00 Z", 12, "UTC"),
        ("12:00 pst", 12, "America/Los_Angeles"),  # the CLI upper-cases before the lookup
        ("12:00Z", 12, "UTC"),  # the space is optional
        ("19:00 America/Sao_Paulo", 19, "America/Sao_Paulo"),
        ("9:00 Europe/Berlin", 9, "Europe/Berlin"),
        ("20:00 Etc/GMT+5", 20, "Etc/GMT+5"),
    ],
)
def test_parse(at: str, hour: int, timezone: str) -> None:
    assert parse_schedule_time(at) == ScheduleTime(hour=hour, timezone=timezone)


@pytest.mark.parametrize(
    "at",
    [
        "25:00",
        "24:00",
        "02:30",
        "2",
        "02",
        "2:00 PM",
        "02:00  UTC",
        " 02:00",
        "02:00 UTC extra",
        "",
        "noon",
        "\u0660\u0662:00",
    ],
)
def test_bad_format(at: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_schedule_time(at)
    assert "[HOUR]:00 [TIMEZONE]" in err.value.message
    assert repr(at) in err.value.message


@pytest.mark.parametrize("zone", ["Mars/Olympus", "garbage", "XYZ", "../../etc/passwd", "america/new_york"])
def test_unknown_timezone_named_in_error(zone: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_schedule_time(f"02:00 {zone}")
    assert f"unknown timezone {zone!r}" in err.value.message
    assert "America/New_York" in err.value.message  # says what would be accepted


def test_text_forms() -> None:
    parsed = parse_schedule_time("6:00 EST")
    assert parsed.hour_text == "06"
    assert str(parsed) == "06:00 America/New_York"
