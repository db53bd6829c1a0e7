"""A sandbox restarted on the same state dir serves the same state (and token)."""

from __future__ import annotations

from pathlib import Path

from herokupg_sandbox.threaded import ThreadedSandbox
from sandbox_helpers import attachments, create_app, create_db, releases, snapshot


def test_restart_on_same_state_dir_serves_same_state(tmp_path: Path) -> None:
    state_dir = tmp_path / "sandbox"
    with ThreadedSandbox(state_dir) as first, first.http() as client:
        create_app(client, "app-one")
        db = create_db(client, "app-one")
        client.patch("/apps/app-one/config-vars", json={"FOO": "bar"})
        first.admin("PATCH", "settings", json={"page_size": 50})
        first.admin("POST", "faults", json={"kind": "error", "path": "^/never$"})
        first.admin("POST", "clock/advance", json={"seconds": 3600})
        token, before = first.token, snapshot(first)
        config_before = client.get("/apps/app-one/config-vars").json()
        releases_before = releases(client, "app-one")

    with ThreadedSandbox(state_dir) as second, second.http() as client:
        assert second.token == token
        assert snapshot(second) == before
        assert client.get("/apps/app-one/config-vars").json() == config_before
        assert releases(client, "app-one") == releases_before
        assert attachments(client, "app-one")["DATABASE"]["addon"]["id"] == db["id"]
        assert second.admin("GET", "settings")["page_size"] == 50
        assert second.admin("GET", "clock")["offset"] == 3600
