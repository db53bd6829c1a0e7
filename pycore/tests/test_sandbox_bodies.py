"""The sandbox's request bodies (herokupg_sandbox.bodies, pydantic): strict types, errors that name
the field and the expected type but never the value, and nothing changed by a refused body."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from herokupg_sandbox import bodies
from herokupg_sandbox.http import HerokuHTTPError
from herokupg_sandbox.threaded import RunningSandbox
from sandbox_helpers import assert_error, create_app, create_db, snapshot

SECRET = "s3cr3t-value-never-echoed"
APP = "/apps/bodies"
DB = "/client/v11/databases/{db}"
MUST = "Input should be"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fragment"),
    [
        ("POST", "/apps", {"name": {"password": SECRET}}, 422, f"name: {MUST} a valid string (got dict)"),
        ("PATCH", APP, {"maintenance": SECRET}, 422, f"maintenance: {MUST} a valid boolean"),
        ("PATCH", APP, {"owner": SECRET}, 422, "owner: Extra inputs are not permitted (got str)"),
        ("PATCH", f"{APP}/config-vars", {"TOKEN": [SECRET]}, 422, f"TOKEN: {MUST} a valid string"),
        ("POST", f"{APP}/addons", {"plan": [SECRET]}, 422, "plan."),
        ("POST", f"{APP}/log-sessions", {"lines": SECRET}, 422, f"lines: {MUST} a valid integer"),
        ("POST", f"{APP}/log-sessions", {"lines": 1501}, 422, "less than or equal to 1500"),
        ("POST", "/addon-attachments", {"addon": {"name": 5}, "app": "bodies"}, 422, "addon."),
        ("POST", "/actions/addons/resolve", {"addon": ""}, 422, "addon: String should have at least 1"),
        ("POST", f"{DB}/restores", {"backup_url": SECRET}, 400, "must be an http(s) URL"),
        ("POST", f"{DB}/transfer-schedules", {"hour": SECRET}, 400, f"hour: {MUST}"),
        ("PATCH", "/_sandbox/settings", {"provision_delay": -1}, 422, "greater than or equal to 0"),
        ("POST", "/_sandbox/clock/advance", {"seconds": SECRET}, 422, f"seconds: {MUST} a valid number"),
        ("PUT", f"/_sandbox{APP}/formation", {"processes": [{"type": "Web!"}]}, 422, "processes.0.type"),
        ("POST", "/_sandbox/faults", {"kind": "error", "status": 200}, 422, f"status: {MUST} greater"),
    ],
)
def test_a_body_that_does_not_fit_is_refused_naming_the_field_not_the_value(
    client: httpx.Client, sb: RunningSandbox, method: str, path: str, body: Any, status: int, fragment: str
) -> None:
    create_app(client, "bodies")
    db = create_db(client, "bodies")
    before = snapshot(sb)
    r = client.request(method, path.format(db=db["id"]), json=body)
    assert_error(r, status, "bad_request" if status == 400 else "invalid_params", fragment)
    assert SECRET not in r.text
    assert snapshot(sb) == before


def test_numbers_must_be_finite(client: httpx.Client, sb: RunningSandbox) -> None:
    # Python's json reads NaN and Infinity; the models refuse them (allow_inf_nan=False).
    before = snapshot(sb)
    for raw in (b'{"provision_delay": NaN}', b'{"transfer_delay": Infinity}'):
        r = client.patch("/_sandbox/settings", content=raw, headers={"Content-Type": "application/json"})
        assert_error(r, 422, "invalid_params", "Input should be a finite number")
    assert snapshot(sb) == before


def test_the_models_are_strict_pydantic_models() -> None:
    assert bodies.AppUpdate.model_config.get("strict") is True
    with pytest.raises(HerokuHTTPError) as info:
        bodies.parse(bodies.LogSessionCreate, {"tail": "yes", "lines": "5"})
    assert info.value.status == 422 and f"tail: {MUST} a valid boolean (got str)" in info.value.message
    assert f"lines: {MUST} a valid integer (got str)" in info.value.message
    plan = {"name": "heroku-postgresql:standard-0"}
    created = bodies.parse(bodies.AddonCreate, {"plan": plan, "attachment": {}})
    assert created.plan_name == "heroku-postgresql:standard-0" and created.attachment == bodies.Ref()
    assert bodies.parse(bodies.ScheduleCreate, {"hour": "06"}).hour == 6  # as the CLI sends it
