"""The sandbox admin API: reset, state, settings, clock, formation/release phase and faults."""

from __future__ import annotations

import time

import httpx
import pytest
from herokupg_sandbox.threaded import RunningSandbox
from sandbox_helpers import assert_error, create_app, create_db, snapshot


def test_state_dump_includes_passwords_and_reset_forgets_everything(
    client: httpx.Client, sb: RunningSandbox
) -> None:
    create_app(client, "app-one")
    db = create_db(client, "app-one")
    state = sb.admin("GET", "state")
    record = state["addons"][db["id"]]
    assert (
        record["db"]["password"] and record["db"]["password"] in client.get("/apps/app-one/config-vars").text
    )
    assert sb.admin("POST", "reset") == {"reset": True}
    assert snapshot(sb)["apps"] == {} and snapshot(sb)["addons"] == {}
    assert_error(client.get("/apps/app-one"), 404, "not_found")


def test_reset_deletes_dump_files_but_keeps_the_signing_secret(
    client: httpx.Client, sb: RunningSandbox
) -> None:
    create_app(client, "app-dumps")
    db = create_db(client, "app-dumps")
    backup = client.post(f"/client/v11/databases/{db['id']}/backups")
    assert backup.status_code in (200, 201), backup.text
    url = client.post("/client/v11/apps/app-dumps/transfers/1/actions/public-url").json()["url"]
    assert httpx.get(url).status_code == 200
    backups = sb.state_dir / "backups"
    assert [p for p in backups.rglob("*") if p.is_file()]
    secret = (sb.state_dir / "public_url_secret").read_text()

    sb.admin("POST", "reset")
    assert backups.exists() and not list(backups.rglob("*"))
    assert (sb.state_dir / "public_url_secret").read_text() == secret
    assert httpx.get(url).status_code == 404  # the dump is gone, not merely unlisted


