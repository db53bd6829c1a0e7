"""Shared by the replication operation tests (followers, forks, promote)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from herokupg_sandbox.threaded import RunningSandbox

from herokupg.api import HerokuAPI
from herokupg.errors import ValidationError
from herokupg.ops.base import Context, WaitOptions

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


def ctx(api: HerokuAPI, check: bool = False, wait: WaitOptions = FAST) -> Context:
    return Context(api=api, check_mode=check, wait=wait)


def assert_refused_before_any_request(api: HerokuAPI, call: Callable[[], object], message: str) -> None:
    """``call`` raises a ValidationError matching ``message`` without sending a single request."""
    before = api.client.request_count
    with pytest.raises(ValidationError, match=message):
        call()
    assert api.client.request_count == before
