"""The route table of the recorded-traffic corpus is exactly what the modules call, and every route
has a reference answer in the corpus (a recording where one is public, else labelled derived,
schema example or stub)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from herokupg_sandbox.recorded import OTHER_ROUTES, ROUTES, Replay
from recorded_helpers import CORPUS, _keep_secret_registry  # noqa: F401

import herokupg
from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient

# One call of each HerokuAPI method the operations use (the arguments do not matter here).
CALLS: dict[str, Callable[[HerokuAPI], object]] = {
    "get_app": lambda api: api.get_app("app"),
    "update_app": lambda api: api.update_app("app", maintenance=True),
    "config_vars": lambda api: api.config_vars("app"),
    "get_addon": lambda api: api.get_addon("app", "addon"),
    "create_addon": lambda api: api.create_addon("app", "heroku-postgresql:standard-0"),
    "delete_addon": lambda api: api.delete_addon("app", "addon"),
    "list_attachments": lambda api: api.list_attachments("app"),
    "resolve_attachment": lambda api: api.resolve_attachment("app", "DATABASE"),
    "create_attachment": lambda api: api.create_attachment("addon", "app", name="DATABASE"),
    "create_log_session": lambda api: api.create_log_session("app", dyno="postgres"),
    "releases": lambda api: api.releases("app", "version ..; max=5, order=desc"),
    "release": lambda api: api.release("app", "release"),
    "formation": lambda api: api.formation("app"),
    "database": lambda api: api.database("db"),
    "wait_status": lambda api: api.wait_status("db"),
    "unfollow": lambda api: api.unfollow("db"),
    "capture": lambda api: api.capture("db"),
    "restore": lambda api: api.restore("db", "https://example.invalid/b.dump"),
    "schedules": lambda api: api.schedules("db"),
    "create_schedule": lambda api: api.create_schedule("db", 2, "UTC", "DATABASE_URL"),
    "delete_schedule": lambda api: api.delete_schedule("db", "uuid"),
    "list_transfers": lambda api: api.list_transfers("app"),
    "transfer": lambda api: api.transfer("app", "uuid"),
    "delete_transfer": lambda api: api.delete_transfer("app", 1),
    "public_url": lambda api: api.public_url("app", 1),
    "cancel_transfer": lambda api: api.cancel_transfer("app", "uuid"),
    "settings": lambda api: api.settings("db"),
    "update_settings": lambda api: api.update_settings("db", {"log_min_duration_statement": 50}),
}


def api_methods_the_operations_call() -> set[str]:
    root = Path(herokupg.__file__).parent
    sources = [*root.glob("ops/*.py"), *root.glob("slowlog/*.py"), root / "resolve.py"]
    text = "\n".join(path.read_text() for path in sources)
    return set(re.findall(r"\b(?:api|reads)\.(\w+)\(", text)) - {"forget"}


def test_calls_cover_every_api_method_the_operations_use() -> None:
    assert set(CALLS) == api_methods_the_operations_call()


def test_routes_are_exactly_the_routes_of_those_calls() -> None:
    first = {}
    for exchange in CORPUS.exchanges.values():
        if exchange.route and 200 <= exchange.status < 300:
            first.setdefault(exchange.route, exchange)
    replay = Replay(first.values(), repeat=first.values())
    with HerokuClient(api_key="k", transport=replay.transport(), retries=0, env={}) as client:
        api = HerokuAPI(client)
        for call in CALLS.values():
            call(api)
    assert set(replay.routes_seen()) == set(ROUTES)
    assert not set(ROUTES) & set(OTHER_ROUTES)


def test_every_route_has_a_reference_answer_and_says_what_kind() -> None:
    kinds = {route: sorted({e.kind for e in CORPUS.for_route(route)}) for route in ROUTES}
    assert all(kinds.values()), [r for r, k in kinds.items() if not k]
    recorded = [route for route, k in kinds.items() if "recording" in k]
    # The Data API routes the backup, restore, info and schedule modules read are all recorded.
    assert {
        "GET /client/v11/databases/{db}",
        "POST /client/v11/databases/{db}/backups",
        "POST /client/v11/databases/{db}/restores",
        "GET /client/v11/apps/{app}/transfers",
        "GET /client/v11/apps/{app}/transfers/{transfer}",
        "POST /client/v11/apps/{app}/transfers/{transfer}/actions/public-url",
        "GET /client/v11/databases/{db}/transfer-schedules",
        "POST /client/v11/databases/{db}/transfer-schedules",
    } <= set(recorded)
