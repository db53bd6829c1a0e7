"""Helpers for the Heroku Postgres sandbox tests: seed through the API, read state, move the clock."""

from __future__ import annotations

from typing import Any

import httpx

from herokupg.sandbox.testing import RunningSandbox

PG = "heroku-postgresql"


def make_app(c: httpx.Client, name: str) -> dict[str, Any]:
    r = c.post("/apps", json={"name": name})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def create_db(
    c: httpx.Client, app: str, plan: str = "standard-0", config: dict[str, Any] | None = None,
    attach_as: str | None = None, confirm: str | None = None,
) -> httpx.Response:
    attachment = {"name": attach_as} if attach_as else {}
    body: dict[str, Any] = {"plan": {"name": f"{PG}:{plan}"}, "attachment": attachment}
    if config:
        body["config"] = config
    if confirm:
        body["confirm"] = confirm
    return c.post(f"/apps/{app}/addons", json=body)


def make_db(c: httpx.Client, app: str, plan: str = "standard-0", **kwargs: Any) -> dict[str, Any]:
    r = create_db(c, app, plan, **kwargs)
    assert r.status_code == 201, r.text
    addon: dict[str, Any] = r.json()
    return addon


def state(c: httpx.Client) -> dict[str, Any]:
    r = c.get("/_sandbox/state")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    body.pop("now", None)
    body.pop("rate_tokens", None)
    body.pop("rate_updated", None)
    return body


def advance(c: httpx.Client, seconds: float) -> None:
    r = c.post("/_sandbox/clock/advance", json={"seconds": seconds})
    assert r.status_code == 200, r.text


def set_settings(c: httpx.Client, **settings: Any) -> None:
    r = c.patch("/_sandbox/settings", json=settings)
    assert r.status_code == 200, r.text


def write(c: httpx.Client, addon_id: str, table: str, *rows: Any) -> httpx.Response:
    return c.post(f"/_sandbox/databases/{addon_id}/writes", json={"table": table, "rows": list(rows)})


def data(c: httpx.Client, addon_id: str) -> dict[str, Any]:
    r = c.get(f"/_sandbox/databases/{addon_id}/data")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def info(c: httpx.Client, addon_id: str) -> dict[str, Any]:
    r = c.get(f"/client/v11/databases/{addon_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def row(body: dict[str, Any], name: str) -> list[str]:
    values: list[str] = next(r["values"] for r in body["info"] if r["name"] == name)
    return values


def assert_error(r: httpx.Response, status: int, error_id: str, *fragments: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["id"] == error_id, body
    for fragment in fragments:
        assert fragment in body["message"], body


def client(sb: RunningSandbox) -> httpx.Client:
    return sb.http()
