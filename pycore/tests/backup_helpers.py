"""Context and sandbox-state helpers shared by the backup/restore/schedule operation tests."""

from __future__ import annotations

from typing import Any

from herokupg_sandbox.threaded import RunningSandbox

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.ops.base import Context, WaitOptions


def context(sb: RunningSandbox, *, check_mode: bool = False, timeout: float = 60) -> Context:
    client = HerokuClient(api_key=sb.token, api_url=sb.url, retries=0)
    return Context(
        api=HerokuAPI(client),
        check_mode=check_mode,
        wait=WaitOptions(timeout=timeout, poll_interval=0.05, first_interval=0.01),
    )


def transfers(sb: RunningSandbox, *, live: bool = True) -> list[dict[str, Any]]:
    """The sandbox's own transfer records (the oracle), oldest first."""
    state = sb.admin("GET", "state")
    items = [t for t in state["transfers"].values() if not live or t["deleted_at"] is None]
    return sorted(items, key=lambda t: (t["app_id"], t["num"]))


def schedules(sb: RunningSandbox) -> list[dict[str, Any]]:
    return list(sb.admin("GET", "state")["schedules"].values())
