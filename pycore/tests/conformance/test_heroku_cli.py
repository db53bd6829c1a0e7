"""The official Heroku CLI against the sandbox: one app's life, in order, as a user would run it.

The tests share one sandbox and one app (``World``) and must run in file order: create the app
and its primary, add a follower and a fork, take and restore backups, promote and unfollow, set
a Postgres setting and read the Postgres logs; then error paths and an audit of every request
the CLI made. Each command must exit as it does against Heroku and print what Heroku's would;
the sandbox's admin state (``/_sandbox/state``) confirms the effect.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from heroku_cli import CliResult, Conformance

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.ops.base import Context
from herokupg.ops.maintenance import ensure_maintenance

APP = "cli-conformance"
ADDON_NAME = r"postgresql-[a-z]+-\d+"
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000"  # transfer times, as the Data API gives them


@dataclass
class World:
    """What earlier steps created, for later ones."""

    primary: str = ""  # add-on names
    primary_id: str = ""
    follower: str = ""
    follower_id: str = ""
    follower_attachment: str = ""  # e.g. HEROKU_POSTGRESQL_BLUE
    fork: str = ""
    fork_attachment: str = ""
    backup_bytes: int = 0
    notes: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def world() -> World:
    return World()


# -- helpers -------------------------------------------------------------------------------------
def sections(stdout: str) -> dict[str, dict[str, str]]:
    """``=== HEADER`` blocks of ``Key: value`` lines (pg:info, pg:backups:info) as dicts."""
    result: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in stdout.splitlines():
        if line.startswith("=== "):
            current = result.setdefault(line[4:].strip(), {})
        elif current is not None and re.match(r"^[A-Z][\w /-]*:\s", line):
            key, _, value = line.partition(":")
            current[key.strip()] = value.strip()
    return result


def addon_by_name(c: Conformance, name: str) -> dict[str, Any]:
    addons = [a for a in c.state()["addons"].values() if a["name"] == name]
    assert len(addons) == 1, f"no single add-on called {name}"
    addon: dict[str, Any] = addons[0]
    return addon


def attachments(c: Conformance) -> dict[str, str]:
    """Attachment name -> add-on id, for APP."""
    state = c.state()
    app_id = next(a["id"] for a in state["apps"].values() if a["name"] == APP)
    return {a["name"]: a["addon_id"] for a in state["attachments"].values() if a["app_id"] == app_id}


def config_vars(c: Conformance) -> dict[str, str]:
    with c.sandbox.http() as http:
        response = http.get(f"/apps/{APP}/config-vars")
        assert response.status_code == 200, response.text
        body: dict[str, str] = response.json()
        return body


def wait_for_request(c: Conformance, mark: int, path: str, timeout: float = 30.0) -> None:
    """Block until the CLI has requested ``path`` (recorded since ``mark``)."""
    deadline = time.monotonic() + timeout
    while not any(hit.path == path for hit in c.recorder.since(mark)):
        assert time.monotonic() < deadline, f"the CLI never requested {path}"
        time.sleep(0.05)


def created_name(result: CliResult) -> tuple[str, str]:
    """(add-on name, config var) from addons:create's "Created <name> as <VAR>" line."""
    match = re.search(rf"Created ({ADDON_NAME}) as ([A-Z_]+_URL)", result.text)
    assert match, result.describe()
    return match[1], match[2]


