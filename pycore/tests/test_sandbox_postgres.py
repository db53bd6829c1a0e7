"""The sandbox over HTTP with the postgres engine: real clusters behind the Heroku APIs.

Each test runs its own sandbox (engine ``postgres``) in a state dir under /var/tmp that the
``postgres`` user can enter, seeds an app through the Platform API, and checks what the API says
against what the databases themselves hold (psql on the config vars' URLs). When the sandbox
stops, no PostgreSQL process may be left under its state dir. No timing is asserted.
"""

from __future__ import annotations

import hashlib
import http.server
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from herokupg_sandbox.pgengine import PostgresEngine, available
from herokupg_sandbox.threaded import RunningSandbox

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not available()[0], reason=f"postgres engine unavailable: {available()[1]}"),
]

TIMEOUT = 120.0
TABLE = "CREATE TABLE items (id int PRIMARY KEY, note text NOT NULL);"
CHECKSUM = "SELECT count(*) || ' ' || md5(string_agg(id::text || ':' || note, ',' ORDER BY id)) FROM items"


@pytest.fixture
def sb(pg_sandbox: RunningSandbox) -> RunningSandbox:
    """A fresh postgres-engine sandbox (herokupg-sandbox's pytest plugin)."""
    return pg_sandbox


@pytest.fixture
def api(sb: RunningSandbox) -> Iterator[httpx.Client]:
    with sb.http() as client:
        client.timeout = httpx.Timeout(TIMEOUT)
        yield client