def test_health_is_public(sb: RunningSandbox) -> None:
    response = httpx.get(f"{sb.url}/_sandbox/public/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_settings_patch_and_validation(client: httpx.Client, sb: RunningSandbox) -> None:
    settings = sb.admin("PATCH", "settings", json={"provision_delay": 30, "page_size": 7})
    assert settings["provision_delay"] == 30.0 and settings["page_size"] == 7
    assert sb.admin("GET", "settings") == settings
    for bad in (
        {"page_size": 0},
        {"page_size": 1.5},
        {"nope": 1},
        {"provision_delay": -1},
        {"provision_delay": True},
    ):
        assert_error(client.patch("/_sandbox/settings", json=bad), 422, "invalid_params")
    assert sb.admin("GET", "settings") == settings


def test_clock_advance_moves_sandbox_time(client: httpx.Client, sb: RunningSandbox) -> None:
    before = sb.admin("GET", "clock")
    after = sb.admin("POST", "clock/advance", json={"seconds": 86400})
    assert after["offset"] == before["offset"] + 86400
    assert after["epoch"] - before["epoch"] >= 86400
    assert_error(client.post("/_sandbox/clock/advance", json={"seconds": -1}), 422, "invalid_params")
    assert_error(client.post("/_sandbox/clock/advance", json={"seconds": "1"}), 422, "invalid_params")


def test_release_phase_releases_pend_until_the_clock_passes(client: httpx.Client, sb: RunningSandbox) -> None:
    create_app(client, "app-one")
    sb.admin("PATCH", "settings", json={"release_phase_delay": 600})
    processes = [{"type": "web", "quantity": 2}, {"type": "release", "command": "./migrate"}]
    formation = sb.admin("PUT", "apps/app-one/formation", json={"processes": processes})
    assert {p["type"]: p["quantity"] for p in formation} == {"web": 2, "release": 1}
    assert {p["type"] for p in client.get("/apps/app-one/formation").json()} == {"web", "release"}

    client.patch("/apps/app-one/config-vars", json={"A": "1"})
    latest = client.get("/apps/app-one/releases", headers={"Range": "version ..; max=1, order=desc"}).json()[
        0
    ]
    assert latest["status"] == "pending"
    sb.admin("POST", "faults", json={"kind": "release_failure", "path": "Set B", "remaining": 1})
    client.patch("/apps/app-one/config-vars", json={"B": "1"})
    sb.admin("POST", "clock/advance", json={"seconds": 601})
    assert client.get(f"/apps/app-one/releases/{latest['version']}").json()["status"] == "succeeded"
    assert client.get(f"/apps/app-one/releases/{latest['version'] + 1}").json()["status"] == "failed"
    assert sb.admin("GET", "faults") == []

    bad = client.put(
        "/_sandbox/apps/app-one/formation", json={"processes": [{"type": "web", "quantity": -1}]}
    )
    assert_error(bad, 422, "invalid_params")
    assert_error(client.put("/_sandbox/apps/nope/formation", json={"processes": []}), 404, "not_found")


# -- faults --------------------------------------------------------------------------------------
def test_error_fault_answers_heroku_error_then_expires(client: httpx.Client, sb: RunningSandbox) -> None:
    fault = sb.admin(
        "POST",
        "faults",
        json={"kind": "error", "status": 503, "path": "^/apps$", "method": "GET", "remaining": 2},
    )
    assert fault["remaining"] == 2 and fault["id"]
    for _ in range(2):
        assert_error(client.get("/apps"), 503, "unavailable", "temporarily unavailable")
    assert client.get("/apps").status_code == 200
    assert sb.admin("GET", "faults") == []
    # other methods and paths were never affected
    sb.admin("POST", "faults", json={"kind": "error", "status": 500, "path": "^/apps$", "method": "GET"})
    assert client.post("/apps", json={"name": "still-works"}).status_code == 201
    assert_error(client.get("/apps"), 500, "internal_server_error")
    assert client.get("/_sandbox/state").status_code == 200  # admin paths are never faulted
    sb.admin("DELETE", "faults")
    assert client.get("/apps").status_code == 200


def test_429_fault_looks_like_the_rate_limit(client: httpx.Client, sb: RunningSandbox) -> None:
    sb.admin("POST", "faults", json={"kind": "error", "status": 429, "remaining": 1})
    response = client.get("/apps")
    assert_error(response, 429, "rate_limit", "Your account reached the API rate limit")
    assert response.headers["RateLimit-Remaining"] == "0"


def test_reset_fault_drops_the_connection_without_a_response(
    client: httpx.Client, sb: RunningSandbox
) -> None:
    """What a client observes: no status line at all; httpx raises a transport error
    (RemoteProtocolError "Server disconnected without sending a response", or a ReadError)."""
    sb.admin("POST", "faults", json={"kind": "reset", "path": "^/apps$", "remaining": 1})
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.get("/apps")
    assert client.get("/apps").status_code == 200  # a new connection works again


def test_latency_fault_delays_then_serves(client: httpx.Client, sb: RunningSandbox) -> None:
    sb.admin("POST", "faults", json={"kind": "latency", "latency": 0.3, "path": "^/account$", "remaining": 1})
    started = time.monotonic()
    assert client.get("/account").status_code == 200
    assert time.monotonic() - started >= 0.3
    assert sb.admin("GET", "faults") == []


def test_seeded_rate_is_reproducible(client: httpx.Client, sb: RunningSandbox) -> None:
    def run() -> list[int]:
        sb.admin("DELETE", "faults")
        sb.admin(
            "POST",
            "faults",
            json={"kind": "error", "status": 500, "rate": 0.5, "seed": 42, "path": "^/account$"},
        )
        return [client.get("/account").status_code for _ in range(16)]

    first = run()
    assert first == run()
    assert 500 in first and 200 in first
    assert sb.admin("GET", "faults")[0]["draws"] == 16


def test_fault_validation_and_delete(client: httpx.Client, sb: RunningSandbox) -> None:
    for bad in (
        {"kind": "explode"},
        {"kind": "error", "rate": 2},
        {"kind": "error", "status": 200},
        {"kind": "error", "path": "("},
        {"kind": "error", "remaining": 0},
        {"kind": "error", "x": 1},
        {"kind": "error", "method": "BREW"},
    ):
        assert_error(client.post("/_sandbox/faults", json=bad), 422, "invalid_params")
    assert sb.admin("GET", "faults") == []
    fault = sb.admin("POST", "faults", json={"kind": "provision_failure", "path": "app-one"})
    assert client.delete(f"/_sandbox/faults/{fault['id']}").json()["id"] == fault["id"]
    assert_error(client.delete(f"/_sandbox/faults/{fault['id']}"), 404, "not_found")
