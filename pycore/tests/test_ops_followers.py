"""ensure_follower against the real sandbox: check mode predicts, real changes, reruns are
unchanged, lag is waited for, timeouts carry the last status, lost connections never double-create."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from herokupg_sandbox.threaded import RunningSandbox
from replication_helpers import STANDARD, assert_refused_before_any_request, ctx, seed

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.errors import (
    APIError,
    ConflictError,
    ConnectionFailedError,
    NotFoundError,
    OperationTimeoutError,
    ValidationError,
)
from herokupg.ops.base import WaitOptions
from herokupg.ops.followers import ensure_follower


def pg_addons(sandbox: RunningSandbox) -> dict[str, dict[str, Any]]:
    state = sandbox.admin("GET", "state")
    return {a["id"]: a for a in state["addons"].values()}


def followers_of(sandbox: RunningSandbox, leader_id: str) -> dict[str, dict[str, Any]]:
    state = sandbox.admin("GET", "state")
    names = {att["addon_id"]: att["name"] for att in state["attachments"].values()}
    return {
        names[a["id"]]: a for a in state["addons"].values() if a["db"] and a["db"]["leader_id"] == leader_id
    }


def test_named_follower_check_real_rerun(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    leader = seed(sandbox)

    checked = ensure_follower(ctx(api, check=True), "shop", name="REPLICA")
    assert checked.changed
    assert [(r.method, r.path) for r in checked.requests] == [("POST", "/apps/shop/addons")]
    assert checked.requests[0].body == {
        "plan": {"name": STANDARD},
        "attachment": {"name": "REPLICA"},
        "config": {"follow": "DATABASE_URL"},
    }
    assert checked.before == {"leader": "DATABASE", "followers": []}
    assert checked.after == {"leader": "DATABASE", "followers": ["REPLICA"]}
    assert followers_of(sandbox, leader["id"]) == {}

    real = ensure_follower(ctx(api), "shop", name="REPLICA")
    assert real.changed
    stored = followers_of(sandbox, leader["id"])
    assert list(stored) == ["REPLICA"]
    assert stored["REPLICA"]["state"] == "provisioned"
    assert real.data["follower"]["following"] == "DATABASE"
    assert real.data["lag"] == 0

    again_check = ensure_follower(ctx(api, check=True), "shop", name="REPLICA")
    again = ensure_follower(ctx(api), "shop", name="REPLICA")
    assert not again_check.changed and not again.changed
    assert again.requests == [] and again_check.requests == []
    assert len(pg_addons(sandbox)) == 2


def test_waits_for_lag_then_reports_caught_up(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    leader = seed(sandbox)
    sandbox.admin("PATCH", "settings", json={"follower_catchup": 60})
    for n in range(3):
        sandbox.admin("POST", f"databases/{leader['id']}/writes", json={"table": "t", "rows": [n]})

    short = WaitOptions(timeout=0.3, poll_interval=0.05, first_interval=0.01)
    with pytest.raises(OperationTimeoutError) as timed_out:
        ensure_follower(ctx(api, wait=short), "shop", name="REPLICA")
    assert timed_out.value.last_status == "following: 3 commits behind (max_lag 0)"
    assert "REPLICA" in followers_of(sandbox, leader["id"])

    # Tolerating the lag is enough, without any catch-up.
    tolerant = ensure_follower(ctx(api, wait=short), "shop", name="REPLICA", max_lag=3)
    assert not tolerant.changed and tolerant.data["lag"] == 3

    sandbox.admin("POST", "clock/advance", json={"seconds": 61})
    rerun = ensure_follower(ctx(api), "shop", name="REPLICA")
    assert not rerun.changed  # the rerun picked up the follower created by the timed-out run
    assert rerun.data["lag"] == 0
    assert len(followers_of(sandbox, leader["id"])) == 1


def test_rerun_after_provisioning_timeout_adopts_the_addon(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    leader = seed(sandbox)
    sandbox.admin("PATCH", "settings", json={"provision_delay": 120})
    short = WaitOptions(timeout=0.2, poll_interval=0.05, first_interval=0.01)
    with pytest.raises(OperationTimeoutError) as timed_out:
        ensure_follower(ctx(api, wait=short), "shop", name="REPLICA")
    assert timed_out.value.last_status == "provisioning"
    with pytest.raises(OperationTimeoutError):
        ensure_follower(ctx(api, wait=short), "shop", name="REPLICA")
    sandbox.admin("POST", "clock/advance", json={"seconds": 121})
    done = ensure_follower(ctx(api), "shop", name="REPLICA")
    assert not done.changed
    assert list(followers_of(sandbox, leader["id"])) == ["REPLICA"]


def test_count_creates_missing_and_destroys_newest_first(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    leader = seed(sandbox)
    ensure_follower(ctx(api), "shop", name="OLDEST")
    sandbox.admin("POST", "clock/advance", json={"seconds": 5})

    checked = ensure_follower(ctx(api, check=True), "shop", count=3)
    assert checked.changed and len(checked.requests) == 2
    assert len(followers_of(sandbox, leader["id"])) == 1

    grown = ensure_follower(ctx(api), "shop", count=3)
    assert grown.changed and len(grown.data["followers"]) == 3
    assert len(followers_of(sandbox, leader["id"])) == 3
    assert not ensure_follower(ctx(api), "shop", count=3).changed

    shrink_check = ensure_follower(ctx(api, check=True), "shop", count=1)
    assert [r.method for r in shrink_check.requests] == ["DELETE", "DELETE"]
    assert len(followers_of(sandbox, leader["id"])) == 3
    shrunk = ensure_follower(ctx(api), "shop", count=1)
    assert shrunk.changed
    assert list(followers_of(sandbox, leader["id"])) == ["OLDEST"]  # the newest went first

    gone = ensure_follower(ctx(api), "shop", count=0)
    assert gone.changed and followers_of(sandbox, leader["id"]) == {}
    assert len(pg_addons(sandbox)) == 1


def test_absent_destroys_only_a_follower(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    leader = seed(sandbox)
    ensure_follower(ctx(api), "shop", name="REPLICA")
    checked = ensure_follower(ctx(api, check=True), "shop", name="REPLICA", state="absent")
    assert checked.changed and checked.requests[0].method == "DELETE"
    assert "REPLICA" in followers_of(sandbox, leader["id"])
    assert ensure_follower(ctx(api), "shop", name="REPLICA", state="absent").changed
    assert followers_of(sandbox, leader["id"]) == {}
    assert not ensure_follower(ctx(api), "shop", name="REPLICA", state="absent").changed

    with sandbox.http() as http:  # a fork under that name is not a follower: never destroyed
        body = {
            "plan": {"name": STANDARD},
            "attachment": {"name": "COPY"},
            "config": {"fork": "DATABASE_URL"},
        }
        http.post("/apps/shop/addons", json=body).raise_for_status()
    with pytest.raises(ValidationError, match="not a follower of DATABASE") as refused:
        ensure_follower(ctx(api), "shop", name="COPY", state="absent")
    assert "nothing was destroyed" in refused.value.message and "remove it" not in refused.value.message
    with pytest.raises(ValidationError, match="pick another name"):
        ensure_follower(ctx(api), "shop", name="COPY")
    assert len(pg_addons(sandbox)) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "replica"}, "invalid"),
        ({"name": "DATABASE"}, "primary"),
        ({"name": "REPLICA_URL"}, "_URL"),
        ({"count": -1}, "count must be 0 or more"),
        ({"name": "A", "count": 1}, "exactly one"),
        ({}, "exactly one"),
        ({"count": 1, "state": "absent"}, "count: 0"),
        ({"name": "A", "max_lag": -2}, "max_lag"),
        ({"name": "A", "plan": "heroku-postgresql:essential-0"}, "Standard, Premium"),
        ({"name": "A", "plan": "heroku-redis:mini"}, "not a Heroku Postgres plan"),
    ],
)
def test_bad_input_sends_nothing(
    sandbox: RunningSandbox, api: HerokuAPI, kwargs: dict[str, Any], message: str
) -> None:
    seed(sandbox)
    assert_refused_before_any_request(api, lambda: ensure_follower(ctx(api), "shop", **kwargs), message)
    assert len(pg_addons(sandbox)) == 1


def test_tier_and_chain_rules_checked_before_writing(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    seed(sandbox, "tiny", "heroku-postgresql:essential-0")
    with pytest.raises(ValidationError, match="essential-0"):
        ensure_follower(ctx(api), "tiny", name="REPLICA")
    assert len(pg_addons(sandbox)) == 1

    seed(sandbox)
    ensure_follower(ctx(api), "shop", name="REPLICA")
    with pytest.raises(ValidationError, match="itself a follower"):
        ensure_follower(ctx(api, check=True), "shop", name="SECOND", leader="REPLICA")
    assert len(pg_addons(sandbox)) == 3


def test_api_refusal_is_surfaced(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    # hobby-dev is not caught client-side (the CLI's legacy-essential rule skips it): the provider refuses.
    seed(sandbox)
    with pytest.raises(ConflictError) as refused:
        ensure_follower(ctx(api), "shop", name="REPLICA", plan="heroku-postgresql:hobby-dev")
    assert refused.value.error_id == "addon_error"
    assert refused.value.request_id
    assert len(pg_addons(sandbox)) == 1


def test_unknown_app_and_database(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    seed(sandbox)
    with pytest.raises(NotFoundError, match="Couldn't find that app"):
        ensure_follower(ctx(api), "ghost", name="REPLICA")
    with pytest.raises(NotFoundError, match="NOPE"):
        ensure_follower(ctx(api), "shop", name="REPLICA", leader="NOPE")
    assert len(pg_addons(sandbox)) == 1


class LoseCreateResponse(httpx.BaseTransport):
    """Forwards to the sandbox, but loses the response of the first add-on create after it was applied."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path.endswith("/addons") and not self.lost:
            self.lost += 1
            response.read()
            raise httpx.ReadError("connection reset by peer", request=request)
        return response


