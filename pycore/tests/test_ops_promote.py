"""promote against the real sandbox: waits for catch-up, unfollows first, keeps an alias for the old
primary, never leaves the app without a DATABASE, and is unchanged when already done."""

from __future__ import annotations

from typing import Any

import pytest
from herokupg_sandbox.threaded import RunningSandbox
from replication_helpers import STANDARD, ctx

from herokupg.api import HerokuAPI
from herokupg.errors import ConfirmationRequiredError, OperationTimeoutError, ValidationError
from herokupg.ops.base import WaitOptions
from herokupg.ops.promote import promote

SHORT = WaitOptions(timeout=0.3, poll_interval=0.05, first_interval=0.01)


def seed(sandbox: RunningSandbox, app: str = "shop") -> tuple[dict[str, Any], dict[str, Any]]:
    """A primary with one follower attached as REPLICA."""
    with sandbox.http() as http:
        http.post("/apps", json={"name": app}).raise_for_status()
        primary = http.post(f"/apps/{app}/addons", json={"plan": {"name": STANDARD}}).json()
        body = {
            "plan": {"name": STANDARD},
            "attachment": {"name": "REPLICA"},
            "config": {"follow": "DATABASE_URL"},
        }
        follower = http.post(f"/apps/{app}/addons", json=body).json()
        return primary, follower


def attachments(sandbox: RunningSandbox) -> dict[str, str]:
    """attachment name -> add-on id, from the sandbox's own state."""
    state = sandbox.admin("GET", "state")
    return {att["name"]: att["addon_id"] for att in state["attachments"].values()}


def leader_of(sandbox: RunningSandbox, addon_id: str) -> str | None:
    db = sandbox.admin("GET", "state")["addons"][addon_id]["db"]
    return db["leader_id"] if db else None


