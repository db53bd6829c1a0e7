"""Shared by the replication operation tests (followers, forks, promote)."""

from __future__ import annotations

from typing import Any

from herokupg_sandbox.threaded import RunningSandbox

from herokupg.ops.base import WaitOptions

STANDARD = "heroku-postgresql:standard-0"
FAST = WaitOptions(timeout=30, poll_interval=0.05, first_interval=0.01)


def seed(sandbox: RunningSandbox, app: str = "shop", plan: str = STANDARD) -> dict[str, Any]:
    """An app with one primary database; returns the add-on."""
    with sandbox.http() as http:
        http.post("/apps", json={"name": app}).raise_for_status()
        response = http.post(f"/apps/{app}/addons", json={"plan": {"name": plan}})
        response.raise_for_status()
        addon: dict[str, Any] = response.json()
        return addon