# -- helpers ----------------------------------------------------------------------------------
def eventually(probe: Callable[[], Any], check: Callable[[Any], bool], what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while True:
        value = probe()
        if check(value):
            return value
        assert time.monotonic() < deadline, f"{what}: still {value!r}"
        time.sleep(0.1)


def create_db(api: httpx.Client, app: str, config: dict[str, Any] | None = None,
              name: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"plan": {"name": "heroku-postgresql:standard-0"}, "config": config or {}}
    if name:
        body["attachment"] = {"name": name}
    r = api.post(f"/apps/{app}/addons", json=body)
    assert r.status_code == 201, r.text
    addon: dict[str, Any] = r.json()
    eventually(lambda: api.get(f"/client/v11/databases/{addon['id']}/wait_status").json(),
               lambda s: not s["waiting?"], f"provisioning of {addon['name']}")
    status = api.get(f"/client/v11/databases/{addon['id']}/wait_status").json()
    assert not status["error?"], status
    return addon


def make_app(api: httpx.Client, name: str) -> dict[str, Any]:
    r = api.post("/apps", json={"name": name})
    assert r.status_code == 201, r.text
    return create_db(api, name)


def config_url(api: httpx.Client, app: str, var: str) -> str:
    r = api.get(f"/apps/{app}/config-vars")
    assert r.status_code == 200, r.text
    url: str = r.json()[var]
    return url


def psql(url: str, sql: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url],
        input=sql, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def one(url: str, sql: str) -> str:
    return psql(url, sql).stdout.strip()


def info_row(api: httpx.Client, addon_id: str, name: str) -> list[str]:
    r = api.get(f"/client/v11/databases/{addon_id}")
    assert r.status_code == 200, r.text
    values: list[str] = next((row["values"] for row in r.json()["info"] if row["name"] == name), [])
    return values


def behind_by(api: httpx.Client, addon_id: str) -> int:
    values = info_row(api, addon_id, "Behind By")
    assert values and values[0].endswith(" commits"), values
    return int(values[0].split()[0])


def seed(url: str, rows: int) -> None:
    psql(url, TABLE + f"INSERT INTO items SELECT i, 'note ' || i FROM generate_series(1, {rows}) AS i;")


def finished(api: httpx.Client, app: str, transfer: dict[str, Any]) -> dict[str, Any]:
    def probe() -> dict[str, Any]:
        r = api.get(f"/client/v11/apps/{app}/transfers/{transfer['uuid']}", params={"verbose": "true"})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    done: dict[str, Any] = eventually(probe, lambda t: t["finished_at"] is not None,
                                      f"transfer {transfer['num']}")
    return done


def capture(api: httpx.Client, app: str, addon_id: str) -> dict[str, Any]:
    r = api.post(f"/client/v11/databases/{addon_id}/backups")
    assert r.status_code == 201, r.text
    backup = finished(api, app, r.json())
    assert backup["succeeded"], backup.get("logs")
    return backup


def restore(api: httpx.Client, app: str, addon_id: str, backup_url: str) -> dict[str, Any]:
    r = api.post(f"/client/v11/databases/{addon_id}/restores", json={"backup_url": backup_url})
    assert r.status_code == 201, r.text
    return finished(api, app, r.json())


def public_url(api: httpx.Client, app: str, backup: dict[str, Any]) -> str:
    r = api.post(f"/client/v11/apps/{app}/transfers/{backup['uuid']}/actions/public-url")
    assert r.status_code == 200, r.text
    url: str = r.json()["url"]
    return url


# -- tests ------------------------------------------------------------------------------------
def test_follower_lag_is_observed_then_caught_up(sb: RunningSandbox, api: httpx.Client) -> None:
    primary = make_app(api, "lagging")
    follower = create_db(api, "lagging", {"follow": primary["id"]}, name="FOLLOWER")
    primary_url = config_url(api, "lagging", "DATABASE_URL")
    follower_url = config_url(api, "lagging", "FOLLOWER_URL")
    seed(primary_url, 10)
    eventually(lambda: behind_by(api, follower["id"]), lambda lag: lag == 0, "initial catch-up")
    assert one(follower_url, CHECKSUM) == one(primary_url, CHECKSUM)

    # Replay paused on the replica (as the engine's admin): writes on the primary pile up.
    with sb.sandbox.store.lock:
        engine = sb.sandbox.engine
        assert isinstance(engine, PostgresEngine)
        replica = engine.cluster(sb.sandbox.store.state.addons[follower["id"]])
    replica.sql("SELECT pg_wal_replay_pause()")
    for i in range(11, 16):
        psql(primary_url, f"INSERT INTO items VALUES ({i}, 'while paused {i}')")
    lag = eventually(lambda: behind_by(api, follower["id"]), lambda n: n >= 5, "lag after 5 commits")
    assert lag >= 5
    status = api.get(f"/client/v11/databases/{follower['id']}/wait_status").json()
    assert status["waiting?"] and "behind" in status["message"], status
    assert one(follower_url, "SELECT count(*) FROM items WHERE id > 10") == "0"

    replica.sql("SELECT pg_wal_replay_resume()")
    eventually(lambda: behind_by(api, follower["id"]), lambda n: n == 0, "catch-up after resume")
    assert one(follower_url, "SELECT count(*) FROM items WHERE id > 10") == "5"
    assert one(follower_url, CHECKSUM) == one(primary_url, CHECKSUM)


def test_promoted_follower_accepts_writes(api: httpx.Client) -> None:
    primary = make_app(api, "promoting")
    follower = create_db(api, "promoting", {"follow": primary["id"]}, name="REPLICA")
    primary_url = config_url(api, "promoting", "DATABASE_URL")
    replica_url = config_url(api, "promoting", "REPLICA_URL")
    seed(primary_url, 100)
    eventually(lambda: behind_by(api, follower["id"]), lambda lag: lag == 0, "catch-up")
    refused = psql(replica_url, "INSERT INTO items VALUES (1000, 'no')", check=False)
    assert refused.returncode != 0 and "read-only transaction" in refused.stderr

    r = api.put(f"/client/v11/databases/{follower['id']}/unfollow")
    assert r.status_code == 200, r.text
    assert info_row(api, follower["id"], "Following") == []
    eventually(lambda: api.get(f"/client/v11/databases/{follower['id']}/wait_status").json(),
               lambda status: not status["waiting?"], "unfollow")  # what pg:wait and pg:promote poll
    r = api.post("/addon-attachments", json={
        "addon": {"name": follower["name"]}, "app": {"name": "promoting"},
        "name": "DATABASE", "confirm": "promoting",
    })
    assert r.status_code in (200, 201), r.text

    new_url = config_url(api, "promoting", "DATABASE_URL")
    assert new_url == replica_url != primary_url
    assert one(new_url, "SELECT pg_is_in_recovery()") == "f"
    psql(new_url, "INSERT INTO items VALUES (1000, 'written on the new primary')")
    assert one(new_url, "SELECT count(*) FROM items") == "101"
    assert one(primary_url, "SELECT count(*) FROM items") == "100"  # the old primary goes its own way


def test_dump_restore_round_trip_keeps_rows_and_checksums(api: httpx.Client, tmp_path: Path) -> None:
    primary = make_app(api, "roundtrip")
    other = create_db(api, "roundtrip", name="SCRATCH")
    url = config_url(api, "roundtrip", "DATABASE_URL")
    scratch_url = config_url(api, "roundtrip", "SCRATCH_URL")
    seed(url, 2000)
    before = one(url, CHECKSUM)
    backup = capture(api, "roundtrip", primary["id"])
    assert backup["processed_bytes"] > 0

    signed = public_url(api, "roundtrip", backup)
    dump = tmp_path / "b.dump"
    response = httpx.get(signed, timeout=TIMEOUT)
    assert response.status_code == 200
    dump.write_bytes(response.content)
    assert len(response.content) == backup["processed_bytes"]
    toc = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True)
    assert "TABLE DATA public items" in toc.stdout

    psql(url, "DELETE FROM items WHERE id % 3 = 0; UPDATE items SET note = upper(note);")
    assert one(url, CHECKSUM) != before
    restored = restore(api, "roundtrip", primary["id"], signed)
    assert restored["succeeded"], restored["logs"]
    assert one(url, CHECKSUM) == before
    assert before.startswith("2000 ")

    into_other = restore(api, "roundtrip", other["id"], signed)  # a second database, from scratch
    assert into_other["succeeded"], into_other["logs"]
    assert one(scratch_url, CHECKSUM) == before
    digest = hashlib.sha256(dump.read_bytes()).hexdigest()
    again = httpx.get(signed, timeout=TIMEOUT)
    assert hashlib.sha256(again.content).hexdigest() == digest  # the stored dump is unchanged