def test_promote_follower_check_real_rerun(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    primary, follower = seed(sandbox)
    before = attachments(sandbox)

    checked = promote(ctx(api, check=True), "shop", "REPLICA", confirm="shop")
    assert checked.changed
    assert [(r.method, r.path) for r in checked.requests] == [
        ("PUT", f"/client/v11/databases/{follower['id']}/unfollow"),
        ("POST", "/addon-attachments"),
        ("POST", "/addon-attachments"),
    ]
    alias_body, attach_body = checked.requests[1].body, checked.requests[2].body
    assert alias_body == {
        "addon": {"name": primary["name"]},
        "app": {"name": "shop"},
        "confirm": "shop",
        "namespace": None,
    }
    assert attach_body is not None and attach_body["name"] == "DATABASE"
    assert checked.before == {"database": primary["name"], "following": True}
    assert checked.after == {"database": follower["name"], "following": False}
    assert attachments(sandbox) == before and leader_of(sandbox, follower["id"]) == primary["id"]

    real = promote(ctx(api), "shop", "REPLICA", confirm="shop")
    assert real.changed and real.warnings == []
    after = attachments(sandbox)
    assert after["DATABASE"] == follower["id"]
    assert leader_of(sandbox, follower["id"]) is None
    alias = real.data["previous"]["alias"]
    assert alias and alias.startswith("HEROKU_POSTGRESQL_") and after[alias] == primary["id"]
    assert real.data["database"]["following"] is None

    assert not promote(ctx(api, check=True), "shop", "REPLICA", confirm="shop").changed
    rerun = promote(ctx(api), "shop", "DATABASE", confirm="shop")
    assert not rerun.changed and rerun.requests == []
    assert attachments(sandbox) == after


def test_waits_for_catch_up_before_unfollowing(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    primary, follower = seed(sandbox)
    sandbox.admin("PATCH", "settings", json={"follower_catchup": 60})
    sandbox.admin("POST", f"databases/{primary['id']}/writes", json={"table": "t", "rows": ["last"]})

    with pytest.raises(OperationTimeoutError) as timed_out:
        promote(ctx(api, wait=SHORT), "shop", "REPLICA", confirm="shop")
    assert timed_out.value.last_status == "following: 1 commits behind (max_lag 0)"
    assert follower["name"] in timed_out.value.resource
    assert leader_of(sandbox, follower["id"]) == primary["id"]
    assert attachments(sandbox)["DATABASE"] == primary["id"]

    no_wait = WaitOptions(enabled=False)
    with pytest.raises(ValidationError, match="1 commits behind"):
        promote(ctx(api, wait=no_wait), "shop", "REPLICA", confirm="shop")
    assert leader_of(sandbox, follower["id"]) == primary["id"]

    sandbox.admin("POST", "clock/advance", json={"seconds": 61})
    assert promote(ctx(api), "shop", "REPLICA", confirm="shop").changed
    data = sandbox.admin("GET", f"databases/{follower['id']}/data")
    assert data["tables"]["t"] == ["last"]  # the last commit made it into the new primary
    assert attachments(sandbox)["DATABASE"] == follower["id"]


def test_max_lag_allows_a_lagging_follower(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    primary, follower = seed(sandbox)
    sandbox.admin("PATCH", "settings", json={"follower_catchup": 600})
    for n in range(2):
        sandbox.admin("POST", f"databases/{primary['id']}/writes", json={"table": "t", "rows": [n]})
    assert promote(ctx(api, wait=SHORT), "shop", "REPLICA", confirm="shop", max_lag=2).changed
    assert attachments(sandbox)["DATABASE"] == follower["id"]
    assert leader_of(sandbox, follower["id"]) is None


@pytest.mark.parametrize("confirm", [None, "", "other"])
def test_confirm_required(sandbox: RunningSandbox, api: HerokuAPI, confirm: str | None) -> None:
    _, follower = seed(sandbox)
    before = attachments(sandbox)
    sent = api.client.request_count
    with pytest.raises(ConfirmationRequiredError, match="shop"):
        promote(ctx(api), "shop", "REPLICA", confirm=confirm)
    assert api.client.request_count == sent
    assert attachments(sandbox) == before and leader_of(sandbox, follower["id"])


def test_without_unfollow_only_reattaches_and_warns(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    primary, follower = seed(sandbox)
    result = promote(ctx(api), "shop", "REPLICA", confirm="shop", unfollow=False)
    assert result.changed and [r.method for r in result.requests] == ["POST", "POST"]
    assert any("read-only follower" in w for w in result.warnings)
    assert attachments(sandbox)["DATABASE"] == follower["id"]
    assert leader_of(sandbox, follower["id"]) == primary["id"]
    again = promote(ctx(api), "shop", "REPLICA", confirm="shop", unfollow=False)
    assert not again.changed and again.warnings
    # A later run with unfollow only unfollows.
    finish = promote(ctx(api), "shop", "REPLICA", confirm="shop")
    assert [r.method for r in finish.requests] == ["PUT"]
    assert leader_of(sandbox, follower["id"]) is None


def test_existing_alias_is_reused(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    primary, follower = seed(sandbox)
    with sandbox.http() as http:
        body = {"addon": {"name": primary["name"]}, "app": {"name": "shop"}, "name": "OLD_PRIMARY"}
        http.post("/addon-attachments", json=body).raise_for_status()
    result = promote(ctx(api), "shop", follower["name"], confirm="shop")
    assert [r.method for r in result.requests] == ["PUT", "POST"]
    assert result.data["previous"] == {"addon": primary["name"], "alias": "OLD_PRIMARY"}
    after = attachments(sandbox)
    assert after["DATABASE"] == follower["id"] and after["OLD_PRIMARY"] == primary["id"]
    assert sorted(after) == ["DATABASE", "OLD_PRIMARY", "REPLICA"]


def test_waits_for_the_release_phase(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    _, follower = seed(sandbox)
    sandbox.admin(
        "PUT", "apps/shop/formation", json={"processes": [{"type": "release", "command": "migrate"}]}
    )
    sandbox.admin("PATCH", "settings", json={"release_phase_delay": 30})
    with pytest.raises(OperationTimeoutError) as timed_out:
        promote(ctx(api, wait=SHORT), "shop", "REPLICA", confirm="shop")
    assert timed_out.value.last_status == "pending"
    assert attachments(sandbox)["DATABASE"] == follower["id"]
    sandbox.admin("POST", "clock/advance", json={"seconds": 31})
    assert not promote(ctx(api), "shop", "REPLICA", confirm="shop").changed


def test_unknown_database_changes_nothing(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    seed(sandbox)
    before = attachments(sandbox)
    with pytest.raises(Exception, match="NOPE"):
        promote(ctx(api), "shop", "NOPE", confirm="shop")
    assert attachments(sandbox) == before