@pytest.mark.parametrize("mode", ["name", "count"])
def test_lost_create_response_is_not_repeated(sandbox: RunningSandbox, mode: str) -> None:
    leader = seed(sandbox)
    transport = LoseCreateResponse()
    with HerokuClient(api_key=sandbox.token, api_url=sandbox.url, transport=transport) as client:
        options: dict[str, Any] = {"name": "REPLICA"} if mode == "name" else {"count": 1}
        result = ensure_follower(ctx(HerokuAPI(client)), "shop", **options)
    assert transport.lost == 1
    assert result.changed and any("connection failed" in w for w in result.warnings)
    assert len(followers_of(sandbox, leader["id"])) == 1


def test_connection_reset_before_create_fails_cleanly(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    leader = seed(sandbox)
    sandbox.admin(
        "POST", "faults", json={"kind": "reset", "method": "POST", "path": "/addons$", "remaining": 1}
    )
    with pytest.raises(ConnectionFailedError, match="run again"):
        ensure_follower(ctx(api), "shop", name="REPLICA")
    assert followers_of(sandbox, leader["id"]) == {}
    assert ensure_follower(ctx(api), "shop", name="REPLICA").changed
    assert len(followers_of(sandbox, leader["id"])) == 1


def test_failed_provisioning_says_what_to_do_and_rerun_creates_nothing(
    sandbox: RunningSandbox, api: HerokuAPI
) -> None:
    # A follower whose provisioning fails stays attached as a failed add-on: the rerun finds it
    # again (and creates no second one), so both failures must tell the user to destroy it.
    seed(sandbox)
    sandbox.admin("POST", "faults", json={"kind": "provision_failure", "remaining": 1})
    messages = []
    for _run in range(2):
        with pytest.raises(APIError) as failed:
            ensure_follower(ctx(api), "shop", name="REPLICA")
        messages.append(failed.value.message)
    failed_addons = [a for a in pg_addons(sandbox).values() if a["state"] == "deprovisioned"]
    assert len(failed_addons) == 1 and len(pg_addons(sandbox)) == 2
    name = failed_addons[0]["name"]
    for message in messages:
        assert f"{name} could not be created" in message and "injected provision_failure" in message
        assert f"heroku addons:destroy {name} -a shop" in message
