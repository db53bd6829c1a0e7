"""Seeding and context helpers shared by the backup/restore/schedule operation tests."""

from __future__ import annotations

import time
from typing import Any

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.ops.base import Context, WaitOptions
from herokupg.sandbox.testing import RunningSandbox


def context(sb: RunningSandbox, *, check_mode: bool = False, timeout: float = 60) -> Context:
    client = HerokuClient(api_key=sb.token, api_url=sb.url, retries=0)
    return Context(
        api=HerokuAPI(client),
        check_mode=check_mode,
        wait=WaitOptions(timeout=timeout, poll_interval=0.05, first_interval=0.01),
    )


def seed_app(sb: RunningSandbox, name: str) -> None:
    with sb.http() as http:
        http.post("/apps", json={"name": name}).raise_for_status()


def seed_database(sb: RunningSandbox, app: str, attachment: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"plan": {"name": "heroku-postgresql:standard-0"}, "config": {}}
    if attachment:
        body["attachment"] = {"name": attachment}
    with sb.http() as http:
        response = http.post(f"/apps/{app}/addons", json=body)
        response.raise_for_status()
        addon: dict[str, Any] = response.json()
        for _attempt in range(500):
            if http.get(f"/client/v11/databases/{addon['id']}").status_code == 200:
                return addon
            time.sleep(0.02)
    raise AssertionError("database never became available")


def transfers(sb: RunningSandbox, *, live: bool = True) -> list[dict[str, Any]]:
    """The sandbox's own transfer records (the oracle), oldest first."""
    state = sb.admin("GET", "state")
    items = [t for t in state["transfers"].values() if not live or t["deleted_at"] is None]
    return sorted(items, key=lambda t: (t["app_id"], t["num"]))


def schedules(sb: RunningSandbox) -> list[dict[str, Any]]:
    return list(sb.admin("GET", "state")["schedules"].values())
