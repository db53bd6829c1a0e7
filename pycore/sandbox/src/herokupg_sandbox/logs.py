"""Log sessions (`heroku logs`): ``POST /apps/{app}/log-sessions`` and the stream it points at.

The stream is Server-Sent Events at ``/_sandbox/public/logs/{id}?token=...`` (public path: the
per-session token is the credential, compared in constant time and never logged). Lines are the
app's Postgres server logs in Heroku's format, from every database attached to the app::

    2026-11-25T14:00:00.123456+00:00 app[postgres.1234]: [DATABASE] [5-1]  sql_error_code = 00000 LOG:  ...

plus a ``app[heroku-postgres]`` metrics sample per production database. Without ``tail`` the
stream ends after the last ``lines`` lines; with it, new lines follow until the client leaves,
the server stops, or ``TAIL_SECONDS`` pass.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from herokupg_sandbox import provider
from herokupg_sandbox.bodies import LogSessionCreate, parse
from herokupg_sandbox.http import HerokuHTTPError, json_response, not_found, read_json
from herokupg_sandbox.state import App, LogSession, iso, new_id

if TYPE_CHECKING:
    from herokupg_sandbox.server import Sandbox

SESSION_TTL = 300.0  # sandbox seconds a logplex_url can be opened after it was issued
TAIL_SECONDS = 120.0  # wall seconds a tail stays open at most
POLL_SECONDS = 0.25

Line = tuple[float, str, str]  # (ts, proc, text after "app[proc]: ")


def log_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")


def _label(att_name: str) -> str:
    return att_name.removeprefix("HEROKU_POSTGRESQL_")


def _wanted(session: LogSession, proc: str, source: str) -> bool:
    if session.source and session.source != source:
        return False
    return not session.dyno or proc == session.dyno or proc.startswith(session.dyno + ".")


def collect(sb: Sandbox, session: LogSession, app: App, since: float) -> list[Line]:
    """The session's lines with ts > since (lock held), oldest first."""
    lines: list[Line] = []
    seen: set[str] = set()
    for att in sb.store.attachments_of_app(app.id):
        addon = sb.store.state.addons.get(att.addon_id)
        if att.namespace or addon is None or addon.id in seen or not provider.is_available(addon):
            continue
        seen.add(addon.id)
        label = _label(provider.attachment_name(sb, addon, app.id) or att.name)
        for entry in sb.engine.log_lines(addon, since):
            if _wanted(session, entry.proc, "app"):
                lines.append((entry.ts, entry.proc, f"[{label}] {entry.body}"))
    return sorted(lines, key=lambda line: line[0])


def metrics(sb: Sandbox, session: LogSession, app: App) -> list[Line]:
    """One `heroku-postgres` sample per production database, as of the session's creation."""
    lines: list[Line] = []
    for att in sb.store.attachments_of_app(app.id):
        addon = sb.store.state.addons.get(att.addon_id)
        if (att.namespace or addon is None or not provider.is_available(addon)
                or not provider.tier(addon.plan_suffix).production
                or provider.attachment_name(sb, addon, app.id) != att.name
                or not _wanted(session, "heroku-postgres", "app")):
            continue
        stats = sb.engine.stats(addon)
        text = (
            f"source={att.name} addon={addon.name} sample#current_transaction={stats.current_transaction} "
            f"sample#db_size={stats.num_bytes}bytes sample#tables={stats.num_tables} "
            f"sample#active-connections={stats.num_connections} "
            f"sample#waiting-connections={stats.num_connections_waiting}"
        )
        lines.append((session.created_at, "heroku-postgres", text))
    return lines


def _format(line: Line) -> str:
    ts, proc, text = line
    return f"{log_time(ts)} app[{proc}]: {text}"


def _event(line: Line) -> bytes:
    return f"data: {_format(line)}\n\n".encode()


def _session(sb: Sandbox, request: Request) -> tuple[LogSession, App]:
    session = sb.store.state.log_sessions.get(request.path_params["id"])
    token = request.query_params.get("token", "")
    if session is None or not secrets.compare_digest(session.token.encode(), token.encode()):
        raise HerokuHTTPError(403, "forbidden", "Invalid or unknown log session.")
    app = sb.store.state.apps.get(session.app_id)
    if app is None or sb.store.now() > session.created_at + SESSION_TTL:
        raise not_found("log_session", "This log session has expired; create a new one.")
    return session, app


def routes(sb: Sandbox) -> list[BaseRoute]:
    async def create_session(request: Request) -> Response:
        body = parse(LogSessionCreate, await read_json(request))
        dyno = body.dyno or body.dyno_name or body.type
        source, lines, tail = body.source, body.lines or 100, body.tail
        with sb.store.lock:
            app = sb.store.app(request.path_params["app"])
            if app is None:
                raise not_found("app")
            now = sb.store.now()
            session = LogSession(
                new_id(), app.id, dyno or None, source or None, lines, tail, secrets.token_urlsafe(24), now
            )
            sessions = sb.store.state.log_sessions
            for key in [k for k, s in sessions.items() if s.created_at + SESSION_TTL < now]:
                del sessions[key]  # expired sessions are useless; keep the state small
            sessions[session.id] = session
            sb.store.save()
        url = f"{sb.base_url}/_sandbox/public/logs/{session.id}?token={session.token}"
        created = iso(session.created_at)
        return json_response(
            {"id": session.id, "logplex_url": url, "created_at": created, "updated_at": created}, status=201
        )

    async def stream(request: Request) -> Response:
        with sb.store.lock:
            session, app = _session(sb, request)
            backlog = sorted(metrics(sb, session, app) + collect(sb, session, app, 0.0), key=lambda x: x[0])
            backlog = backlog[-session.lines:]

        async def events() -> AsyncIterator[bytes]:
            for line in backlog:
                yield _event(line)
            if not session.tail:
                return
            last = max((line[0] for line in backlog), default=0.0)
            sent = {line for line in backlog if line[0] == last}
            deadline = time.monotonic() + TAIL_SECONDS
            while time.monotonic() < deadline and not sb.stopping.is_set():
                await asyncio.sleep(POLL_SECONDS)
                if await request.is_disconnected():
                    return
                with sb.store.lock:
                    fresh = [x for x in collect(sb, session, app, last - 1e-6) if x not in sent]
                for line in fresh:
                    yield _event(line)
                if fresh:
                    last = fresh[-1][0]
                    sent = {x for x in fresh if x[0] == last}

        headers: dict[str, Any] = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)

    return [
        Route("/apps/{app}/log-sessions", create_session, methods=["POST"]),
        Route("/_sandbox/public/logs/{id}", stream, methods=["GET"]),
    ]
