"""ensure_schedule against the real sandbox: check mode predicts, idempotent on hour and timezone."""

from __future__ import annotations

import pytest
from backup_helpers import context, schedules
from herokupg_sandbox.threaded import RunningSandbox, seed_app, seed_database

from herokupg.errors import ValidationError
from herokupg.ops.schedules import ensure_schedule


@pytest.fixture
def shop(sandbox: RunningSandbox) -> RunningSandbox:
    seed_app(sandbox, "shop")
    seed_database(sandbox, "shop")
    return sandbox


def oracle(sb: RunningSandbox) -> list[tuple[str, int, str]]:
    return sorted((s["name"], s["hour"], s["timezone"]) for s in schedules(sb))


def test_create_then_rerun_unchanged(shop: RunningSandbox) -> None:
    checked = ensure_schedule(context(shop, check_mode=True), "shop", at="02:00 America/New_York")
    assert checked.changed and oracle(shop) == []
    [request] = checked.requests
    assert request.method == "POST"
    assert request.body == {"hour": "02", "timezone": "America/New_York", "schedule_name": "DATABASE_URL"}
    assert checked.before == {} and checked.after == {"hour": 2, "timezone": "America/New_York"}

    done = ensure_schedule(context(shop), "shop", at="02:00 America/New_York")
    assert done.changed and oracle(shop) == [("DATABASE_URL", 2, "America/New_York")]
    assert done.data["schedule"]["at"] == "02:00 America/New_York" and done.data["schedule"]["uuid"]

    for check_mode in (True, False):
        # EST is the CLI's abbreviation for America/New_York, and 2:00 is 02:00.
        again = ensure_schedule(context(shop, check_mode=check_mode), "shop", "DATABASE", at="2:00 EST")
        assert not again.changed and again.requests == []
    assert oracle(shop) == [("DATABASE_URL", 2, "America/New_York")]


@pytest.mark.parametrize("at", ["03:00 America/New_York", "02:00 UTC", "2:00"])
def test_changing_hour_or_timezone_updates(shop: RunningSandbox, at: str) -> None:
    ensure_schedule(context(shop), "shop", at="02:00 America/New_York")
    changed = ensure_schedule(context(shop), "shop", at=at)
    assert changed.changed
    assert changed.before == {"hour": 2, "timezone": "America/New_York"}
    [(name, hour, zone)] = oracle(shop)
    assert name == "DATABASE_URL"
    assert changed.after == {"hour": hour, "timezone": zone}
    assert (hour, zone) != (2, "America/New_York")
    assert (hour, zone) == (changed.data["schedule"]["hour"], changed.data["schedule"]["timezone"])


def test_absent_removes_only_this_database_schedule(shop: RunningSandbox) -> None:
    seed_database(shop, "shop", attachment="REPORTING")
    ensure_schedule(context(shop), "shop", at="01:00 UTC")
    ensure_schedule(context(shop), "shop", "REPORTING", at="04:00 Europe/Paris")
    assert len(oracle(shop)) == 2
    checked = ensure_schedule(context(shop, check_mode=True), "shop", "REPORTING", state="absent")
    assert checked.changed and len(oracle(shop)) == 2 and checked.requests[0].method == "DELETE"
    gone = ensure_schedule(context(shop), "shop", "REPORTING", state="absent")
    assert gone.changed and oracle(shop) == [("DATABASE_URL", 1, "UTC")]
    for check_mode in (True, False):
        again = ensure_schedule(context(shop, check_mode=check_mode), "shop", "REPORTING", state="absent")
        assert not again.changed
    assert oracle(shop) == [("DATABASE_URL", 1, "UTC")]


@pytest.mark.parametrize("at", ["25:00", "02:30", "2am", "02:00 Mars/Olympus", ""])
def test_bad_times_fail_before_any_request(shop: RunningSandbox, at: str) -> None:
    with pytest.raises(ValidationError):
        ensure_schedule(context(shop), "shop", at=at)
    assert oracle(shop) == []
