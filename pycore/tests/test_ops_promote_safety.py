"""promote against the real sandbox, when it is not alone: two promotions of the same app at once
(injected latency decides who is first), and targets that are not followers of the primary.

Two concurrent promotions must never both succeed: the second one re-checks, right before it
unfollows and again right before it attaches DATABASE, that DATABASE is still the database it read
at the start and that its target still follows it, and stops with an error that names the database
the other promotion made the primary. Nothing the old primary held is lost and DATABASE is attached
once.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from herokupg_sandbox.threaded import RunningSandbox, seed_database
from replication_helpers import FAST, STANDARD

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.errors import ConflictError, HerokuPgError, ValidationError
from herokupg.ops.base import Context, Result
from herokupg.ops.promote import promote

ROWS = ["one", "two", "three"]


def add_db(sandbox: RunningSandbox, app: str, attachment: str | None = None, **config: Any) -> dict[str, Any]:
    return seed_database(sandbox, app, STANDARD, attachment=attachment, config=config)


def seed_two_followers(sandbox: RunningSandbox) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """shop: a primary holding ROWS and two followers of it, REPLICA_A and REPLICA_B."""
    with sandbox.http() as http:
        http.post("/apps", json={"name": "shop"}).raise_for_status()
    primary = add_db(sandbox, "shop")
    sandbox.admin("POST", f"databases/{primary['id']}/writes", json={"table": "orders", "rows": ROWS})
    first = add_db(sandbox, "shop", "REPLICA_A", follow="DATABASE_URL")
    second = add_db(sandbox, "shop", "REPLICA_B", follow="DATABASE_URL")
    return primary, first, second


def state(sandbox: RunningSandbox) -> dict[str, Any]:
    result: dict[str, Any] = sandbox.admin("GET", "state")
    return result


def attached(sandbox: RunningSandbox) -> dict[str, str]:
    return {att["name"]: att["addon_id"] for att in state(sandbox)["attachments"].values()}


def leader_of(sandbox: RunningSandbox, addon_id: str) -> str | None:
    leader: str | None = state(sandbox)["addons"][addon_id]["db"]["leader_id"]
    return leader


def database_attachments(sandbox: RunningSandbox) -> list[str]:
    """The releases that set DATABASE_URL, in order: the primary's creation, then one per promotion."""
    releases = sorted(state(sandbox)["releases"].values(), key=lambda r: r["version"])
    return [r["description"] for r in releases if r["description"].startswith("Attach DATABASE")]


def run_together(sandbox: RunningSandbox, targets: list[str]) -> dict[str, Result | HerokuPgError]:
    """One promotion per target, each in its own thread with its own client, started together."""
    outcomes: dict[str, Result | HerokuPgError] = {}
    start = threading.Barrier(len(targets))

    def run(target: str) -> None:
        with HerokuClient(api_key=sandbox.token, api_url=sandbox.url) as client:
            ctx = Context(api=HerokuAPI(client), wait=FAST)
            start.wait()
            try:
                outcomes[target] = promote(ctx, "shop", target, confirm="shop")
            except HerokuPgError as exc:
                outcomes[target] = exc

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def latency(sandbox: RunningSandbox, method: str, path: str, seconds: float = 3.0) -> None:
    sandbox.admin("POST", "faults", json={
        "kind": "latency", "method": method, "path": path, "latency": seconds, "remaining": 1,
    })


def test_the_second_promotion_stops_before_attaching(sandbox: RunningSandbox) -> None:
    """B's unfollow is slow: A finishes meanwhile, so B finds DATABASE moved right before it attaches."""
    primary, first, second = seed_two_followers(sandbox)
    latency(sandbox, "PUT", f"/databases/{second['id']}/unfollow$")

    outcomes = run_together(sandbox, ["REPLICA_A", "REPLICA_B"])

    assert isinstance(outcomes["REPLICA_A"], Result) and outcomes["REPLICA_A"].changed
    error = outcomes["REPLICA_B"]
    assert isinstance(error, ConflictError), error
    assert first["name"] in error.message and "another promotion" in error.message
    assert second["name"] in error.message and "not attached" in error.message
    assert attached(sandbox)["DATABASE"] == first["id"]
    assert database_attachments(sandbox) == [
        f"Attach DATABASE (@ref:{primary['name']})", f"Attach DATABASE (@ref:{first['name']})"
    ]
    tables = sandbox.admin("GET", f"databases/{first['id']}/data")["tables"]
    assert tables["orders"] == ROWS  # everything the old primary held is on the new one
    assert leader_of(sandbox, second["id"]) is None  # B was unfollowed before it found out
    assert attached(sandbox)["REPLICA_B"] == second["id"]
    assert primary["id"] in attached(sandbox).values()  # the old primary kept an alias


