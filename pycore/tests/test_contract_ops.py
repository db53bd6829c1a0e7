"""Operations replayed through recorded Heroku traffic: each reaches the right result on what real
Heroku sent (a capture running, then finished; a restore; a list with a running backup; a fork's
real body; HTML 404s; a 401), sending the requests the recordings answered."""

from __future__ import annotations

import pytest
from recorded_helpers import (  # noqa: F401
    CORPUS,
    FORK_DB,
    HOBBY_APP,
    HOBBY_DB,
    SOURCE_DB,
    STANDARD_APP,
    _keep_secret_registry,
    replayed,
)

from herokupg.errors import ConfirmationRequiredError, NotFoundError, UnauthorizedError
from herokupg.ops.backup_info import backup_info
from herokupg.ops.backups import BackupRequest, capture_backup
from herokupg.ops.followers import ensure_follower
from herokupg.ops.forks import ensure_fork
from herokupg.ops.info import database_info
from herokupg.ops.promote import promote
from herokupg.ops.restore import restore_backup
from herokupg.ops.schedules import ensure_schedule
from herokupg.ops.settings import ensure_settings
from herokupg.redact import MASK

HOBBY = ("hobby-app/01-get-addon-attachments", "database-hobby-2020/02-get-database")
STANDARD = (
    "standard-app/01-get-addon-attachments",
    "standard-app/03-get-database-source",
    "database-standard-fork-2020/01-get-database",
)


def test_capture_waits_through_a_recorded_run_and_signs_the_result() -> None:
    run = replayed(
        *HOBBY,
        "transfers-running-2020/01-get-transfers",
        "backup-wait-2020",
        "public-url-2020/02-post-public-url",
    )
    result = capture_backup(run.ctx, BackupRequest(HOBBY_APP, url=True))
    backup = result.data["backup"]
    assert result.changed
    assert (backup["name"], backup["state"], backup["succeeded"], backup["finished_at"]) == (
        "b1722",
        "completed",
        True,
        "2020-12-13 16:22:56 +0000",
    )
    assert result.data["url"] == MASK and result.data["url_expires_at"] == "2020-12-13 17:26:05 +0000"
    # It read the database, listed, captured once, polled until the recorded finish, then signed.
    routes = run.replay.routes_seen()
    assert routes.count("POST /client/v11/databases/{db}/backups") == 1
    assert routes.count("GET /client/v11/apps/{app}/transfers/{transfer}") == 15
    assert run.replay.left() == []
    assert run.replay.seen[1].path == f"/client/v11/databases/{HOBBY_DB}"
    # b1721 was running (succeeded null) when listed: it is not a failed backup
    assert "b1721" in result.before["backups"]


def test_a_running_capture_is_reported_running_without_waiting() -> None:
    run = replayed(
        *HOBBY, "transfers-running-2020/01-get-transfers", "backup-wait-2020/01-post-backups-201", wait=False
    )
    result = capture_backup(run.ctx, BackupRequest(HOBBY_APP))
    assert result.data["backup"]["state"] == "pending" and result.data["backup"]["succeeded"] is None
    assert run.sleeps == []


def test_max_age_waits_for_the_recorded_running_backup_instead_of_capturing() -> None:
    # b1721 started 16:22:40 and was running when listed: within max_age it is waited for.
    from datetime import UTC, datetime

    run = replayed(
        *HOBBY,
        "transfers-running-2020/01-get-transfers",
        "transfers-running-2020/02-get-transfer-running",
        "backup-wait-2020/16-get-transfer-finished",
    )
    now = datetime(2020, 12, 13, 16, 22, 46, tzinfo=UTC)
    result = capture_backup(run.ctx, BackupRequest(HOBBY_APP, max_age="1h", now=now))
    assert not result.changed and result.requests == []
    assert "POST /client/v11/databases/{db}/backups" not in run.replay.routes_seen()
    assert result.data["backup"]["state"] == "completed"


