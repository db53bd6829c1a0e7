"""The sandbox answers like the recordings: every route the modules call is exercised against a real
sandbox, and each answer's field set, JSON types (nulls included) and formats are compared with the
corpus's answers on that route, so the sandbox cannot drift from real Heroku again.

Rules, per kind of body: every key the sandbox sends appears in some reference answer, and every key
present in all reference answers is sent; each value's JSON type is one a reference answer has for
that key. Where no reference shows a state (no follower was ever recorded), ALLOWED says what the
sandbox may add and why.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from herokupg_sandbox.recorded import ROUTES, route_of
from herokupg_sandbox.threaded import RunningSandbox, ThreadedSandbox
from recorded_helpers import CORPUS, _keep_secret_registry  # noqa: F401

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.errors import NotFoundError

# The kind of body each route answers (lists are compared item by item).
FAMILY = {
    "GET /apps/{app}/addons": "addon",
    "GET /apps/{app}/addons/{addon}": "addon",
    "POST /apps/{app}/addons": "addon",
    "DELETE /apps/{app}/addons/{addon}": "addon",
    "GET /apps/{app}/addon-attachments": "attachment",
    "POST /actions/addon-attachments/resolve": "attachment",
    "POST /addon-attachments": "attachment",
    "GET /apps/{app}/config-vars": "config_vars",
    "POST /apps/{app}/log-sessions": "log_session",
    "GET /apps/{app}/releases": "release",
    "GET /apps/{app}/releases/{release}": "release",
    "GET /apps/{app}/formation": "formation",
    "GET /client/v11/databases/{db}": "database",
    "GET /client/v11/databases/{db}/wait_status": "wait_status",
    "PUT /client/v11/databases/{db}/unfollow": "unfollow",
    "POST /client/v11/databases/{db}/backups": "transfer",
    "POST /client/v11/databases/{db}/restores": "transfer",
    "GET /client/v11/apps/{app}/transfers": "transfer",
    "GET /client/v11/apps/{app}/transfers/{transfer}": "transfer",
    "DELETE /client/v11/apps/{app}/transfers/{transfer}": "transfer",
    "POST /client/v11/apps/{app}/transfers/{transfer}/actions/public-url": "public_url",
    "POST /client/v11/apps/{app}/transfers/{transfer}/actions/cancel": "cancel",
    "GET /client/v11/databases/{db}/transfer-schedules": "schedule",
    "POST /client/v11/databases/{db}/transfer-schedules": "schedule",
    "DELETE /client/v11/databases/{db}/transfer-schedules/{schedule}": "schedule",
    "GET /postgres/v0/databases/{db}/config": "settings",
    "PATCH /postgres/v0/databases/{db}/config": "settings",
}
# Nested objects compared by the same rules ("info" rows have their own).
NESTED = {
    "addon": ("app", "addon_service", "plan", "billing_entity", "billed_price"),
    "attachment": ("app", "addon"),
    "attachment.addon": ("app", "plan"),
    "transfer": ("schedule",),
    "database:production": ("plan", "formation"),
}
# What the sandbox may send that no reference answer shows, and why, by (route, kind of body).
PRICE = "Accept-Expansion: plan on create and delete: the CLI prints plan.price (no create recorded)"
ALLOWED_KEYS: dict[tuple[str, str], dict[str, str]] = {
    ("POST /apps/{app}/addons", "addon.plan"): {"price": PRICE},
    ("DELETE /apps/{app}/addons/{addon}", "addon.plan"): {"price": PRICE},
}
ALLOWED_TYPES = {
    ("database:production", "following"): (
        "str",
        "a follower's leader URL: no follower is recorded; the CLI reads a URL",
    ),
    ("database:production", "leader"): ("str", "a follower's leader: the CLI prints it as text (pg:promote)"),
    ("database:production", "forked_from"): (
        "null",
        "a database that is no fork; the recorded one is a fork",
    ),
    ("database:production", "target_transaction"): (
        "int",
        "a follower's leader transaction (no follower recorded)",
    ),
    ("transfer", "source_bytes"): ("int", "the restore's dump size"),
}
# Info rows a follower has (no follower is recorded; the CLI's pg:info reads them).
FOLLOWER_ROWS = {"Following": {"str"}, "Behind By": {"str"}}
URL_ROWS = {"Followers", "Forks", "Following"}  # their values are database URLs (resolve_db_name)

TRANSFER_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000$")
DATABASE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
PLATFORM_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
FORMATS = {
    "transfer": (
        "created_at",
        "started_at",
        "finished_at",
        "updated_at",
        "canceled_at",
        "deleted_at",
        "purged_at",
    ),
    "schedule": ("created_at", "updated_at", "deleted_at"),
    "public_url": ("expires_at",),
    "cancel": ("canceled_at",),
}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return {str: "str", list: "list", dict: "object"}[type(value)]


def family_of(route: str, body: Any) -> str:
    family = FAMILY[route]
    if family == "database":
        return "database:production" if isinstance(body.get("plan"), dict) else "database:essential"
    return family


def items(body: Any) -> list[Any]:
    return body if isinstance(body, list) else [body]


def references() -> dict[str, list[Any]]:
    """Reference bodies by family: every successful answer of the corpus on the family's routes."""
    out: dict[str, list[Any]] = {}
    for exchange in CORPUS.exchanges.values():
        if exchange.route in FAMILY and 200 <= exchange.status < 300 and exchange.body is not None:
            for item in items(exchange.body):
                out.setdefault(family_of(exchange.route, item), []).append(item)
    return out