# -- 1. the app and its primary ------------------------------------------------------------------
def test_apps_create_and_primary_database(conformance: Conformance, world: World) -> None:
    heroku = conformance.heroku
    created = heroku.run("apps:create", APP)
    assert f"Creating {APP}... done" in created.text
    assert re.search(rf"^https://{APP}-[0-9a-f-]+\.herokuapp\.com/ \| \S+/{APP}\.git$", created.stdout, re.M)
    assert [a["name"] for a in conformance.state()["apps"].values()] == [APP]

    result = heroku.run("addons:create", "heroku-postgresql:standard-0", "-a", APP)
    assert f"Creating heroku-postgresql:standard-0 on {APP}... ~$0.069/hour (max $50/month)" in result.text
    world.primary, var = created_name(result)
    assert var == "DATABASE_URL"
    assert "Run heroku addons:docs heroku-postgresql to view documentation." in result.text
    addon = addon_by_name(conformance, world.primary)
    world.primary_id = addon["id"]
    assert addon["state"] == "provisioned" and addon["plan"] == "heroku-postgresql:standard-0"
    assert attachments(conformance) == {"DATABASE": world.primary_id}

    info = heroku.run("pg:info", "-a", APP)
    shown = sections(info.stdout)
    assert list(shown) == ["DATABASE_URL"], info.describe()
    db = shown["DATABASE_URL"]
    assert db["Plan"] == "Standard 0" and db["Status"] == "Available"
    assert db["Fork/Follow"] == "Available" and db["Continuous Protection"] == "On"
    assert db["Add-on"] == world.primary and db["Tables"] == "0"
    assert re.fullmatch(r"\d+(\.\d+)? (bytes|kB|MB)", db["Data Size"]), db  # as recorded: "5.72 GB"
    assert db["Maintenance window"] == "Sundays 22:30 to Mondays 02:30 UTC"
    assert db["Connection Pooling"] == "Available"
    assert re.fullmatch(r"1[5-7]\.\d+", db["PG Version"]) and db["Connections"] == "0/120"
    assert re.fullmatch(r"earliest from \d{4}-\d\d-\d\d \d\d:\d\d UTC", db["Rollback"]), db
    assert "Following" not in db and "Followers" not in db


# -- 2. a follower: created in the background, waited for ---------------------------------------
def test_follower_is_created_in_the_background_and_pg_wait_waits(
    conformance: Conformance, world: World
) -> None:
    heroku = conformance.heroku
    conformance.admin("PATCH", "settings", json={"provision_delay": 3600})
    try:
        result = heroku.run(
            "addons:create", "heroku-postgresql:standard-0", "-a", APP, "--", "--follow", "DATABASE_URL"
        )
    finally:
        conformance.admin("PATCH", "settings", json={"provision_delay": 0})
    background = rf"({ADDON_NAME}) is being created in the background\. The app will restart"
    match = re.search(background, result.text)
    assert match, result.describe()
    world.follower = match[1]
    assert f"Run heroku addons:info {world.follower} to check creation progress." in result.text
    addon = addon_by_name(conformance, world.follower)
    world.follower_id = addon["id"]
    assert addon["state"] == "provisioning" and addon["db"]["leader_id"] == world.primary_id
    world.follower_attachment = next(n for n, i in attachments(conformance).items() if i == world.follower_id)
    assert re.fullmatch(r"HEROKU_POSTGRESQL_[A-Z]+", world.follower_attachment)
    # as on Heroku: no config var for a database that is still provisioning
    assert f"{world.follower_attachment}_URL" not in config_vars(conformance)

    info = heroku.run("pg:info", "-a", APP)
    assert (
        f"Warning: {world.follower} is not yet provisioned. "
        "Run heroku addons:wait to wait until the db is provisioned."
    ) in info.text
    assert list(sections(info.stdout)) == ["DATABASE_URL"]

    # pg:wait polls; once it has seen the follower still preparing, time moves past provisioning
    mark = conformance.recorder.mark()
    waiting = heroku.popen("pg:wait", "-a", APP, "--wait-interval", "1")
    try:
        wait_for_request(conformance, mark, f"/client/v11/databases/{world.follower_id}/wait_status")
        conformance.admin("POST", "clock/advance", json={"seconds": 3601})
        stdout, stderr = waiting.communicate(timeout=60)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.communicate()
    assert waiting.returncode == 0, stdout + stderr
    assert f"Waiting for database {world.follower}... preparing" in stderr
    assert f"Waiting for database {world.follower}... available" in stderr
    assert addon_by_name(conformance, world.follower)["state"] == "provisioned"
    assert config_vars(conformance)[f"{world.follower_attachment}_URL"].startswith("postgres://")