def test_backup_info_lists_a_running_transfer_as_running() -> None:
    run = replayed("transfers-running-2020/01-get-transfers")
    result = backup_info(run.ctx, HOBBY_APP)
    by_name = {t["name"]: t for t in result.data["transfers"]}
    assert by_name["b1721"]["state"] == "running" and by_name["b1721"]["succeeded"] is None
    assert by_name["b1721"]["status"] == "Running (processed 0.00B)"
    assert by_name["r1719"]["state"] == "failed"
    assert [t["name"] for t in result.data["transfers"]][:2] == ["b1721", "r1720"]


def test_backup_info_filters_never_count_a_running_backup_as_failed() -> None:
    failed = backup_info(replayed("transfers-running-2020/01-get-transfers").ctx, HOBBY_APP, succeeded=False)
    assert {t["name"] for t in failed.data["transfers"]} == {"r1719", "r1718", "r1717"}
    done = backup_info(
        replayed("transfers-running-2020/01-get-transfers").ctx,
        HOBBY_APP,
        kind="backup",
        succeeded=True,
        latest=True,
    )
    assert [t["name"] for t in done.data["transfers"]] == ["b1716"]


def test_restore_from_a_url_waits_through_the_recorded_run() -> None:
    source = "https://s3.eu-central-1.amazonaws.com/coorasse-public/2018-06-23.dump"
    run = replayed(
        "hobby-app/01-get-addon-attachments",
        "hobby-app/02-get-config-vars",
        "transfers-running-2020/01-get-transfers",
        "restore-2020",
    )
    result = restore_backup(run.ctx, HOBBY_APP, backup=source, confirm=HOBBY_APP)
    restore = result.data["restore"]
    assert result.changed
    assert (restore["name"], restore["kind"], restore["state"], restore["succeeded"]) == (
        "r1723",
        "restore",
        "completed",
        True,
    )
    [post] = [s for s in run.replay.seen if s.method == "POST"]
    assert post.path == f"/client/v11/databases/{HOBBY_DB}/restores" and post.body == {"backup_url": source}
    assert run.replay.left() == []


def test_info_reads_a_fork_and_names_its_source() -> None:
    run = replayed(*STANDARD)
    [source, fork] = database_info(run.ctx, STANDARD_APP).data["databases"]
    assert (source["addon"], source["forked_from"], source["forks"]) == (
        "postgresql-source-00000",
        None,
        ["HEROKU_POSTGRESQL_NAVY"],
    )
    assert fork["addon"] == "postgresql-defined-53666" and fork["forked_from"] == "DATABASE"
    assert fork["tables"] == 48 and fork["info"]["Tables"] == ["48"]
    assert fork["info"]["Maintenance"] == ["not required"] and "Following" not in fork["info"]
    assert (fork["status"], fork["following"], fork["behind_by"]) == ("Available", None, None)


def test_info_of_a_fork_whose_source_is_gone_names_it_by_id() -> None:
    run = replayed(
        "standard-app/01-get-addon-attachments",
        "database-standard-fork-2020/01-get-database",
        "standard-app/02-get-config-vars",
    )
    [fork] = database_info(run.ctx, STANDARD_APP, "HEROKU_POSTGRESQL_NAVY").data["databases"]
    assert fork["forked_from"] == "DATABASE"
    alone = replayed("database-standard-fork-2020/01-get-database")
    info = alone.ctx.reads.database(FORK_DB)
    assert info is not None and info.forked_from_id == SOURCE_DB


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_fork_rerun_on_the_real_fork_body_changes_nothing(check_mode: bool) -> None:
    run = replayed(*STANDARD, check_mode=check_mode)
    result = ensure_fork(run.ctx, STANDARD_APP, name="HEROKU_POSTGRESQL_NAVY", source="DATABASE_URL")
    assert not result.changed and result.requests == []
    fork = result.data["fork"]
    assert fork["addon"] == "postgresql-defined-53666" and fork["forked_from"] == "DATABASE"
    assert all(s.method == "GET" for s in run.replay.seen)


