"""ensure_fork against the real sandbox: forks, fast forks and rollbacks, check mode, reruns, absent."""

from __future__ import annotations

from typing import Any

import pytest
from herokupg_sandbox.threaded import RunningSandbox
from replication_helpers import STANDARD, assert_refused_before_any_request, ctx, seed

from herokupg.api import HerokuAPI
from herokupg.errors import ConflictError, OperationTimeoutError, ValidationError
from herokupg.ops.base import WaitOptions
from herokupg.ops.forks import ensure_fork


def by_attachment(sandbox: RunningSandbox) -> dict[str, dict[str, Any]]:
    state = sandbox.admin("GET", "state")
    return {att["name"]: state["addons"][att["addon_id"]] for att in state["attachments"].values()}


def rows(sandbox: RunningSandbox, addon_id: str) -> list[Any]:
    data: dict[str, Any] = sandbox.admin("GET", f"databases/{addon_id}/data")
    return list(data["tables"].get("t", []))


def test_fork_check_real_rerun_absent(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    source = seed(sandbox)
    sandbox.admin("POST", f"databases/{source['id']}/writes", json={"table": "t", "rows": [1, 2]})

    checked = ensure_fork(ctx(api, check=True), "shop", name="COPY", fast=True)
    assert checked.changed and checked.data["fork"] is None
    assert checked.requests[0].body == {
        "plan": {"name": STANDARD},
        "attachment": {"name": "COPY"},
        "config": {"fork": "DATABASE_URL", "fast": True},
    }
    assert checked.before == {"name": "COPY", "present": False, "source": "DATABASE"}
    assert "COPY" not in by_attachment(sandbox)

    real = ensure_fork(ctx(api), "shop", name="COPY", fast=True)
    assert real.changed
    copy = by_attachment(sandbox)["COPY"]
    assert copy["state"] == "provisioned" and copy["db"]["forked_from_id"] == source["id"]
    assert copy["config"] == {"fork": "DATABASE_URL", "fast": True}
    assert rows(sandbox, copy["id"]) == [1, 2]
    assert real.data["fork"]["forked_from"] == "DATABASE"

    assert not ensure_fork(ctx(api, check=True), "shop", name="COPY", fast=True).changed
    assert not ensure_fork(ctx(api), "shop", name="COPY", fast=True).changed
    assert len(sandbox.admin("GET", "state")["addons"]) == 2

    assert ensure_fork(ctx(api, check=True), "shop", name="COPY", state="absent").changed
    assert "COPY" in by_attachment(sandbox)
    assert ensure_fork(ctx(api), "shop", name="COPY", state="absent").changed
    assert "COPY" not in by_attachment(sandbox)
    assert not ensure_fork(ctx(api), "shop", name="COPY", state="absent").changed


def test_rollback_by_interval_copies_the_past(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    source = seed(sandbox)
    sandbox.admin("POST", "clock/advance", json={"seconds": 3600})
    sandbox.admin("POST", f"databases/{source['id']}/writes", json={"table": "t", "rows": ["old"]})
    sandbox.admin("POST", "clock/advance", json={"seconds": 3600})
    sandbox.admin("POST", f"databases/{source['id']}/writes", json={"table": "t", "rows": ["new"]})

    result = ensure_fork(ctx(api), "shop", name="BEFORE", by="30 minutes")
    assert result.requests[0].body is not None
    assert result.requests[0].body["config"] == {"rollback": "DATABASE_URL", "by": "30 minutes"}
    assert rows(sandbox, by_attachment(sandbox)["BEFORE"]["id"]) == ["old"]
    assert not ensure_fork(ctx(api), "shop", name="BEFORE", by="30 minutes").changed


def test_rollback_outside_the_window_is_refused_by_the_api(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    seed(sandbox)
    with pytest.raises(ConflictError) as refused:
        ensure_fork(ctx(api), "shop", name="BEFORE", to="2001-01-01 00:00 UTC")
    assert refused.value.error_id == "addon_error" and "rollback window" in refused.value.message
    assert "BEFORE" not in by_attachment(sandbox)


def test_timeout_then_rerun_picks_up_the_fork(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    seed(sandbox)
    sandbox.admin("PATCH", "settings", json={"provision_delay": 60})
    short = WaitOptions(timeout=0.2, poll_interval=0.05, first_interval=0.01)
    with pytest.raises(OperationTimeoutError) as timed_out:
        ensure_fork(ctx(api, wait=short), "shop", name="COPY")
    assert timed_out.value.last_status == "provisioning"
    sandbox.admin("POST", "clock/advance", json={"seconds": 61})
    assert not ensure_fork(ctx(api), "shop", name="COPY").changed
    assert len(sandbox.admin("GET", "state")["addons"]) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "copy"}, "invalid"),
        ({"name": "DATABASE"}, "primary"),
        ({"name": "C", "to": "2026-01-01 00:00 UTC", "by": "1 hour"}, "mutually exclusive"),
        ({"name": "C", "fast": True, "by": "1 hour"}, "fast applies to a fork"),
        ({"name": "C", "by": " "}, "must not be empty"),
        ({"name": "C", "plan": "essential-1"}, "Standard, Premium"),
        ({"name": "C", "state": "gone"}, "present or absent"),
    ],
)
def test_bad_input_sends_nothing(
    sandbox: RunningSandbox, api: HerokuAPI, kwargs: dict[str, Any], message: str
) -> None:
    seed(sandbox)
    assert_refused_before_any_request(api, lambda: ensure_fork(ctx(api), "shop", **kwargs), message)


def test_refuses_essential_source_and_foreign_attachment(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    seed(sandbox, "tiny", "heroku-postgresql:essential-0")
    with pytest.raises(ValidationError, match="essential-0"):
        ensure_fork(ctx(api), "tiny", name="COPY", plan=STANDARD)
    seed(sandbox)
    with sandbox.http() as http:
        http.post("/apps/shop/addons", json={"plan": {"name": STANDARD}, "attachment": {"name": "OTHER"}})
    with pytest.raises(ValidationError, match="not a fork of DATABASE") as refused:
        ensure_fork(ctx(api), "shop", name="OTHER", state="absent")
    assert "nothing was destroyed" in refused.value.message and "remove it" not in refused.value.message
    assert "OTHER" in by_attachment(sandbox)