# -- 3. a fork, then pg:info showing the whole family --------------------------------------------
def test_fork_and_pg_info_shows_followers_and_forks(conformance: Conformance, world: World) -> None:
    heroku = conformance.heroku
    conformance.admin("POST", f"databases/{world.primary_id}/writes", json={"table": "items", "rows": [
        {"n": 1}, {"n": 2},
    ]})
    result = heroku.run(
        "addons:create", "heroku-postgresql:standard-0", "-a", APP, "--", "--fork", "DATABASE_URL"
    )
    world.fork, var = created_name(result)
    world.fork_attachment = var.removesuffix("_URL")
    fork = addon_by_name(conformance, world.fork)
    assert fork["db"]["forked_from_id"] == world.primary_id and fork["db"]["leader_id"] is None

    info = heroku.run("pg:info", "-a", APP)
    shown = sections(info.stdout)
    assert next(iter(shown)) == "DATABASE_URL" and len(shown) == 3, info.describe()
    leader = shown["DATABASE_URL"]
    assert leader["Followers"] == world.follower_attachment
    assert leader["Forks"] == world.fork_attachment
    assert leader["Tables"] == "1"
    follower = shown[f"{world.follower_attachment}_URL"]
    assert follower["Following"] == "DATABASE" and follower["Behind By"] == "0 commits"
    assert follower["Fork/Follow"] == "Unavailable" and follower["Add-on"] == world.follower
    assert follower["Tables"] == "1"  # replicated the leader's write
    forked = shown[f"{world.fork_attachment}_URL"]
    # Real Heroku names a fork's source in the top-level forked_from only (no Forked From row to show).
    assert "Forked From" not in forked and forked["Add-on"] == world.fork
    assert forked["Fork/Follow"] == "Temporarily Unavailable" and forked["Tables"] == "1"


# -- 4. backups: capture, list, info, url, schedule, restore -------------------------------------
def test_backups_capture_list_info_and_url(conformance: Conformance, world: World) -> None:
    heroku = conformance.heroku
    capture = heroku.run("pg:backups:capture", "-a", APP)
    assert f"Starting backup of {world.primary}... done" in capture.text
    assert "Backing up DATABASE to b001... done" in capture.text
    transfers = list(conformance.state()["transfers"].values())
    assert len(transfers) == 1 and transfers[0]["succeeded"] and transfers[0]["num"] == 1
    world.backup_bytes = transfers[0]["processed_bytes"]
    assert world.backup_bytes > 0

    listing = heroku.run("pg:backups", "-a", APP)
    assert re.search(
        rf"^\s*b001\s+({STAMP})\s+Completed {STAMP}\s+\d+(\.\d+)?B\s+DATABASE\s*$", listing.stdout, re.M
    ), listing.describe()
    assert "=== Restores" in listing.stdout and "No restores found." in listing.stdout

    info = heroku.run("pg:backups:info", "b001", "-a", APP)
    backup = sections(info.stdout)["Backup b001"]
    assert backup["Database"] == "DATABASE" and backup["Status"] == "Completed"
    assert backup["Type"] == "Manual" and re.fullmatch(STAMP, backup["Finished at"])
    assert re.fullmatch(r"\d+(\.\d+)?B \(\d+% compression\)", backup["Backup Size"]), backup
    assert re.search(rf"^{STAMP} Transfer completed$", info.stdout, re.M), info.describe()

    url = heroku.run("pg:backups:url", "b001", "-a", APP).stdout.strip()
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.hostname == "127.0.0.1", url
    assert conformance.sandbox.token not in url and "signature=" in parts.query
    download = httpx.get(url, timeout=30)  # no auth header, as the CLI's download does
    assert download.status_code == 200 and len(download.content) == world.backup_bytes


def test_backup_schedule_and_restore(conformance: Conformance, world: World) -> None:
    heroku = conformance.heroku
    scheduled = heroku.run(
        "pg:backups:schedule", "DATABASE_URL", "--at", "02:00 America/New_York", "-a", APP
    )
    assert (
        f"Scheduling automatic daily backups of {world.primary} at 02:00 America/New_York... done"
        in scheduled.text
    )
    schedules = list(conformance.state()["schedules"].values())
    assert [(s["name"], s["hour"], s["timezone"], s["addon_id"]) for s in schedules] == [
        ("DATABASE_URL", 2, "America/New_York", world.primary_id)
    ]
    listed = heroku.run("pg:backups:schedules", "-a", APP)
    assert "=== Backup Schedules" in listed.stdout
    schedule_line = r"^DATABASE_URL: daily at 2:00 America/New_York$"
    assert re.search(schedule_line, listed.stdout, re.M), listed.describe()

    later = {"table": "items", "rows": [{"n": 3}]}
    conformance.admin("POST", f"databases/{world.primary_id}/writes", json=later)
    restore = heroku.run("pg:backups:restore", "b001", "DATABASE_URL", "--confirm", APP, "-a", APP)
    assert f"Starting restore of b001 to {world.primary}... done" in restore.text
    assert "Restoring... done" in restore.text
    data = conformance.admin("GET", f"databases/{world.primary_id}/data")
    assert data["tables"] == {"items": [{"n": 1}, {"n": 2}]}  # the captured rows, not the later one
    restores = [t for t in conformance.state()["transfers"].values() if t["to_type"] == "pg_restore"]
    assert len(restores) == 1 and restores[0]["succeeded"] and restores[0]["addon_id"] == world.primary_id