def test_schedules_as_recorded_are_unchanged_at_their_hour() -> None:
    run = replayed(*HOBBY, "schedules-2020/01-get-transfer-schedules")
    result = ensure_schedule(run.ctx, HOBBY_APP, at="00:00 UTC")
    assert not result.changed
    assert result.data["schedule"]["name"] == "DATABASE_URL" and result.data["schedule"]["at"] == "00:00 UTC"


def test_a_new_schedule_reports_what_heroku_stored() -> None:
    run = replayed(
        *HOBBY, "schedules-2020/01-get-transfer-schedules", "schedules-2020/02-post-transfer-schedules-201"
    )
    result = ensure_schedule(run.ctx, HOBBY_APP, at="1:00 Asia/Tokyo")
    assert result.changed
    assert (result.data["schedule"]["hour"], result.data["schedule"]["timezone"]) == (1, "Asia/Tokyo")
    [post] = [s for s in run.replay.seen if s.method == "POST"]
    assert post.body == {"hour": "01", "timezone": "Asia/Tokyo", "schedule_name": "DATABASE_URL"}


def test_an_html_404_is_a_not_found_error_naming_the_database() -> None:
    run = replayed("not-found-html-2020/02-get-transfer-schedules-404")
    with pytest.raises(NotFoundError) as info:
        run.ctx.api.schedules("whaaaat")
    assert info.value.status == 404 and info.value.resource == "database"
    assert "Heroku has no database whaaaat" in info.value.message
    run = replayed("not-found-html-2020/01-get-database-404")
    assert run.ctx.reads.database("whaaaat") is None  # as the CLI: not (yet) there


def test_a_recorded_401_is_an_unauthorized_error_with_heroku_s_message() -> None:
    run = replayed("hobby-app/01-get-addon-attachments", "unauthorized-2025/02-get-database-401")
    with pytest.raises(UnauthorizedError) as info:
        database_info(run.ctx, HOBBY_APP)
    assert info.value.message == "Invalid credentials provided." and info.value.error_id == "unauthorized"
    assert info.value.request_id == "fc995bc5-7060-4c2e-8f61-74c6e5cf432f"


def test_the_corpus_capture_answers_are_what_capture_reads() -> None:
    # Both recorded 201s (hobby 2018, standard 2020) are pending transfers the capture can wait on.
    for name in (
        "backup-capture-hobby-2018/02-post-backups-201",
        "backup-capture-standard-2020/02-post-backups-201",
    ):
        run = replayed(*HOBBY, "transfers-running-2020/01-get-transfers", name, wait=False)
        backup = capture_backup(run.ctx, BackupRequest(HOBBY_APP)).data["backup"]
        assert backup["state"] == "pending" and backup["succeeded"] is None, name
    assert CORPUS["backup-capture-standard-2020/02-post-backups-201"].body["from_name"] == "NAVY"


FOLLOWER_PROVISIONING = (
    "follower-standard/02-get-addon-provisioning",
    "follower-standard/03-get-addon-provisioned",
    "follower-standard/04-get-database-404",
    "follower-standard/05-get-database-following",
    "follower-standard/06-get-wait-status",
    "follower-standard/07-get-addon-attachments",
    "database-standard-fork-2020/01-get-database",
)


def test_a_follower_is_waited_for_from_provisioning_to_available() -> None:
    # The fork (NAVY) is read to see whether it follows; the new follower answers 404 (HTML) until
    # its database exists, then follows DATABASE, caught up.
    run = replayed(
        "standard-app/01-get-addon-attachments",
        "standard-app/03-get-database-source",
        "database-standard-fork-2020/01-get-database",
        "follower-standard/01-post-addons-201",
        *FOLLOWER_PROVISIONING,
        repeat=["follower-standard/03-get-addon-provisioned"],
    )
    result = ensure_follower(run.ctx, STANDARD_APP, name="REPORTING")
    follower = result.data["follower"]
    assert result.changed
    assert (follower["addon"], follower["following"], follower["status"]) == (
        "postgresql-follower-00010",
        "DATABASE",
        "Available",
    )
    assert result.data["lag"] == 0
    polls = [s.route for s in run.replay.seen].count("GET /apps/{app}/addons/{addon}")
    assert polls == 3 and len(run.sleeps) == 2  # provisioning, provisioned (404), ready
    assert run.replay.left() == []


