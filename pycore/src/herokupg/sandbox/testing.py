"""Serve a sandbox in a background thread: for tests and notebooks (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
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

from herokupg.sandbox.app import build
from herokupg.sandbox.control import heroku_cli_exports
from herokupg.sandbox.protocol import HEADER_TIMEOUT, config
from herokupg.sandbox.server import PUBLIC_PREFIX, Sandbox


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


@contextlib.contextmanager
def postgres_sandbox(prefix: str = "herokupg-sbx-pg-") -> Iterator[RunningSandbox]:
    """A postgres-engine sandbox in a fresh state dir, removed afterwards with every server stopped.

    The dir is under /var/tmp with mode 0755, not pytest's tmp_path (0700 under /tmp/pytest-of-root):
    as root the servers run as the `postgres` user, which must be able to enter it.
    """
    from herokupg.sandbox.pgengine import PostgresEngine

    state_dir = Path(tempfile.mkdtemp(prefix=prefix, dir="/var/tmp"))
    state_dir.chmod(0o755)
    try:
        with ThreadedSandbox(state_dir / "sandbox", engine="postgres") as running:
            yield running
        leftover = postgres_processes(state_dir)
        assert leftover == [], f"servers left running after stop: {leftover}"
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


def collections_dir(checkout: Path) -> Path:
    """The checkout's collections dir (``collections/``, where ansible_collections/herokuops/postgres
    is a symlink back to the checkout), for ANSIBLE_COLLECTIONS_PATH: ansible runs the collection
    from the working tree."""
    base = checkout / "collections"
    if not (base / "ansible_collections" / "herokuops" / "postgres" / "galaxy.yml").is_file():
        raise FileNotFoundError(f"{base}/ansible_collections/herokuops/postgres does not lead to {checkout}")
    return base


def heroku_cli_env(running: RunningSandbox, binary: Path, home: Path) -> dict[str, str]:
    """Environment for Heroku CLI runs against ``running``: only this, nothing inherited but PATH
    (with ``binary``'s directory first: the CLI's git credential hook runs `heroku`), a private
    HOME and XDG dirs, git stopped above HOME, plain UTC output."""
    return {
        "PATH": f"{binary.parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "GIT_CEILING_DIRECTORIES": str(home.parent),
        "GIT_CONFIG_NOSYSTEM": "1",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "NO_COLOR": "1",
        "FORCE_COLOR": "0",
        **heroku_cli_exports(running.url, running.token),
    }


def ansible_env(running: RunningSandbox, home: Path, collections: Path) -> dict[str, str]:
    """Environment for ansible/ansible-playbook runs against ``running``: this Python, the given
    collections dir, a private HOME, quiet output, and no HEROKU_/ANSIBLE_ setting inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEROKU_", "ANSIBLE_"))}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="False",
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        HEROKU_API_URL=running.url,
        HEROKU_API_KEY=running.token,
        HOME=str(home),
    )
    return env