# -- 5. promote the follower, then unfollow it ---------------------------------------------------
def test_promote_then_unfollow(conformance: Conformance, world: World) -> None:
    heroku = conformance.heroku
    promoted = heroku.run("pg:promote", world.follower_attachment, "-a", APP)
    text = promoted.text
    alias = re.search(
        r"Ensuring an alternate alias for existing DATABASE_URL\.\.\. (HEROKU_POSTGRESQL_[A-Z]+)_URL", text
    )
    assert alias, promoted.describe()
    assert f"Promoting {world.follower} to DATABASE_URL on {APP}... done" in text
    # the warning names the leader: its add-on name, never "[object Object]"
    assert f"replicating from its leader ({world.primary}) and convert it into a writable database" in text
    assert "[object Object]" not in text
    atts = attachments(conformance)
    assert atts["DATABASE"] == world.follower_id and atts[alias[1]] == world.primary_id
    assert addon_by_name(conformance, world.follower)["db"]["leader_id"] == world.primary_id  # not unfollowed

    unfollowed = heroku.run("pg:unfollow", world.follower_attachment, "--confirm", APP, "-a", APP)
    assert f"{world.follower} unfollowing... done" in unfollowed.text
    db = addon_by_name(conformance, world.follower)["db"]
    assert db["leader_id"] is None and db["unfollowed_at"] is not None


# -- 6. pg:settings and the Postgres log ---------------------------------------------------------
def test_log_min_duration_statement_and_postgres_logs(conformance: Conformance, world: World) -> None:
    heroku = conformance.heroku
    # The first positional argument is the database, as on Heroku: "50" alone names a database.
    wrong = heroku.run("pg:settings:log-min-duration-statement", "50", "-a", APP, expect=1)
    assert "Unknown database: 50. Valid options are:" in wrong.text and "DATABASE" in wrong.text

    result = heroku.run("pg:settings:log-min-duration-statement", "DATABASE_URL", "50", "-a", APP)
    assert f"log-min-duration-statement has been set to 50 for {world.follower}." in result.stdout
    assert (
        "The duration of each completed statement will be logged if the statement ran for at least "
        "50 milliseconds." in result.stdout
    )
    assert addon_by_name(conformance, world.follower)["db"]["settings"]["log_min_duration_statement"] == 50

    def statement(sql: str, ms: float) -> bool:
        body = conformance.admin(
            "POST", f"databases/{world.follower_id}/statements", json={"sql": sql, "duration_ms": ms}
        )
        return bool(body["logged"])

    assert statement("SELECT n FROM items ORDER BY n", 123.4) is True
    assert statement("SELECT 1", 12.0) is False  # under the 50 ms threshold

    logs = heroku.run("logs", "-p", "postgres", "-a", APP)
    lines = [line for line in logs.stdout.splitlines() if line.strip()]
    slow = [line for line in lines if "duration:" in line]
    assert len(slow) == 1, logs.describe()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00 app\[postgres\.\d+\]: \[DATABASE\] \[\d+-1\]  "
        r"sql_error_code = 00000 LOG:  duration: 123\.400 ms  statement: SELECT n FROM items ORDER BY n",
        slow[0],
    ), slow[0]
    assert not any("SELECT 1" in line for line in lines)