def test_a_follower_heroku_asks_to_confirm_is_created_with_confirm() -> None:
    run = replayed(
        "standard-app/01-get-addon-attachments",
        "standard-app/03-get-database-source",
        "database-standard-fork-2020/01-get-database",
        "follower-standard/08-post-addons-423",
        "standard-app/01-get-addon-attachments",  # nobody attached REPORTING meanwhile
        "follower-standard/01-post-addons-201",
        *FOLLOWER_PROVISIONING,
        repeat=["follower-standard/03-get-addon-provisioned"],
    )
    result = ensure_follower(run.ctx, STANDARD_APP, name="REPORTING", confirm=STANDARD_APP)
    posts = [s.body for s in run.replay.seen if s.method == "POST"]
    assert [p.get("confirm") for p in posts] == [None, STANDARD_APP]
    assert result.data["follower"]["following"] == "DATABASE" and result.warnings == []


def test_without_confirm_the_423_is_reported_with_what_to_do() -> None:
    run = replayed(
        "standard-app/01-get-addon-attachments",
        "standard-app/03-get-database-source",
        "database-standard-fork-2020/01-get-database",
        "follower-standard/08-post-addons-423",
        "standard-app/01-get-addon-attachments",
    )
    with pytest.raises(ConfirmationRequiredError) as info:
        ensure_follower(run.ctx, STANDARD_APP, name="REPORTING")
    assert f"Set confirm: {STANDARD_APP} to create it. Nothing was created." in info.value.message
    assert "Private Space" in info.value.message and info.value.status == 423
    assert not run.ctx.wrote


def test_promote_moves_database_to_the_fork() -> None:
    run = replayed(
        "standard-app/01-get-addon-attachments",
        "database-standard-fork-2020/01-get-database",
        "standard-app/03-get-database-source",  # the primary's URL, for the promotion guard
        "follower-standard/06-get-wait-status",
        "standard-app/01-get-addon-attachments",  # the guard's re-read: nobody promoted meanwhile
        "promote-standard/01-post-addon-attachments-alias",
        "promote-standard/02-post-addon-attachments-database",
        "promote-standard/03-get-formation",
        "promote-standard/05-get-config-vars",
        "promote-standard/04-get-addon-attachments",
        "database-standard-fork-2020/01-get-database",
    )
    result = promote(
        run.ctx, STANDARD_APP, "HEROKU_POSTGRESQL_NAVY", confirm=STANDARD_APP, allow_non_follower=True
    )
    assert result.changed
    assert result.data["previous"] == {
        "addon": "postgresql-source-00000",
        "alias": "HEROKU_POSTGRESQL_SILVER",
    }
    assert result.data["database"]["addon"] == "postgresql-defined-53666"
    assert result.data["database"]["attachments"] == ["DATABASE", "HEROKU_POSTGRESQL_NAVY"]
    # A fork is no follower: nothing to unfollow.
    assert "PUT /client/v11/databases/{db}/unfollow" not in run.replay.routes_seen()
    assert run.replay.left() == []


def test_settings_read_and_change() -> None:
    run = replayed(
        "standard-app/01-get-addon-attachments", "other-routes/01-get-config", "other-routes/02-patch-config"
    )
    result = ensure_settings(run.ctx, STANDARD_APP, {"log_min_duration_statement": 50})
    assert result.changed and result.before == {"log_min_duration_statement": 2000}
    assert result.after == {"log_min_duration_statement": 50}
    [patch] = [s for s in run.replay.seen if s.method == "PATCH"]
    assert patch.path == f"/postgres/v0/databases/{SOURCE_DB}/config"