def compare(
    family: str, got: dict[str, Any], refs: list[dict[str, Any]], where: str, route: str = ""
) -> list[str]:
    problems: list[str] = []
    keys_all = set().union(*(r.keys() for r in refs))
    keys_always = set.intersection(*(set(r) for r in refs))
    allowed = ALLOWED_KEYS.get((route, family), {})
    for key in sorted(set(got) - keys_all - set(allowed)):
        problems.append(f"{where}: sends {key!r}, which no reference answer has")
    for key in sorted(keys_always - set(got)):
        problems.append(f"{where}: lacks {key!r}, which every reference answer has")
    for key in sorted(set(got) & keys_all):
        ref_types = {json_type(r[key]) for r in refs if key in r}
        kind = json_type(got[key])
        extra = ALLOWED_TYPES.get((family, key))
        if kind not in ref_types and not (extra and extra[0] == kind):
            problems.append(f"{where}.{key}: {kind}, references have {sorted(ref_types)}")
        nested = f"{family}.{key}"
        if key in NESTED.get(family, ()) and isinstance(got[key], dict):
            sub = [r[key] for r in refs if isinstance(r.get(key), dict)]
            if sub:
                problems += compare(nested, got[key], sub, f"{where}.{key}", route)
    if family in ("database:production", "database:essential"):
        problems += compare_rows(got.get("info", []), [r.get("info", []) for r in refs], where)
    for key in FORMATS.get(family, ()):
        value = got.get(key)
        if value is not None and not TRANSFER_TIME.match(value):
            problems.append(f"{where}.{key}: {value!r} is not like 2020-12-13 16:22:47 +0000")
    if family in ("database:production", "database:essential") and not DATABASE_TIME.match(
        got.get("created_at", "")
    ):
        problems.append(
            f"{where}.created_at: {got.get('created_at')!r} is not like 2020-10-06T17:21:08.826+00:00"
        )
    if family in ("addon", "attachment") and not PLATFORM_TIME.match(got.get("created_at", "")):
        problems.append(f"{where}.created_at: {got.get('created_at')!r} is not like 2020-12-13T15:00:00Z")
    return problems