# -- 7. cleaning up: unschedule, delete the backup, destroy the fork ----------------------------
def test_unschedule_delete_backup_and_destroy_fork(conformance: Conformance, world: World) -> None:
    heroku = conformance.heroku
    unscheduled = heroku.run("pg:backups:unschedule", "DATABASE_URL", "-a", APP)
    assert "Unscheduling DATABASE_URL daily backups... done" in unscheduled.text
    assert conformance.state()["schedules"] == {}

    url = heroku.run("pg:backups:url", "b001", "-a", APP).stdout.strip()
    deleted = heroku.run("pg:backups:delete", "b001", "--confirm", APP, "-a", APP)
    assert f"Deleting backup b001 on {APP}... done" in deleted.text
    backup = next(t for t in conformance.state()["transfers"].values() if t["num"] == 1)
    assert backup["deleted_at"] is not None
    assert httpx.get(url, timeout=30).status_code == 404  # the dump went with it

    destroyed = heroku.run("addons:destroy", world.fork, "--confirm", APP, "-a", APP)
    assert f"Destroying {world.fork} on {APP}... done" in destroyed.text
    assert world.fork_attachment not in attachments(conformance)
    assert f"{world.fork_attachment}_URL" not in config_vars(conformance)


# -- 7b. maintenance mode: the CLI and herokupg's operation see and set the same flag -------------
def test_maintenance_mode_by_the_cli_and_by_ensure_maintenance(conformance: Conformance) -> None:
    heroku = conformance.heroku

    def flag() -> bool:
        on: bool = next(a for a in conformance.state()["apps"].values() if a["name"] == APP)["maintenance"]
        return on

    assert heroku.run("maintenance", "-a", APP).stdout.strip() == "off"
    heroku.run("maintenance:on", "-a", APP)
    assert flag() and heroku.run("maintenance", "-a", APP).stdout.strip() == "on"
    sb = conformance.sandbox
    with HerokuClient(sb.token, api_url=sb.url, env={}, retries=0) as client:
        api = HerokuAPI(client)
        assert not ensure_maintenance(Context(api=api), APP, enabled=True).changed
        assert ensure_maintenance(Context(api=api), APP, enabled=False).changed
    assert not flag() and heroku.run("maintenance", "-a", APP).stdout.strip() == "off"


# -- 8. error paths ------------------------------------------------------------------------------
def test_error_paths_print_herokus_messages(conformance: Conformance, world: World) -> None:
    heroku = conformance.heroku
    missing = heroku.run("pg:info", "-a", "no-such-app-here", expect=2)
    assert "Error: Couldn't find that app." in missing.text and "Error ID: not_found" in missing.text

    before = len(conformance.state()["addons"])
    refused = heroku.run(
        "addons:create", "heroku-postgresql:essential-0", "-a", APP, "--", "--follow", "DATABASE_URL",
        expect=2,
    )
    assert "Creating heroku-postgresql:essential-0 on cli-conformance... !" in refused.text
    assert (
        "Error: We tried to create heroku-postgresql:essential-0, but received an error from the "
        "add-on provider. Follow is only available on Standard, Premium, Private and Shield tier "
        "databases" in refused.text
    ), refused.describe()
    assert "Error ID: addon_error" in refused.text
    assert len(conformance.state()["addons"]) == before

    unknown = heroku.run("pg:info", "NOPE", "-a", APP, expect=1)
    match = re.search(r"Error: Unknown database: NOPE\. Valid options are: ([A-Z_, ]+)", unknown.text)
    assert match, unknown.describe()
    options = {o.strip() for o in match[1].split(",")}
    assert {"DATABASE", world.follower_attachment} <= options and world.fork_attachment not in options


# -- 9. every request the CLI made was one the sandbox knows --------------------------------------
def test_the_cli_used_only_endpoints_the_sandbox_serves(conformance: Conformance) -> None:
    hits = conformance.recorder.since(0)
    assert len(hits) > 50
    unrouted = [h for h in hits if h.message.startswith("The requested API endpoint was not found")]
    assert unrouted == []
    assert [h for h in hits if h.status >= 500] == []
    assert [h for h in hits if h.status == 401] == []
    # the Data API came through HEROKU_DATA_HOST on the same port, and the log stream too
    paths = {h.path for h in hits}
    assert any(p.startswith("/client/v11/databases/") for p in paths)
    assert any(p.startswith("/postgres/v0/databases/") for p in paths)
    assert any(re.fullmatch(rf"/apps/{APP}/log-sessions", p) for p in paths)
