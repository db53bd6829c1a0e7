"""Helpers for the sandbox tests: compact API calls and the state oracle."""

from __future__ import annotations

from typing import Any

import httpx

from herokupg.sandbox.testing import RunningSandbox

INCLUSION = {"Accept-Inclusion": "addon:plan,config_vars"}


def snapshot(sb: RunningSandbox) -> dict[str, Any]:
    """The admin state dump minus what every request changes (clock reading, rate-limit bucket)."""
    state: dict[str, Any] = sb.admin("GET", "state")
    for key in ("now", "rate_tokens", "rate_updated"):
        state.pop(key, None)
    return state


def create_app(client: httpx.Client, name: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/apps", json={"name": name, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def create_db(client: httpx.Client, app: str, plan: str = "standard-0", **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/apps/{app}/addons", json={"plan": {"name": f"heroku-postgresql:{plan}"}, **body}
    )
    assert response.status_code == 201, response.text
    addon: dict[str, Any] = response.json()
    return addon


def attachments(client: httpx.Client, app: str) -> dict[str, dict[str, Any]]:
    response = client.get(f"/apps/{app}/addon-attachments", headers=INCLUSION)
    assert response.status_code == 200, response.text
    return {att["name"]: att for att in response.json()}


def releases(client: httpx.Client, app: str) -> list[dict[str, Any]]:
    response = client.get(f"/apps/{app}/releases")
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def assert_error(response: httpx.Response, status: int, error_id: str, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["id"] == error_id, body
    if message is not None:
        assert message in body["message"], body