def compare_rows(rows: list[dict[str, Any]], ref_rows: list[list[dict[str, Any]]], where: str) -> list[str]:
    problems: list[str] = []
    names = {row["name"] for rows_ in ref_rows for row in rows_}
    always = set.intersection(*({row["name"] for row in rows_} for rows_ in ref_rows))
    value_types: dict[str, set[str]] = {}
    for rows_ in ref_rows:
        for row in rows_:
            value_types.setdefault(row["name"], set()).update(json_type(v) for v in row["values"])
    got = {row["name"]: row for row in rows}
    for name in sorted(set(got) - names - set(FOLLOWER_ROWS)):
        problems.append(f"{where}.info: row {name!r}, which no reference answer has")
    for name in sorted(always - set(got)):
        problems.append(f"{where}.info: lacks row {name!r}")
    for name, row in got.items():
        if set(row) - {"name", "values", "resolve_db_name"}:
            problems.append(f"{where}.info[{name}]: keys {sorted(row)}")
        if not row["values"] and name not in ("Followers", "Forks"):
            problems.append(f"{where}.info[{name}]: an empty row (Heroku leaves those out)")
        allowed = (
            value_types.get(name, set())
            | FOLLOWER_ROWS.get(name, set())
            | ({"str"} if name in URL_ROWS else set())
        )
        for value in row["values"]:
            if json_type(value) not in allowed:
                problems.append(
                    f"{where}.info[{name}]: {json_type(value)} value, references have {sorted(allowed)}"
                )
    return problems


