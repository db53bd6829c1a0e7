"""Replay of recorded Heroku traffic (the corpus under ``tests/fixtures/heroku-recorded``).

Each corpus file is one exchange: ``{"kind", "source", "request", "response"}``, where ``kind``
says what it is (``recording`` of real Heroku, ``derived`` from one, ``schema-example``, ``stub``).
:class:`Replay` answers requests in an ``httpx.MockTransport`` with the exchanges a test scripts,
route by route and in order, so an operation meets what Heroku really sent (a transfer running,
then finished) without a network. :data:`ROUTES` is every Heroku route herokupg calls, which the
sandbox-versus-recording shape test also walks.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

KINDS = ("recording", "derived", "schema-example", "stub")

# Every route the modules call (through herokupg.ops), as "METHOD template".
ROUTES = (
    "GET /apps/{app}",
    "PATCH /apps/{app}",
    "GET /apps/{app}/config-vars",
    "GET /apps/{app}/addons/{addon}",
    "POST /apps/{app}/addons",
    "DELETE /apps/{app}/addons/{addon}",
    "GET /apps/{app}/addon-attachments",
    "POST /actions/addon-attachments/resolve",
    "POST /addon-attachments",
    "POST /apps/{app}/log-sessions",
    "GET /apps/{app}/releases",
    "GET /apps/{app}/releases/{release}",
    "GET /apps/{app}/formation",
    "GET /client/v11/databases/{db}",
    "GET /client/v11/databases/{db}/wait_status",
    "PUT /client/v11/databases/{db}/unfollow",
    "POST /client/v11/databases/{db}/backups",
    "POST /client/v11/databases/{db}/restores",
    "GET /client/v11/databases/{db}/transfer-schedules",
    "POST /client/v11/databases/{db}/transfer-schedules",
    "DELETE /client/v11/databases/{db}/transfer-schedules/{schedule}",
    "GET /client/v11/apps/{app}/transfers",
    "GET /client/v11/apps/{app}/transfers/{transfer}",
    "DELETE /client/v11/apps/{app}/transfers/{transfer}",
    "POST /client/v11/apps/{app}/transfers/{transfer}/actions/public-url",
    "POST /client/v11/apps/{app}/transfers/{transfer}/actions/cancel",
    "GET /postgres/v0/databases/{db}/config",
    "PATCH /postgres/v0/databases/{db}/config",
)
# herokupg.api calls these too (no module does), and the recordings hold a few more.
OTHER_ROUTES = (
    "GET /apps/{app}/addons",
    "GET /addons/{addon}",
    "POST /actions/addons/resolve",
    "GET /addons/{addon}/addon-attachments",
    "DELETE /addon-attachments/{attachment}",
    "GET /account/rate-limits",
    "POST /postgres/v0/databases/{db}/credentials/{credential}/credentials_rotation",
)


def _pattern(template: str) -> re.Pattern[str]:
    method, path = template.split(" ", 1)
    return re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(f"{method} {path}")) + "$")


_PATTERNS = [(route, _pattern(route)) for route in (*ROUTES, *OTHER_ROUTES)]
# Placeholders the recorder put in paths (``<VALID_APP_ID>``) are single segments too.
_PLACEHOLDER = re.compile(r"<[A-Z_]+>")


def route_of(method: str, url_or_path: str) -> str | None:
    """The route template of a request, e.g. ``GET /client/v11/databases/{db}``; None if unknown."""
    path = unquote(urlsplit(url_or_path).path) if "://" in url_or_path else unquote(url_or_path.split("?")[0])
    key = f"{method.upper()} {_PLACEHOLDER.sub('x', path.rstrip('/') or '/')}"
    return next((route for route, pattern in _PATTERNS if pattern.match(key)), None)


@dataclass(frozen=True)
class Exchange:
    """One request and the answer it got."""

    name: str  # path in the corpus without .json, e.g. "backup-wait-2020/01-post-backups-201"
    kind: str
    source: dict[str, Any]
    method: str
    url: str
    request_body: Any
    status: int
    headers: dict[str, str]
    body: Any  # parsed JSON, or text (an HTML error page)

    @property
    def route(self) -> str | None:
        return route_of(self.method, self.url)

    def response(self) -> httpx.Response:
        """The recorded answer; body bytes re-encoded, so length and encoding headers are left out."""
        dropped = ("content-length", "content-encoding")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
        content = self.body if isinstance(self.body, str) else json.dumps(self.body)
        return httpx.Response(self.status, headers=headers, content=content.encode())


class Corpus:
    """Every exchange of a corpus directory, by name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.exchanges: dict[str, Exchange] = {}
        for path in sorted(root.glob("*/*.json")):
            name = path.relative_to(root).with_suffix("").as_posix()
            self.exchanges[name] = _load(name, json.loads(path.read_text()))

    def __getitem__(self, name: str) -> Exchange:
        return self.exchanges[name]

    def scenario(self, directory: str) -> list[Exchange]:
        """The exchanges of one directory, in file order."""
        return [e for name, e in self.exchanges.items() if name.startswith(f"{directory}/")]

    def of_kind(self, kind: str) -> list[Exchange]:
        return [e for e in self.exchanges.values() if e.kind == kind]

    def for_route(self, route: str) -> list[Exchange]:
        return [e for e in self.exchanges.values() if e.route == route]


def _load(name: str, doc: dict[str, Any]) -> Exchange:
    kind = doc["kind"]
    if kind not in KINDS:
        raise ValueError(f"{name}: kind {kind!r} is not one of {', '.join(KINDS)}")
    request, response = doc["request"], doc["response"]
    return Exchange(
        name=name,
        kind=kind,
        source=doc["source"],
        method=request["method"].upper(),
        url=request["url"],
        request_body=request.get("body"),
        status=int(response["status"]),
        headers={str(k): str(v) for k, v in response["headers"].items()},
        body=response["body"],
    )


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    route: str | None
    body: Any
    headers: httpx.Headers


class Replay:
    """Answers each request with the next exchange scripted for its route.

    ``script`` is a list of exchanges: each route gets the ones whose recorded request has that
    route, in order. A request for a route with nothing left fails the test (AssertionError),
    except that exchanges named in ``repeat`` keep answering once they are reached. ``seen`` is
    every request received, for asserting what the operation sent.
    """

    def __init__(self, script: Iterable[Exchange], *, repeat: Iterable[Exchange] = ()) -> None:
        self.queues: dict[str, deque[Exchange]] = {}
        for exchange in script:
            route = exchange.route
            if route is None:
                raise ValueError(f"{exchange.name}: {exchange.method} {exchange.url} is not a known route")
            self.queues.setdefault(route, deque()).append(exchange)
        self.sticky = {e.name for e in repeat}
        self.seen: list[Seen] = []
        self.answered: list[Exchange] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        route = route_of(request.method, str(request.url))
        body = json.loads(request.content) if request.content else None
        self.seen.append(Seen(request.method, unquote(request.url.path), route, body, request.headers))
        queue = self.queues.get(route or "")
        if not queue:
            raise AssertionError(f"no recorded answer left for {request.method} {request.url.path} ({route})")
        exchange = queue[0] if len(queue) == 1 and queue[0].name in self.sticky else queue.popleft()
        self.answered.append(exchange)
        return exchange.response()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def left(self) -> list[str]:
        """Scripted exchanges never asked for (sticky ones once reached do not count)."""
        used = {e.name for e in self.answered}
        queued = [e.name for q in self.queues.values() for e in q]
        return [name for name in queued if not (name in self.sticky and name in used)]

    def routes_seen(self) -> list[str | None]:
        return [s.route for s in self.seen]
