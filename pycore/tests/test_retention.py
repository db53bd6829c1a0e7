"""The retention policy: which backups to keep (pure; no sandbox needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from herokupg.errors import ValidationError
from herokupg.retention import (
    Backup,
    Policy,
    backup,
    from_transfer,
    offsite_filename,
    parse_backup_name,
    parse_day,
    parse_offsite_filename,
    select,
)

START = date(2026, 1, 1)  # a Thursday


def daily_series(days: int, *, first_num: int = 1) -> list[Backup]:
    """One scheduled backup per day from START, numbered upwards."""
    return [backup(f"a{first_num + i:03d}", START + timedelta(days=i)) for i in range(days)]


def manual_series(count: int, day: date = START, *, first_num: int = 100) -> list[Backup]:
    return [backup(f"b{first_num + i:03d}", day) for i in range(count)]


def test_classic_policy_keeps_ten_newest_manual() -> None:
    selection = select(manual_series(13))
    assert selection.keep == tuple(f"b{n:03d}" for n in range(112, 102, -1))
    assert selection.drop == ("b102", "b101", "b100")


def test_manual_order_is_by_day_then_number() -> None:
    older_high = backup("b050", START)
    newer_low = backup("b010", START + timedelta(days=1))
    assert select([older_high, newer_low], Policy(manual=1)).keep == ("b010",)


def test_daily_then_weekly() -> None:
    items = daily_series(60)  # 2026-01-01 .. 2026-03-01, a001 .. a060
    selection = select(items, Policy(daily=7, weekly=5, manual=0))
    dailies = [f"a{n:03d}" for n in range(60, 53, -1)]  # 02-23 .. 03-01
    assert list(selection.keep[:7]) == dailies
    weekly = selection.keep[7:]
    assert len(weekly) == 5
    kept = {b.name: b for b in items if b.name in weekly}
    oldest_daily = START + timedelta(days=53)
    weeks = [kept[name].week for name in weekly]
    assert len(set(weeks)) == 5  # one per week
    assert all(kept[name].day < oldest_daily for name in weekly)
    for name in weekly:  # each is the newest of its week among the non-daily backups
        same_week = [b for b in items if b.week == kept[name].week and b.day < oldest_daily]
        assert max(same_week, key=lambda b: b.order).name == name
    assert len(selection.drop) == 60 - 12
    assert set(selection.keep).isdisjoint(selection.drop)


def test_daily_keeps_the_newest_of_a_day_only() -> None:
    items = [backup("a001", START), backup("a002", START), backup("a003", START + timedelta(days=1))]
    selection = select(items, Policy(daily=2, weekly=0, manual=0))
    assert selection.keep == ("a003", "a002")
    assert selection.drop == ("a001",)


def test_weekly_skips_weeks_with_only_daily_backups() -> None:
    # 2026-01-05 is a Monday; dailies on 01-10 and 01-11 (same week 2), older ones in weeks 1 and 2.
    items = [
        backup("a001", date(2025, 12, 30)),  # ISO week 2026-W01
        backup("a002", date(2026, 1, 6)),  # W02
        backup("a003", date(2026, 1, 10)),  # W02 (daily)
        backup("a004", date(2026, 1, 11)),  # W02 (daily)
    ]
    selection = select(items, Policy(daily=2, weekly=2, manual=0))
    assert selection.keep == ("a004", "a003", "a002", "a001")
    selection = select(items, Policy(daily=2, weekly=1, manual=0))
    assert selection.keep == ("a004", "a003", "a002")
    assert selection.drop == ("a001",)


def test_scheduled_and_manual_are_counted_apart() -> None:
    items = daily_series(3) + manual_series(3)
    selection = select(items, Policy(daily=1, weekly=0, manual=2))
    assert set(selection.keep) == {"a003", "b102", "b101"}
    assert set(selection.drop) == {"a001", "a002", "b100"}


def test_zero_keeps_nothing_and_empty_input() -> None:
    assert select(daily_series(3) + manual_series(2), Policy(0, 0, 0)).keep == ()
    assert select([]) == select([], Policy())
    assert select([]).as_dict() == {"keep": [], "drop": []}


def test_duplicates_count_once() -> None:
    items = manual_series(3) + manual_series(3)
    selection = select(items, Policy(manual=2))
    assert selection.keep == ("b102", "b101") and selection.drop == ("b100",)


@pytest.mark.parametrize("bad", [-1, True, 1.5, "3"])
def test_policy_rejects_bad_counts(bad: object) -> None:
    with pytest.raises(ValidationError):
        Policy(daily=bad)  # type: ignore[arg-type]


def test_names_and_days() -> None:
    assert parse_backup_name("a012") == ("a", 12)
    assert parse_backup_name("ob003") == ("ob", 3)
    with pytest.raises(ValidationError):
        parse_backup_name("r001x")
    assert parse_day("2026-11-25 23:30:00 -0500") == date(2026, 11, 26)  # UTC day
    assert parse_day("2026-11-25T01:00:00Z") == date(2026, 11, 25)
    assert parse_day(datetime(2026, 11, 25, 1, tzinfo=UTC)) == date(2026, 11, 25)
    with pytest.raises(ValidationError):
        parse_day("yesterday")


def test_transfers_and_offsite_names_round_trip() -> None:
    transfer = {"name": "a012", "scheduled": True, "created_at": "2026-11-25 14:18:16 +0000"}
    item = from_transfer(transfer)
    assert item == Backup("a012", 12, True, date(2026, 11, 25))
    name = offsite_filename(item)
    assert name == "a012-2026-11-25.dump"
    assert parse_offsite_filename("/srv/backups/" + name) == item
    assert parse_offsite_filename("notes.txt") is None
    assert parse_offsite_filename(".a012-2026-11-25.dump.part") is None
    manual = from_transfer({"name": "b003", "created_at": "2026-11-25 14:18:16 +0000"})
    assert manual.scheduled is False
    with pytest.raises(ValidationError):
        from_transfer({"name": "b003"})


def test_platform_and_offsite_copies_merge() -> None:
    """Files kept off-platform outlive the plan: a merged list keeps what the policy allows."""
    on_platform = daily_series(60)[-7:]  # the plan keeps only recent ones
    offsite = [parse_offsite_filename(offsite_filename(b)) for b in daily_series(60)]
    selection = select([*on_platform, *(b for b in offsite if b is not None)], Policy(7, 5, 10))
    assert len(selection.keep) == 12
    assert set(selection.keep[:7]) == {b.name for b in on_platform}