def test_public_url_expires_with_the_clock(api: httpx.Client) -> None:
    primary = make_app(api, "expiry")
    seed(config_url(api, "expiry", "DATABASE_URL"), 5)
    backup = capture(api, "expiry", primary["id"])
    signed = public_url(api, "expiry", backup)
    fresh = httpx.get(signed, timeout=TIMEOUT)
    assert fresh.status_code == 200 and fresh.content.startswith(b"PGDMP")

    ttl = api.get("/_sandbox/settings").json()["public_url_ttl"]
    r = api.post("/_sandbox/clock/advance", json={"seconds": ttl + 1})
    assert r.status_code == 200, r.text
    assert httpx.get(signed, timeout=TIMEOUT).status_code == 403
    assert httpx.get(public_url(api, "expiry", backup), timeout=TIMEOUT).status_code == 200  # a new one works


class _Garbage(http.server.BaseHTTPRequestHandler):
    body = b"PGDMP this is not a pg_dump archive at all" + bytes(range(256)) * 4

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def garbage_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/corrupt.dump"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_restore_of_a_corrupt_dump_fails_with_its_log_lines(api: httpx.Client, garbage_url: str) -> None:
    primary = make_app(api, "corrupt")
    url = config_url(api, "corrupt", "DATABASE_URL")
    seed(url, 50)
    before = one(url, CHECKSUM)

    failed = restore(api, "corrupt", primary["id"], garbage_url)
    assert failed["succeeded"] is False
    errors = [entry["message"] for entry in failed["logs"] if entry["level"] == "error"]
    assert any(m.startswith("pg_restore: error:") for m in errors), failed["logs"]
    listed = api.get("/client/v11/apps/corrupt/transfers").json()
    assert [t["succeeded"] for t in listed if t["uuid"] == failed["uuid"]] == [False]
    assert one(url, CHECKSUM) == before  # nothing was replaced