def test_the_second_promotion_stops_before_unfollowing(sandbox: RunningSandbox) -> None:
    """B's first read of its follower is slow: A finishes meanwhile, so B changes nothing at all."""
    primary, first, second = seed_two_followers(sandbox)
    latency(sandbox, "GET", f"/client/v11/databases/{second['id']}$")

    outcomes = run_together(sandbox, ["REPLICA_A", "REPLICA_B"])

    assert isinstance(outcomes["REPLICA_A"], Result)
    error = outcomes["REPLICA_B"]
    assert isinstance(error, ConflictError), error
    assert first["name"] in error.message and "another promotion" in error.message
    assert "Nothing was changed by this run" in error.message
    assert attached(sandbox)["DATABASE"] == first["id"]
    assert database_attachments(sandbox) == [
        f"Attach DATABASE (@ref:{primary['name']})", f"Attach DATABASE (@ref:{first['name']})"
    ]
    assert leader_of(sandbox, second["id"]) == primary["id"]  # still a follower of the old primary
    assert sandbox.admin("GET", f"databases/{first['id']}/data")["tables"]["orders"] == ROWS


def ctx(sandbox: RunningSandbox, client: HerokuClient) -> Context:
    return Context(api=HerokuAPI(client), wait=FAST)


def test_a_fork_is_refused_unless_allowed(sandbox: RunningSandbox) -> None:
    primary, _first, _second = seed_two_followers(sandbox)
    fork = add_db(sandbox, "shop", "STAGING", fork="DATABASE_URL")
    before = attached(sandbox)
    with HerokuClient(api_key=sandbox.token, api_url=sandbox.url) as client:
        for check_mode in (True, False):
            context = ctx(sandbox, client)
            context.check_mode = check_mode
            with pytest.raises(ValidationError) as refused:
                promote(context, "shop", "STAGING", confirm="shop")
            message = refused.value.message
            assert "STAGING" in message and fork["name"] in message and primary["name"] in message
            assert "not a follower" in message and "allow_non_follower" in message
            assert "Nothing was changed" in message
        assert attached(sandbox) == before

        allowed = promote(ctx(sandbox, client), "shop", "STAGING", confirm="shop", allow_non_follower=True)
        assert allowed.changed and [r.method for r in allowed.requests] == ["POST", "POST"]
    assert attached(sandbox)["DATABASE"] == fork["id"]


def test_a_follower_of_another_database_is_refused(sandbox: RunningSandbox) -> None:
    seed_two_followers(sandbox)
    fork = add_db(sandbox, "shop", "STAGING", fork="DATABASE_URL")
    sandbox.admin("POST", "clock/advance", json={"seconds": 3600})  # a new fork can't be followed yet
    add_db(sandbox, "shop", "STAGING_REPLICA", follow="STAGING_URL")
    before = attached(sandbox)
    with HerokuClient(api_key=sandbox.token, api_url=sandbox.url) as client:
        with pytest.raises(ValidationError) as refused:
            promote(ctx(sandbox, client), "shop", "STAGING_REPLICA", confirm="shop")
    assert "it follows STAGING" in refused.value.message and fork["name"] not in refused.value.message
    assert attached(sandbox) == before


def test_an_app_without_a_primary_takes_any_database(sandbox: RunningSandbox) -> None:
    with sandbox.http() as http:
        http.post("/apps", json={"name": "shop"}).raise_for_status()
    lone = add_db(sandbox, "shop", "LONE")
    with HerokuClient(api_key=sandbox.token, api_url=sandbox.url) as client:
        assert promote(ctx(sandbox, client), "shop", "LONE", confirm="shop").changed
    assert attached(sandbox)["DATABASE"] == lone["id"]
