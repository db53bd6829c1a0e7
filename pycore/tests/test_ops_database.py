"""ensure_database against the real sandbox: a primary created, found again, destroyed; any Postgres
add-on of the app destroyed by attachment name, add-on name or id; refusals; concurrent creation."""

from __future__ import annotations

from typing import Any

import pytest
from herokupg_sandbox.threaded import RunningSandbox, seed_app
from replication_helpers import FAST, STANDARD, assert_refused_before_any_request, ctx, seed

from herokupg.api import HerokuAPI
from herokupg.errors import ConfirmationRequiredError, NotFoundError, OperationTimeoutError, ValidationError
from herokupg.models import Addon
from herokupg.ops.base import Context, WaitOptions
from herokupg.ops.database import ensure_database
from herokupg.ops.followers import ensure_follower
from herokupg.ops.forks import ensure_fork
from herokupg.ops.promote import promote


def addons(sandbox: RunningSandbox) -> dict[str, dict[str, Any]]:
    """The sandbox's add-ons by name, with their attachment names (its own state, not the API's)."""
    state = sandbox.admin("GET", "state")
    names: dict[str, list[str]] = {}
    for att in state["attachments"].values():
        names.setdefault(att["addon_id"], []).append(att["name"])
    return {a["name"]: {**a, "attached_as": sorted(names.get(a["id"], []))} for a in state["addons"].values()}


