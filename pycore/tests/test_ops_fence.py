"""promote(fence=True) on real PostgreSQL (postgres engine): what the fence does to the old primary
when the promotion succeeds, fails before the unfollow (lifted), fails after it (kept, then finished
by a resumed run), races another fenced promotion (refused at once, naming it), runs in check mode
(nothing touched), or psycopg is missing (a clear error, nothing touched). The old primary's state
is read with psql-like sessions of our own, never trusting the operation's report alone."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from herokupg_sandbox.pgengine import available
from herokupg_sandbox.threaded import RunningSandbox, seed_app, seed_database
from replication_helpers import STANDARD

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.errors import ConflictError, ConnectionFailedError, HerokuPgError, ValidationError
from herokupg.ops.base import Context, Result, WaitOptions
from herokupg.ops.fence import MISSING, Fence
from herokupg.ops.promote import promote
from herokupg.pgconnect import MissingPsycopgError

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not available()[0], reason=f"postgres engine unavailable: {available()[1]}"),
]
WAIT = WaitOptions(timeout=60, poll_interval=0.1, first_interval=0.02)


@pytest.fixture(scope="module")
def sandbox(shared_postgres_sandbox: RunningSandbox) -> RunningSandbox:
    """One postgres-engine sandbox for the module (herokupg-sandbox's pytest plugin)."""
    return shared_postgres_sandbox


def config_var(sandbox: RunningSandbox, app: str, name: str) -> str:
    with sandbox.http() as http:
        value: str = http.get(f"/apps/{app}/config-vars").json()[name]
        return value


def seed(sandbox: RunningSandbox, app: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A primary with a table and a row, and a caught-up follower REPLICA."""
    seed_app(sandbox, app)
    primary = seed_database(sandbox, app, STANDARD)
    with psycopg.connect(config_var(sandbox, app, "DATABASE_URL"), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (v text)")
        conn.execute("INSERT INTO t VALUES ('before')")
    replica = seed_database(sandbox, app, STANDARD, attachment="REPLICA", config={"follow": "DATABASE_URL"})
    return primary, replica


def writable(url: str) -> bool:
    """Whether a new session on ``url`` may write (what the app would get)."""
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute("INSERT INTO t VALUES ('probe')")
        except psycopg.errors.ReadOnlySqlTransaction:
            return False
    return True


def recovering(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        return bool(row and row[0])


def run(sandbox: RunningSandbox, app: str, *, check: bool = False, **options: Any) -> Result:
    with HerokuClient(api_key=sandbox.token, api_url=sandbox.url, retries=0) as client:
        ctx = Context(api=HerokuAPI(client), check_mode=check, wait=WAIT)
        return promote(ctx, app, "REPLICA", confirm=app, fence=True, **options)


def test_a_fenced_promotion_leaves_the_old_primary_read_only(sandbox: RunningSandbox) -> None:
    primary, replica = seed(sandbox, "fenceok")
    old_url = config_var(sandbox, "fenceok", "DATABASE_URL")
    with psycopg.connect(old_url, autocommit=True) as idle:  # a session of the app, open all along
        done = run(sandbox, "fenceok")
        with pytest.raises(psycopg.OperationalError):
            idle.execute("INSERT INTO t VALUES ('from an old session')")
    fence = done.data["fence"]
    assert fence["database"] == primary["name"] and fence["read_only"] and fence["set_by_this_run"]
    assert fence["sessions_ended"] >= 1 and fence["wal_position"] and fence["new_primary_reset"]
    assert not writable(old_url)
    new_url = config_var(sandbox, "fenceok", "DATABASE_URL")
    assert new_url == config_var(sandbox, "fenceok", "REPLICA_URL") != old_url
    assert writable(new_url) and not recovering(new_url)  # the fence did not follow it over
    assert old_url not in str(done.data) and replica["name"] in str(done.data)


def test_the_fence_session_has_its_timeouts_and_names_the_promotion(sandbox: RunningSandbox) -> None:
    """Made by pgconnect.open_connection: autocommit, statement and lock timeouts, a name for others."""
    seed_app(sandbox, "fenceconn")
    seed_database(sandbox, "fenceconn", STANDARD)
    url = config_var(sandbox, "fenceconn", "DATABASE_URL")
    with HerokuClient(api_key=sandbox.token, api_url=sandbox.url, retries=0) as client:
        fence = Fence(Context(api=HerokuAPI(client), wait=WAIT), "fenceconn", "old", url, "x" * 70, url)
        conn = fence._connect(url, "the old primary")
        try:
            timeouts = ("statement_timeout", "lock_timeout")
            shown = [conn.execute(f"SHOW {setting}").fetchone() for setting in timeouts]
            name = conn.execute("SELECT current_setting('application_name')").fetchone()
            assert conn.autocommit and shown == [("1min",), ("10s",)]
            assert name == (("herokupg failover to " + "x" * 70)[:63],)
        finally:
            conn.close()


def test_check_mode_touches_nothing(sandbox: RunningSandbox) -> None:
    primary, _replica = seed(sandbox, "fencecheck")
    old_url = config_var(sandbox, "fencecheck", "DATABASE_URL")
    planned = run(sandbox, "fencecheck", check=True)
    assert planned.changed and planned.data["fence"]["database"] == primary["name"]
    assert writable(old_url) and recovering(config_var(sandbox, "fencecheck", "REPLICA_URL"))


def test_a_failure_before_the_unfollow_lifts_the_fence(sandbox: RunningSandbox) -> None:
    _primary, _replica = seed(sandbox, "fencelift")
    old_url = config_var(sandbox, "fencelift", "DATABASE_URL")
    sandbox.admin("POST", "faults", json={"kind": "error", "status": 422, "method": "PUT",
                                          "path": "/unfollow$", "remaining": 1})
    with pytest.raises(HerokuPgError) as failed:
        run(sandbox, "fencelift")
    assert "was lifted: it accepts writes again" in failed.value.message
    assert writable(old_url)
    assert config_var(sandbox, "fencelift", "DATABASE_URL") == old_url
    assert recovering(config_var(sandbox, "fencelift", "REPLICA_URL"))  # still a follower


def test_a_failure_after_the_unfollow_keeps_the_fence_until_resumed(sandbox: RunningSandbox) -> None:
    _primary, _replica = seed(sandbox, "fencekeep")
    old_url = config_var(sandbox, "fencekeep", "DATABASE_URL")
    sandbox.admin("POST", "faults", json={"kind": "reset", "method": "POST", "path": "^/addon-attachments$",
                                          "remaining": 1})
    with pytest.raises(ConnectionFailedError) as failed:
        run(sandbox, "fencekeep")
    message = failed.value.message
    assert "stays read-only (fenced)" in message and "allow_non_follower: true and fence: true" in message
    assert "RESET default_transaction_read_only" in message
    assert not writable(old_url)  # nothing goes where the unfollowed follower can't see it
    assert config_var(sandbox, "fencekeep", "DATABASE_URL") == old_url
    replica_url = config_var(sandbox, "fencekeep", "REPLICA_URL")
    assert not recovering(replica_url)

    with pytest.raises(ValidationError, match="allow_non_follower"):
        run(sandbox, "fencekeep")  # a plain rerun refuses a database that follows nothing
    resumed = run(sandbox, "fencekeep", allow_non_follower=True)
    assert resumed.changed and not resumed.data["fence"]["set_by_this_run"]
    assert config_var(sandbox, "fencekeep", "DATABASE_URL") == replica_url
    assert writable(replica_url) and not writable(old_url)
    with psycopg.connect(replica_url, autocommit=True) as conn:
        assert ("before",) in conn.execute("SELECT v FROM t").fetchall()


ADVISORY_LOCKS = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"


def test_a_second_fenced_promotion_is_refused_at_once(sandbox: RunningSandbox) -> None:
    _primary, replica = seed(sandbox, "fencetwo")
    follow = {"follow": "DATABASE_URL"}
    other = seed_database(sandbox, "fencetwo", STANDARD, attachment="OTHER", config=follow)
    old_url = config_var(sandbox, "fencetwo", "DATABASE_URL")
    # The first promotion holds the fence while its unfollow answers late.
    sandbox.admin("POST", "faults", json={"kind": "latency", "method": "PUT", "latency": 4,
                                          "path": f"/databases/{replica['id']}/unfollow$", "remaining": 1})
    outcome: dict[str, Result | HerokuPgError] = {}

    def first() -> None:
        try:
            outcome["first"] = run(sandbox, "fencetwo")
        except HerokuPgError as exc:
            outcome["first"] = exc

    thread = threading.Thread(target=first)
    thread.start()
    try:
        for _attempt in range(200):  # until the first one holds the lock (on the old primary)
            try:
                with psycopg.connect(old_url, autocommit=True) as conn:
                    held = conn.execute(ADVISORY_LOCKS).fetchone()
            except psycopg.OperationalError:  # the fence ends the old primary's other sessions, this one too
                held = None
            if held and held[0]:
                break
            threading.Event().wait(0.05)
        with HerokuClient(api_key=sandbox.token, api_url=sandbox.url, retries=0) as client:
            ctx = Context(api=HerokuAPI(client), wait=WAIT)
            with pytest.raises(ConflictError) as refused:
                promote(ctx, "fencetwo", "OTHER", confirm="fencetwo", fence=True)
    finally:
        thread.join(timeout=120)
    assert "Another failover of fencetwo is fencing" in refused.value.message
    assert f"herokupg failover to {replica['name']}" in refused.value.message
    assert isinstance(outcome["first"], Result)
    assert recovering(config_var(sandbox, "fencetwo", "OTHER_URL"))  # the second changed nothing
    assert other["name"] not in config_var(sandbox, "fencetwo", "DATABASE_URL")


def test_without_psycopg_nothing_is_touched(sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(sandbox, "fencenolib")
    old_url = config_var(sandbox, "fencenolib", "DATABASE_URL")
    monkeypatch.setitem(__import__("sys").modules, "psycopg", None)
    with pytest.raises(MissingPsycopgError) as missing:
        run(sandbox, "fencenolib")
    monkeypatch.undo()
    assert missing.value.message == MISSING and "herokupg[postgres]" in MISSING
    assert writable(old_url) and recovering(config_var(sandbox, "fencenolib", "REPLICA_URL"))


def test_fence_needs_unfollow(sandbox: RunningSandbox) -> None:
    with pytest.raises(ValidationError, match="fence: true needs unfollow: true"):
        run(sandbox, "nosuchapp", unfollow=False)
