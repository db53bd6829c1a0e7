"""The sandbox ASGI application: one Starlette app serving the Platform API, the Data API and
the admin API (``/_sandbox/``) on one port, wrapped by ``SandboxApp`` for the cross-cutting rules.

For each request, in this order: bearer/basic auth (401 in Heroku's shape; ``/_sandbox/public/``
is exempt), the token-bucket rate limit (``RateLimit-Remaining`` on every response, 429 when
empty; admin paths and ``/account/rate-limits`` are not counted), injected faults (not on admin
paths), ``provider.tick``, then the route. Every response carries a ``Request-Id``.

The wrapper sits outside Starlette (not in its middleware list) so that a ``reset`` fault can
reach uvicorn's connection and drop it: Starlette's error middleware would otherwise answer 500.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import secrets
import socket
import struct
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import Message, Receive, Scope, Send

from herokupg_sandbox.engine import Engine
from herokupg_sandbox.http import HerokuHTTPError
from herokupg_sandbox.private import private_dir, private_file, write_private
from herokupg_sandbox.state import Fault, Store, new_id

log = logging.getLogger("herokupg_sandbox")

TOKEN_FILE = "token"


def load_or_create_token(state_dir: Path, token: str | None = None) -> str:
    """The bearer token: given, else the one kept in the state dir, else a new one saved there."""
    path = state_dir / TOKEN_FILE
    if not token and path.exists():
        private_file(path)
        return path.read_text().strip()
    token = token or "hksbx-" + secrets.token_hex(20)
    if not state_dir.is_dir():
        private_dir(state_dir)
    write_private(path, token)
    return token


class Sandbox:
    """Everything a route needs: the store, the engine, the token and the base URL."""

    def __init__(self, store: Store, engine: Engine, token: str, base_url: str) -> None:
        self.store = store
        self.engine = engine
        self.token = token
        self.base_url = base_url.rstrip("/")
        self.stopping = threading.Event()

    def token_ok(self, request: Request | Headers) -> bool:
        """Bearer <token>, or Basic with the token as password; compared as bytes, so that any byte a
        client sends (headers arrive as latin-1 text) is a wrong token, never an error."""
        headers = request if isinstance(request, Headers) else request.headers
        header = headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        expected = self.token.encode()
        if scheme == "bearer":
            return secrets.compare_digest(value.strip().encode("latin-1", "replace"), expected)
        if scheme == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True)
            except ValueError:  # not base64 (binascii.Error), or not ASCII text at all
                return False
            _, _, password = decoded.partition(b":")
            return secrets.compare_digest(password, expected)
        return False


def unauthorized() -> HerokuHTTPError:
    return HerokuHTTPError(
        401, "unauthorized", "Invalid credentials provided.",
        url="https://devcenter.heroku.com/articles/platform-api-reference#authentication",
    )


TICK_INTERVAL = 0.25
ADMIN_PREFIX = "/_sandbox/"
PUBLIC_PREFIX = "/_sandbox/public/"
UNCOUNTED = ("/account/rate-limits",)
_NO_ROUTE = (
    "The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. "
    "`POST`), and did you specify your intended version with the `Accept` header?"
)


def tick(sandbox: Sandbox) -> None:
    """Advance time-based state: the data side's (provisioning, transfers, schedules) and
    pending release phases."""
    from herokupg_sandbox import platform_ops, provider

    provider.tick(sandbox)
    platform_ops.tick_releases(sandbox)


def _ticker(sandbox: Sandbox) -> None:
    while not sandbox.stopping.wait(TICK_INTERVAL):
        try:
            tick(sandbox)
        except Exception:  # keep ticking; the next request's tick reports the error to its client
            log.exception("sandbox background tick failed")


class SandboxApp:
    """The outermost ASGI callable: Heroku's cross-cutting rules around the Starlette app."""

    def __init__(self, sandbox: Sandbox, app: Starlette) -> None:
        self.sandbox = sandbox
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_id()
        remaining = 0

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Request-Id"] = request_id
                if "ratelimit-remaining" not in headers:
                    headers["RateLimit-Remaining"] = str(remaining)
            await send(message)

        path, method = scope["path"], scope["method"]
        try:
            remaining, fault = await run_in_threadpool(self._admit, Headers(scope=scope), path, method)
            if fault is not None and fault.kind == "reset":
                await drop_connection(send)
                return
            await run_in_threadpool(tick, self.sandbox)
        except HerokuHTTPError as exc:
            await exc.response()(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _admit(self, headers: Headers, path: str, method: str) -> tuple[int, Fault | None]:
        """Auth, rate limit and faults; returns (RateLimit-Remaining, a reset fault to apply)."""
        from herokupg_sandbox import faults, ratelimit

        store = self.sandbox.store
        if not path.startswith(PUBLIC_PREFIX) and not self.sandbox.token_ok(headers):
            raise unauthorized()
        admin = path.startswith(ADMIN_PREFIX)
        if admin or path in UNCOUNTED:
            remaining = ratelimit.remaining(store)
        else:
            remaining = ratelimit.take(store)
        if admin:
            return remaining, None
        latency = faults.consume(self.sandbox, "latency", path, method)
        if latency is not None:
            self.sandbox.stopping.wait(latency.latency)
        reset = faults.consume(self.sandbox, "reset", path, method)
        if reset is not None:
            return remaining, reset
        error = faults.consume(self.sandbox, "error", path, method)
        if error is not None:
            exc = faults.error_for(error)
            exc.headers.setdefault("RateLimit-Remaining", str(remaining))
            raise exc
        return remaining, None


async def drop_connection(send: Send) -> None:
    """Close the client's TCP connection with a reset and no response at all.

    uvicorn hands the app its per-request cycle's bound ``send``; its ``transport`` is the
    connection. SO_LINGER 0 + abort sends an RST: the client sees a disconnect without a response
    or a connection reset (httpx: ``RemoteProtocolError``/``ReadError``).
    Without that transport (another server), fall back to a truncated response: headers
    promising a body that never comes, which clients also report as a protocol error.
    """
    transport: Any = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
        raise ConnectionAbortedError("injected connection reset")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    for _ in range(3):  # let uvicorn see the connection lost before the app returns
        await asyncio.sleep(0)


def create_app(sandbox: Sandbox, routes: list[BaseRoute]) -> SandboxApp:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        with sandbox.store.lock:
            addons = list(sandbox.store.state.addons.values())
        await run_in_threadpool(sandbox.engine.start, addons)
        ticker = threading.Thread(target=_ticker, args=(sandbox,), name="sandbox-ticker", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            sandbox.stopping.set()
            await run_in_threadpool(ticker.join, 10)
            await run_in_threadpool(sandbox.engine.stop)

    async def heroku_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, HerokuHTTPError):  # starlette calls this for HerokuHTTPError only
            raise exc
        return exc.response()

    async def no_route(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, HTTPException):  # starlette calls this for HTTPException only
            raise exc
        if exc.status_code in (404, 405):
            return JSONResponse({"id": "not_found", "message": _NO_ROUTE}, status_code=404)
        return JSONResponse({"id": "bad_request", "message": str(exc.detail)}, status_code=exc.status_code)

    async def client_gone(request: Request, exc: Exception) -> Response:
        # The client hung up while its body was read: nobody to answer, nothing to log.
        return Response(status_code=400)

    async def internal_error(request: Request, exc: Exception) -> Response:
        return JSONResponse(
            {"id": "internal_server_error", "message": "Internal server error."}, status_code=500
        )

    starlette = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            HerokuHTTPError: heroku_error, HTTPException: no_route, ClientDisconnect: client_gone,
            Exception: internal_error,
        },
    )
    return SandboxApp(sandbox, starlette)