def test_primary_check_real_rerun_absent(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    seed_app(sandbox, "shop")

    checked = ensure_database(ctx(api, check=True), "shop", plan="standard-0")
    assert checked.changed and checked.data["database"] is None
    assert checked.requests[0].body == {
        "plan": {"name": STANDARD}, "attachment": {"name": "DATABASE"}, "config": {},
    }
    assert checked.before == {"name": "DATABASE", "addon": None, "plan": None, "present": False}
    assert checked.after == {"name": "DATABASE", "addon": None, "plan": STANDARD, "present": True}
    assert addons(sandbox) == {}

    real = ensure_database(ctx(api), "shop", plan="standard-0", version="15")
    assert real.changed
    [(name, created)] = addons(sandbox).items()
    assert created["attached_as"] == ["DATABASE"] and created["plan"] == STANDARD
    assert created["state"] == "provisioned" and created["config"] == {"version": "15"}
    assert created["db"]["version"] == "15"
    assert real.data["database"]["addon"] == name and real.data["database"]["status"] == "Available"
    assert real.data["database"]["pg_version"].startswith("15")
    assert real.after == {"name": "DATABASE", "addon": name, "plan": STANDARD, "present": True}

    again = ensure_database(ctx(api, check=True), "shop", plan="standard-0")
    assert not again.changed and again.requests == [] and again.data["database"]["addon"] == name
    rerun = ensure_database(ctx(api), "shop", plan="standard-0", version="15")
    assert not rerun.changed and rerun.warnings == [] and "nothing to change" in rerun.data["msg"]
    assert list(addons(sandbox)) == [name]

    other = ensure_database(ctx(api), "shop", plan="standard-2", version="16")
    assert not other.changed and list(addons(sandbox)) == [name]
    assert any("standard-0, not heroku-postgresql:standard-2" in w for w in other.warnings)
    assert any("PostgreSQL 15, not 16" in w for w in other.warnings)

    absent = {"name": "DATABASE", "state": "absent", "confirm": "shop"}
    gone_check = ensure_database(ctx(api, check=True), "shop", **absent)
    assert gone_check.changed and gone_check.requests[0].method == "DELETE" and name in addons(sandbox)
    gone = ensure_database(ctx(api), "shop", **absent)
    assert gone.changed and addons(sandbox) == {}
    assert gone.before is not None and gone.before["addon"] == name and gone.after == {
        "name": "DATABASE", "addon": None, "plan": None, "present": False, "attachments": [],
    }
    rerun_gone = ensure_database(ctx(api), "shop", **absent)
    assert not rerun_gone.changed and rerun_gone.requests == []
    assert rerun_gone.data["msg"] == "No add-on attached as DATABASE on shop: nothing to destroy."


def test_named_database_and_addon_name(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    seed(sandbox)
    reports = {"name": "REPORTS", "addon": "shop-reports", "plan": "essential-0"}
    made = ensure_database(ctx(api), "shop", **reports)
    assert made.changed and made.requests[0].body and made.requests[0].body["name"] == "shop-reports"
    assert addons(sandbox)["shop-reports"]["attached_as"] == ["REPORTS"]
    assert not ensure_database(ctx(api), "shop", **reports).changed
    with pytest.raises(ValidationError, match="REPORTS on shop is shop-reports, not other-name"):
        ensure_database(ctx(api), "shop", name="REPORTS", addon="other-name", plan="essential-0")
    with pytest.raises(ValidationError, match=r"already exists .* not attached to shop as SPARE"):
        ensure_database(ctx(api), "shop", name="SPARE", addon="shop-reports", plan="essential-0")
    assert len(addons(sandbox)) == 2  # nothing new


def test_absent_destroys_any_postgres_addon_of_the_app(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    """A follower by attachment name, a fork by add-on name, the former primary by add-on id."""
    primary = seed(sandbox)
    ensure_follower(ctx(api), "shop", name="REPLICA")
    ensure_fork(ctx(api), "shop", name="COPY", fast=True)
    promote(ctx(api), "shop", "REPLICA", confirm="shop")
    by_name = addons(sandbox)
    assert "DATABASE" not in by_name[primary["name"]]["attached_as"]  # the former primary, under an alias
    fork = next(n for n, a in by_name.items() if a["attached_as"] == ["COPY"])

    assert ensure_database(ctx(api), "shop", addon=fork, state="absent", confirm="shop").changed
    assert ensure_database(ctx(api), "shop", addon=primary["id"], state="absent", confirm="shop").changed
    left = addons(sandbox)
    assert list(left) == [n for n, a in by_name.items() if "REPLICA" in a["attached_as"]]
    assert left[next(iter(left))]["attached_as"] == ["DATABASE", "REPLICA"]

    # Reruns: the add-ons are gone, nothing is sent, and the result says so.
    for key in (fork, primary["id"]):
        rerun = ensure_database(ctx(api), "shop", addon=key, state="absent", confirm="shop")
        assert not rerun.changed and rerun.requests == [] and "nothing to destroy" in rerun.data["msg"]
    assert ensure_database(ctx(api), "shop", name="REPLICA", state="absent", confirm="shop").changed
    assert addons(sandbox) == {}


def test_absent_refusals_change_nothing(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    other = seed(sandbox, "other")
    seed(sandbox)
    with sandbox.http() as http:  # other's database, attached to shop too
        body = {"addon": {"name": other["name"]}, "app": {"name": "shop"}, "name": "SHARED"}
        http.post("/addon-attachments", json=body).raise_for_status()
    before = addons(sandbox)
    with pytest.raises(ValidationError, match="billed to other and only attached to shop"):
        ensure_database(ctx(api), "shop", name="SHARED", state="absent", confirm="shop")
    with pytest.raises(ValidationError, match=r"DATABASE on shop is .*, not " + other["id"]):
        ensure_database(ctx(api), "shop", name="DATABASE", addon=other["id"], state="absent", confirm="shop")
    with pytest.raises(ConfirmationRequiredError, match="set confirm: shop"):
        ensure_database(ctx(api), "shop", name="DATABASE", state="absent")
    with pytest.raises(ConfirmationRequiredError, match="did not match shop"):
        ensure_database(ctx(api), "shop", name="DATABASE", state="absent", confirm="other")
    assert addons(sandbox) == before


def test_absent_never_destroys_an_addon_attached_under_a_refused_name(
    sandbox: RunningSandbox, api: HerokuAPI
) -> None:
    """A former primary remembered by id, after a failover back made it DATABASE again: refused by
    id, by add-on name and by attachment name; once it is no longer DATABASE, it is destroyed."""
    primary = seed(sandbox)
    ensure_follower(ctx(api), "shop", name="REPLICA")
    promote(ctx(api), "shop", "REPLICA", confirm="shop")
    promote(ctx(api), "shop", primary["name"], confirm="shop", allow_non_follower=True)  # back again
    before = addons(sandbox)
    assert "DATABASE" in before[primary["name"]]["attached_as"]
    guard = {"state": "absent", "confirm": "shop", "refuse_attached_as": ["DATABASE"]}
    refused = f"{primary['name']} is attached to shop as DATABASE: refusing"
    for key in ({"addon": primary["id"]}, {"addon": primary["name"]}, {"name": "DATABASE"}):
        for check in (True, False):
            with pytest.raises(ValidationError, match=refused):
                ensure_database(ctx(api, check=check), "shop", **key, **guard)  # type: ignore[arg-type]
    assert addons(sandbox) == before

    promote(ctx(api), "shop", "REPLICA", confirm="shop", allow_non_follower=True)
    gone = ensure_database(ctx(api), "shop", addon=primary["id"], **guard)  # type: ignore[arg-type]
    assert gone.changed and primary["name"] not in addons(sandbox)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"plan": "standard-0", "name": "database"}, "invalid"),
        ({"plan": "standard-0", "name": "DATABASE_URL"}, "must not end in _URL"),
        ({}, "plan is required"),
        ({"plan": "heroku-redis:mini"}, "not a Heroku Postgres plan"),
        ({"plan": " "}, "not a Heroku Postgres plan"),
        ({"plan": "advanced-beta"}, "Advanced-tier"),
        ({"plan": "standard-0", "version": "sixteen"}, "major version"),
        ({"plan": "standard-0", "addon": " "}, "must not be empty"),
        ({"state": "absent", "confirm": "shop"}, "needs the database to destroy"),
        ({"plan": "standard-0", "state": "gone"}, "present or absent"),
    ],
)
def test_bad_input_sends_nothing(
    sandbox: RunningSandbox, api: HerokuAPI, kwargs: dict[str, Any], message: str
) -> None:
    seed(sandbox)
    assert_refused_before_any_request(api, lambda: ensure_database(ctx(api), "shop", **kwargs), message)


