"""make test-live: the read-only set, then (only when asked) the write set, against real Heroku."""

from __future__ import annotations

import pytest
from herokupg.ops.backup_info import backup_info
from herokupg.ops.backups import BackupRequest, capture_backup, delete_backup
from herokupg.ops.base import Context
from herokupg.ops.followers import ensure_follower
from herokupg.ops.info import database_info
from herokupg.ops.schedules import ensure_schedule, own_schedule
from herokupg.ops.settings import ensure_settings
from herokupg.ops.slow_queries import slow_query_report
from herokupg.resolve import resolve_database
from live_env import APP, DATABASE, FOLLOWER, context, skip_reason, writes

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=f"make test-live: {skip_reason()}")
STATES = {"completed", "failed", "running", "pending", "canceled"}


# -- read-only: nothing here changes the app --------------------------------------------------------
def test_info_reads_every_database(ctx: Context) -> None:
    databases = database_info(ctx, APP).data["databases"]
    assert databases, f"{APP} has no Heroku Postgres database"
    for db in databases:
        assert db["addon"] and db["plan"].startswith("heroku-postgresql:")
        if db["provisioned"]:
            assert db["status"], db


def test_backup_list_reads_every_transfer(ctx: Context) -> None:
    for t in backup_info(ctx, APP).data["transfers"]:
        assert t["state"] in STATES, t
        assert (t["succeeded"] is None) == (t["state"] in ("running", "pending")), t


def test_schedules_read_and_a_check_mode_rerun_is_unchanged(ctx: Context) -> None:
    db = resolve_database(ctx.reads, APP, DATABASE)
    schedule = own_schedule(ctx.api.schedules(db.addon_id), db)
    if schedule is None:
        pytest.skip(f"{db.config_var} on {APP} has no backup schedule to compare")
    at = f"{schedule.hour:02d}:00 {schedule.timezone}"
    result = ensure_schedule(context(check_mode=True), APP, DATABASE, at=at)
    assert not result.changed and result.requests == []


def test_settings_read_in_check_mode(ctx: Context) -> None:
    db = resolve_database(ctx.reads, APP, DATABASE)
    if db.is_essential:
        pytest.skip(f"{db.plan} has no Postgres settings to read")
    result = ensure_settings(context(check_mode=True), APP, {}, DATABASE)
    assert not result.changed and "log_min_duration_statement" in result.data["settings"]


def test_slow_queries_read(ctx: Context) -> None:
    result = slow_query_report(ctx, APP, lines=500, threshold_ms=0)
    summary = result.data["summary"]
    assert not result.changed and summary["lines"] >= summary["postgres_lines"]
    assert len(result.data["queries"]) == min(10, summary["fingerprints"])


# -- the write set: only with HEROKU_LIVE_WRITE (printed with its cost before the run) -------------
@pytest.mark.skipif(
    "backup" not in writes(), reason="the write set runs only with HEROKU_LIVE_WRITE=backup|all"
)
def test_a_backup_is_captured_signed_and_deleted(ctx: Context) -> None:
    result = capture_backup(ctx, BackupRequest(APP, DATABASE, url=True))
    backup = result.data["backup"]
    try:
        assert result.changed and backup["state"] == "completed", backup
        assert result.data["url"] == "********" and result.data["url_expires_at"]
    finally:
        deleted = delete_backup(context(), APP, backup["name"], confirm=APP)
        assert deleted.changed


@pytest.mark.skipif(
    "follower" not in writes(), reason="followers are created only with HEROKU_LIVE_WRITE=all"
)
def test_a_follower_is_created_waited_for_and_destroyed(ctx: Context) -> None:
    try:
        created = ensure_follower(ctx, APP, name=FOLLOWER, leader=DATABASE)
        assert created.changed and created.data["follower"]["following"] is not None
        rerun = ensure_follower(context(), APP, name=FOLLOWER, leader=DATABASE)
        assert not rerun.changed and rerun.requests == []
    finally:
        ensure_follower(context(), APP, name=FOLLOWER, leader=DATABASE, state="absent")
