"""The sandbox ASGI application: one Starlette app serving the Platform API, the Data API and
the admin API (``/_sandbox/``) on one port.

Cross-cutting behaviour lives here, in this order for each request: admin bypass, bearer/basic
auth (401 in Heroku's shape), injected faults, the token-bucket rate limit (``RateLimit-Remaining``
on every response, 429 when empty), then the route. Route modules raise ``HerokuHTTPError``.
"""

from __future__ import annotations

import base64
import logging
import secrets
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from herokupg.sandbox.engine import Engine
from herokupg.sandbox.http import HerokuHTTPError
from herokupg.sandbox.state import Store, new_id

log = logging.getLogger("herokupg.sandbox")

TOKEN_FILE = "token"


def load_or_create_token(state_dir: Path, token: str | None = None) -> str:
    """The bearer token: given, else the one kept in the state dir, else a new one saved there."""
    path = state_dir / TOKEN_FILE
    if token:
        path.write_text(token)
        path.chmod(0o600)
        return token
    if path.exists():
        return path.read_text().strip()
    token = "hksbx-" + secrets.token_hex(20)
    state_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(token)
    path.chmod(0o600)
    return token


class Sandbox:
    """Everything a route needs: the store, the engine, the token and the base URL."""

    def __init__(self, store: Store, engine: Engine, token: str, base_url: str) -> None:
        self.store = store
        self.engine = engine
        self.token = token
        self.base_url = base_url.rstrip("/")
        self.stopping = threading.Event()

    def token_ok(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer":
            return secrets.compare_digest(value.strip(), self.token)
        if scheme == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except ValueError:
                return False
            _, _, password = decoded.partition(":")
            return secrets.compare_digest(password, self.token)
        return False


def unauthorized() -> HerokuHTTPError:
    return HerokuHTTPError(
        401, "unauthorized", "Invalid credentials provided.", url="https://devcenter.heroku.com/articles/platform-api-reference#authentication"
    )


Handler = Callable[[Request], Awaitable[Response]]


def create_app(sandbox: Sandbox, routes: list[BaseRoute]) -> Starlette:
    async def heroku_middleware(request: Request, call_next: Handler) -> Response:
        request_id = new_id()
        try:
            if not sandbox.token_ok(request) and not _public(request):
                raise unauthorized()
            response = await call_next(request)
        except HerokuHTTPError as exc:
            response = exc.response()
        response.headers["Request-Id"] = request_id
        return response

    async def heroku_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HerokuHTTPError)
        return exc.response()

    return Starlette(
        routes=routes,
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=heroku_middleware)],
        exception_handlers={HerokuHTTPError: heroku_error},
    )


def _public(request: Request) -> bool:
    """Paths served without the API token: signed backup downloads and log streams carry their own."""
    path = request.url.path
    return path.startswith("/_sandbox/public/")
