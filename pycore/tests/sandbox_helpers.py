"""Helpers for the sandbox tests: compact API calls, the state oracle, the clock and settings."""

from __future__ import annotations

from typing import Any

import httpx
from herokupg_sandbox.threaded import RunningSandbox

PG = "heroku-postgresql"
INCLUSION = {"Accept-Inclusion": "addon:plan,config_vars"}
VOLATILE = ("now", "rate_tokens", "rate_updated")  # what every request changes


def not_installed(package: str) -> str:
    """Python source that makes ``import package`` (and its submodules) fail as if it were not
    installed: a meta path finder that refuses it before any other finder runs."""
    return f"""
import sys
class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == {package!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, NotInstalled())
"""


def _stable(state: dict[str, Any]) -> dict[str, Any]:
    for key in VOLATILE:
        state.pop(key, None)
    return state


def snapshot(sb: RunningSandbox) -> dict[str, Any]:
    """The admin state dump minus what every request changes (clock reading, rate-limit bucket)."""
    return _stable(sb.admin("GET", "state"))


def state(c: httpx.Client) -> dict[str, Any]:
    """:func:`snapshot` through a client of the sandbox."""
    r = c.get("/_sandbox/state")
    assert r.status_code == 200, r.text
    return _stable(r.json())


def client(sb: RunningSandbox) -> httpx.Client:
    return sb.http()


def create_app(c: httpx.Client, name: str, **extra: Any) -> dict[str, Any]:
    r = c.post("/apps", json={"name": name, **extra})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def post_db(
    c: httpx.Client, app: str, plan: str = "standard-0", *, config: dict[str, Any] | None = None,
    attach_as: str | None = None, confirm: str | None = None, **body: Any,
) -> httpx.Response:
    """POST a heroku-postgresql add-on; the response, whatever it is."""
    body["plan"] = {"name": f"{PG}:{plan}"}
    if attach_as:
        body["attachment"] = {"name": attach_as}
    if config:
        body["config"] = config
    if confirm:
        body["confirm"] = confirm
    return c.post(f"/apps/{app}/addons", json=body)


def create_db(c: httpx.Client, app: str, plan: str = "standard-0", **kwargs: Any) -> dict[str, Any]:
    r = post_db(c, app, plan, **kwargs)
    assert r.status_code == 201, r.text
    addon: dict[str, Any] = r.json()
    return addon


def attachments(c: httpx.Client, app: str) -> dict[str, dict[str, Any]]:
    r = c.get(f"/apps/{app}/addon-attachments", headers=INCLUSION)
    assert r.status_code == 200, r.text
    return {att["name"]: att for att in r.json()}


def releases(c: httpx.Client, app: str) -> list[dict[str, Any]]:
    r = c.get(f"/apps/{app}/releases")
    assert r.status_code == 200, r.text
    result: list[dict[str, Any]] = r.json()
    return result


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


def row(body: dict[str, Any], name: str) -> list[Any]:
    """An info row's values; [] when absent (Heroku leaves empty rows out)."""
    values: list[Any] = next((r["values"] for r in body["info"] if r["name"] == name), [])
    return values


def assert_html_404(r: httpx.Response) -> None:
    """The Data API's answer to a database id it does not know (yet), as recorded from Heroku."""
    assert (r.status_code, r.text) == (404, "<h1>Not Found</h1>"), r.text
    assert r.headers["content-type"].startswith("application/json")


def assert_error(r: httpx.Response, status: int, error_id: str, *fragments: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["id"] == error_id, body
    for fragment in fragments:
        assert fragment in body["message"], body
