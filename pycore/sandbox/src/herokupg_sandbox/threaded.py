"""Serve a sandbox in a background thread, for tests and notebooks (real HTTP on 127.0.0.1), and
seed it through its own API as a user would. The pytest fixtures built on this are in
:mod:`herokupg_sandbox.pytest_plugin`."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herokupg_sandbox.app import build
from herokupg_sandbox.protocol import HEADER_TIMEOUT, config
from herokupg_sandbox.server import PUBLIC_PREFIX, Sandbox


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningSandbox:
    url: str
    token: str
    sandbox: Sandbox
    state_dir: Path

    def http(self, **kwargs: Any) -> httpx.Client:
        """A raw HTTP client with the sandbox's token, for tests that speak the API directly."""
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/vnd.heroku+json; version=3",
        }
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        with self.http() as client:
            response = client.request(method, f"/_sandbox/{path.lstrip('/')}", **kwargs)
            response.raise_for_status()
            return response.json() if response.content else None


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    status: int
    at: float  # time.time() when the request arrived


def _admin(path: str) -> bool:
    if path.startswith(PUBLIC_PREFIX):
        return path == f"{PUBLIC_PREFIX}health"
    return path.startswith("/_sandbox/")


@dataclass
class Counter:
    """ASGI wrapper (``ThreadedSandbox(wrap=...)``): every HTTP request the sandbox serves, counted
    server-side whoever sends it; admin calls (/_sandbox/) that set the scene are left out, but not
    what stands for Heroku's other hosts (log streams and signed backup URLs, /_sandbox/public/)."""

    app: ASGIApp
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _admin(scope["path"]):
            await self.app(scope, receive, send)
            return
        arrived = time.time()
        status = 0

        async def spy(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, spy)
        finally:
            with self.lock:
                self.hits.append(Hit(scope["method"], scope["path"], status, arrived))

    def mark(self) -> int:
        with self.lock:
            return len(self.hits)

    def since(self, mark: int) -> list[Hit]:
        with self.lock:
            return list(self.hits[mark:])


@contextlib.contextmanager
def counted_sandbox(state_dir: Path, engine: str = "memory") -> Iterator[tuple[RunningSandbox, Counter]]:
    """A :class:`ThreadedSandbox` whose requests are counted by a :class:`Counter`."""
    counters: list[Counter] = []

    def wrap(app: ASGIApp) -> ASGIApp:
        counters.append(Counter(app))
        return counters[0]

    with ThreadedSandbox(state_dir, engine=engine, wrap=wrap) as running:
        yield running, counters[0]


class ThreadedSandbox:
    """``wrap``, when given, wraps the sandbox's ASGI app (e.g. to record the requests it serves)."""

    def __init__(
        self,
        state_dir: Path,
        engine: str = "memory",
        token: str | None = None,
        wrap: Callable[[ASGIApp], ASGIApp] | None = None,
        header_timeout: float = HEADER_TIMEOUT,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.sandbox, sandbox_app = build(state_dir, base_url=self.url, token=token, engine=engine)
        app: ASGIApp = wrap(sandbox_app) if wrap is not None else sandbox_app
        served = config(app, "127.0.0.1", self.port, header_timeout=header_timeout)
        self.server = uvicorn.Server(served)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> RunningSandbox:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("sandbox did not start")
            time.sleep(0.01)
        return RunningSandbox(self.url, self.sandbox.token, self.sandbox, self.sandbox.store.state_dir)

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def postgres_processes(path: Path) -> list[str]:
    """Processes whose command line mentions ``path`` (the servers of clusters under it)."""
    done = subprocess.run(["pgrep", "-a", "-f", str(path)], capture_output=True, text=True, check=False)
    return [line for line in done.stdout.splitlines() if "pgrep" not in line]


class ServersLeftRunning(RuntimeError):
    """PostgreSQL servers of a stopped sandbox were still running (they have been stopped since)."""


@contextlib.contextmanager
def postgres_sandbox(
    prefix: str = "herokupg-sbx-pg-", parent: Path | None = None
) -> Iterator[RunningSandbox]:
    """A postgres-engine sandbox in a fresh state dir, removed afterwards with every server stopped.

    The dir is made by :func:`tempfile.mkdtemp` under ``parent`` (default: the temporary directory,
    $TMPDIR else /tmp) and opened to mode 0755, rather than in pytest's tmp_path (0700 under
    /tmp/pytest-of-root): as root the servers run as the `postgres` user, which must enter it.
    Raises :class:`ServersLeftRunning` when the sandbox stopped but left a server behind.
    """
    from herokupg_sandbox.pgengine import PostgresEngine

    state_dir = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    state_dir.chmod(0o755)
    try:
        with ThreadedSandbox(state_dir / "sandbox", engine="postgres") as running:
            yield running
        leftover = postgres_processes(state_dir)
        if leftover:
            raise ServersLeftRunning(f"servers left running after the sandbox stopped: {leftover}")
    finally:
        if postgres_processes(state_dir):  # a failure: stop what is left before removing it
            PostgresEngine(state_dir / "sandbox").stop()
        shutil.rmtree(state_dir, ignore_errors=True)


def seed_app(running: RunningSandbox, name: str) -> dict[str, Any]:
    """Create an app through the sandbox's Platform API (as a user would)."""
    with running.http() as http:
        response = http.post("/apps", json={"name": name})
        response.raise_for_status()
        app: dict[str, Any] = response.json()
        return app


def seed_database(
    running: RunningSandbox,
    app: str,
    plan: str = "heroku-postgresql:standard-0",
    *,
    attachment: str | None = None,
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Create a heroku-postgresql add-on and wait (10 s at most) until the Data API knows it.

    Seeding is a test's setup, not what it exercises: the sandbox's provisioning delay is lifted
    for this one add-on, so tests that run with Heroku-like delays spend them on what they test.
    """
    body: dict[str, Any] = {"plan": {"name": plan}, "config": config or {}}
    if attachment:
        body["attachment"] = {"name": attachment}
    delay = running.admin("GET", "settings")["provision_delay"]
    with running.http() as http:
        if delay:
            running.admin("PATCH", "settings", json={"provision_delay": 0})
        try:
            response = http.post(f"/apps/{app}/addons", json=body)
        finally:
            if delay:
                running.admin("PATCH", "settings", json={"provision_delay": delay})
        response.raise_for_status()
        addon: dict[str, Any] = response.json()
        for _attempt in range(500):
            if http.get(f"/client/v11/databases/{addon['id']}").status_code == 200:
                return addon
            time.sleep(0.02)
    raise TimeoutError(f"{addon['name']} on {app} never became available")