def test_unknown_app_and_unknown_addon(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    with pytest.raises(NotFoundError, match="Couldn't find that app"):
        ensure_database(ctx(api), "ghost", plan="standard-0")
    seed(sandbox)
    result = ensure_database(ctx(api), "shop", addon="postgresql-nothing-1", state="absent", confirm="shop")
    assert not result.changed
    assert result.data["msg"] == "No add-on named postgresql-nothing-1 on shop: nothing to destroy."


def test_timeout_then_rerun_waits_for_the_same_addon(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    seed_app(sandbox, "shop")
    sandbox.admin("PATCH", "settings", json={"provision_delay": 60})
    short = WaitOptions(timeout=0.2, poll_interval=0.05, first_interval=0.01)
    with pytest.raises(OperationTimeoutError) as timed_out:
        ensure_database(ctx(api, wait=short), "shop", plan="standard-0")
    assert timed_out.value.last_status == "provisioning"
    sandbox.admin("POST", "clock/advance", json={"seconds": 61})
    rerun = ensure_database(ctx(api), "shop", plan="standard-0")
    assert not rerun.changed and rerun.data["database"]["status"] == "Available"
    assert len(addons(sandbox)) == 1


class RacingAPI(HerokuAPI):
    """Another run attaches DATABASE between this run's read and its create."""

    def create_addon(self, app: str, plan: str, **kwargs: Any) -> Addon:
        body = {"plan": {"name": plan}, "attachment": {"name": "DATABASE"}}
        self.client.post(f"/apps/{app}/addons", json=body)
        return super().create_addon(app, plan, **kwargs)


def test_losing_a_concurrent_creation_uses_the_winner(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    seed_app(sandbox, "shop")
    racing = Context(api=RacingAPI(api.client), wait=FAST)
    result = ensure_database(racing, "shop", plan="standard-0", confirm="shop")
    [(name, winner)] = addons(sandbox).items()
    assert winner["attached_as"] == ["DATABASE"]
    assert result.data["database"]["addon"] == name
    assert not result.changed and result.requests == []
    assert any("created by another run" in w for w in result.warnings)


def test_confirmation_asked_by_heroku(sandbox: RunningSandbox, api: HerokuAPI) -> None:
    """Apps in Private Spaces or Shield answer 423 to a new add-on; confirm goes with the request."""
    seed_app(sandbox, "shop")
    sandbox.admin("PUT", "apps/shop/space", json={"space": "secure"})
    with pytest.raises(ConfirmationRequiredError, match=r"Set confirm: shop to create it\. Nothing was"):
        ensure_database(ctx(api), "shop", plan="standard-0")
    assert addons(sandbox) == {}
    result = ensure_database(ctx(api), "shop", plan="standard-0", confirm="shop")
    assert result.changed and [r.body["confirm"] for r in result.requests if r.body] == ["shop"]
    assert len(addons(sandbox)) == 1