class Capture(httpx.BaseTransport):
    """Forwards to the sandbox and keeps every JSON answer, by route."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.bodies: list[tuple[str, int, Any]] = []
        self.raw: list[tuple[str, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        content = response.read()
        route = route_of(request.method, str(request.url)) or f"{request.method} {request.url.path}"
        self.raw.append((route, response))
        if 200 <= response.status_code < 300 and content:
            self.bodies.append((route, response.status_code, httpx.Response(200, content=content).json()))
        return httpx.Response(response.status_code, headers=response.headers, content=content)


def until(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the sandbox did not get there in time"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Capture]:
    """Drive every route the modules call against one sandbox with realistic (short) delays."""
    with ThreadedSandbox(tmp_path_factory.mktemp("shapes")) as sb:
        sb.admin("PATCH", "settings", json={"provision_delay": 0.5, "transfer_delay": 1.0})
        capture = Capture()
        with HerokuClient(api_key=sb.token, api_url=sb.url, transport=capture) as client:
            drive(sb, HerokuAPI(client))
        yield capture


def drive(sb: RunningSandbox, api: HerokuAPI) -> None:
    with sb.http() as http:
        http.post("/apps", json={"name": "shop"}).raise_for_status()

    def ready(name: str) -> None:
        until(lambda: api.get_addon("shop", name).state == "provisioned")

    primary = api.create_addon("shop", "heroku-postgresql:standard-0")
    with pytest.raises(NotFoundError):  # 404 while provisioning
        api.database(primary.id)
    with pytest.raises(NotFoundError):  # the Data API's HTML 404 for an id it does not know
        api.database("whaaaat")
    ready(primary.name)
    essential = api.create_addon("shop", "heroku-postgresql:essential-0", attachment_name="SMALL")
    ready(essential.name)
    follower = api.create_addon(
        "shop", "heroku-postgresql:standard-0", config={"follow": "DATABASE_URL"}, attachment_name="REPLICA"
    )
    fork = api.create_addon(
        "shop", "heroku-postgresql:standard-0", config={"fork": "DATABASE_URL"}, attachment_name="COPY"
    )
    ready(follower.name)
    ready(fork.name)
    api.list_attachments("shop")
    api.resolve_attachment("shop", "DATABASE")
    api.config_vars("shop")
    for addon in (primary, essential, follower, fork):
        api.database(addon.id)
    api.wait_status(follower.id)

    backup = api.capture(primary.id)
    api.list_transfers("shop")
    until(lambda: api.transfer("shop", backup.uuid).finished)
    api.public_url("shop", backup.num or 0)
    done = api.transfer("shop", backup.uuid)
    restore = api.restore(primary.id, done.to_url or "")
    until(lambda: api.transfer("shop", restore.uuid).finished)
    api.list_transfers("shop")
    api.delete_transfer("shop", backup.num or 0)
    running = api.capture(primary.id)  # transfer_delay: still running when cancelled
    api.cancel_transfer("shop", running.uuid)

    api.create_schedule(primary.id, 2, "UTC", "DATABASE_URL")
    [schedule] = api.schedules(primary.id)
    api.delete_schedule(primary.id, schedule.uuid)
    api.settings(primary.id)
    api.update_settings(primary.id, {"log_min_duration_statement": 50})
    api.unfollow(follower.id)
    api.create_attachment(primary.name, "shop", name="ALIAS")
    api.create_log_session("shop", dyno="postgres")
    api.update_app("shop", maintenance=True)
    assert api.get_app("shop").maintenance
    sb.admin("PUT", "apps/shop/formation", json={"processes": [{"type": "web", "command": "bin/web"}]})
    api.formation("shop")
    [release, *_] = api.releases("shop", "version ..; max=5, order=desc")
    api.release("shop", release.id)
    api.delete_addon("shop", fork.name)


def test_every_route_the_modules_call_was_exercised(traffic: Capture) -> None:
    assert set(ROUTES) <= {route for route, _, _ in traffic.bodies}


def test_the_sandbox_answers_have_the_recorded_field_sets_and_types(traffic: Capture) -> None:
    refs = references()
    problems: list[str] = []
    for route, _status, body in traffic.bodies:
        if route not in FAMILY:
            continue
        if FAMILY[route] == "config_vars":
            problems += [f"{route}: {k} is not text" for k, v in body.items() if not isinstance(v, str)]
            continue
        if FAMILY[route] == "settings":
            ref = refs["settings"][0]
            for name, entry in body.items():
                problems += compare("settings.entry", entry, list(ref.values()), f"{route}[{name}]")
            continue
        for item in items(body):
            family = family_of(route, item)
            problems += compare(family, item, refs[family], f"{route} ({family})", route)
    assert not problems, "\n".join(dict.fromkeys(problems))


def test_a_running_transfer_has_a_null_succeeded_in_the_sandbox_too(traffic: Capture) -> None:
    created = [b for r, _, b in traffic.bodies if r == "POST /client/v11/databases/{db}/backups"]
    assert created and all(b["succeeded"] is None and b["finished_at"] is None for b in created)
    listed = [t for r, _, b in traffic.bodies if r == "GET /client/v11/apps/{app}/transfers" for t in b]
    assert any(t["succeeded"] is None for t in listed) and any(t["succeeded"] is True for t in listed)


def test_a_fork_names_its_source_by_bare_id_in_the_sandbox_too(traffic: Capture) -> None:
    bodies = [b for r, _, b in traffic.bodies if r == "GET /client/v11/databases/{db}"]
    [fork] = [b for b in bodies if b.get("forked_from")]
    assert re.fullmatch(r"[0-9a-f-]{36}", fork["forked_from"])
    assert all(row["name"] != "Forked From" for b in bodies for row in b["info"])


def test_a_public_url_lasts_an_hour(traffic: Capture) -> None:
    [response] = [x for r, x in traffic.raw if r.endswith("/actions/public-url")]
    expires = datetime.strptime(response.json()["expires_at"], "%Y-%m-%d %H:%M:%S %z")
    answered = datetime.strptime(response.headers["date"], "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
    assert 3590 <= (expires - answered).total_seconds() <= 3610


def test_an_unknown_database_answers_the_recorded_html_404(traffic: Capture) -> None:
    recorded = CORPUS["not-found-html-2020/01-get-database-404"]
    route = "GET /client/v11/databases/{db}"
    [response] = [x for r, x in traffic.raw if r == route and x.text.startswith("<")]
    assert response.text == recorded.body
    assert response.headers["content-type"].startswith(recorded.headers["Content-Type"])
    assert response.headers["x-cascade"] == "pass"
