"""Conformance stage: the official Heroku CLI (npm ``heroku`` v11) against a memory-engine sandbox.

The CLI runs as a real subprocess with an isolated environment (a temporary HOME, XDG dirs and
working directory, the sandbox token in HEROKU_API_KEY, every host pointing at 127.0.0.1), so
nothing leaves the machine and the user's own Heroku login is never touched. Every request the
CLI makes is recorded, so a test can also assert that the sandbox knew every endpoint it used.

The CLI path comes from $HEROKU_CLI (set by ``make test``), else the repo's .cache install; when
it is missing the stage FAILS and says to run ``make heroku-cli``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from herokupg_sandbox.threaded import RunningSandbox
from sandbox_env import heroku_cli_env
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CLI = ROOT / ".cache" / "heroku-cli" / "node_modules" / ".bin" / "heroku"
CLI_TIMEOUT = 60.0


def heroku_cli_path() -> Path:
    configured = os.environ.get("HEROKU_CLI")
    path = Path(configured) if configured else DEFAULT_CLI
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"The official Heroku CLI is not installed at {path}: run `make heroku-cli` "
            "(or set HEROKU_CLI to its absolute path). The conformance stage needs it.",
            pytrace=False,
        )
    return path


# -- recording what the CLI asks the sandbox ------------------------------------------------------
@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    status: int
    error_id: str | None  # the Heroku error body's "id" for 4xx/5xx answers
    message: str  # and its "message" ("" when none)


@dataclass
class Recorder:
    """ASGI wrapper around the sandbox app: (method, path, status, error id) of each request."""

    app: ASGIApp
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        body = b""

        async def spy(message: Message) -> None:
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and status >= 400 and len(body) < 4096:
                body += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, spy)
        finally:
            error_id, message = _error_fields(body)
            hit = Hit(scope["method"], scope["path"], status, error_id, message)
            with self.lock:
                self.hits.append(hit)

    def since(self, mark: int) -> list[Hit]:
        with self.lock:
            return list(self.hits[mark:])

    def mark(self) -> int:
        with self.lock:
            return len(self.hits)


def _error_fields(body: bytes) -> tuple[str | None, str]:
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        return None, ""
    error_id = parsed.get("id")
    return (error_id if isinstance(error_id, str) else None), str(parsed.get("message") or "")


# -- running the CLI -----------------------------------------------------------------------------
_GUTTER = re.compile("^\\s*\u203a\\s?", re.M)  # oclif's " \u203a" gutter


def flatten(text: str) -> str:
    """CLI output with oclif's warning/error gutter (U+203A) removed and all whitespace runs
    (including the line wrapping at 80 columns) collapsed to one space."""
    return " ".join(_GUTTER.sub("", text).split())


@dataclass
class CliResult:
    args: Sequence[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        """stdout + stderr, flattened (see ``flatten``): for assertions on wrapped messages."""
        return flatten(self.stdout + "\n" + self.stderr)

    def describe(self) -> str:
        return (
            f"heroku {' '.join(self.args)} -> exit {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )


class HerokuCli:
    """Runs the real ``heroku`` binary against the sandbox, isolated from the user's setup."""

    def __init__(self, binary: Path, sandbox: RunningSandbox, home: Path) -> None:
        self.binary = binary
        self.sandbox = sandbox
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.env = heroku_cli_env(sandbox, binary, home)

    def run(self, *args: str, expect: int | None = 0) -> CliResult:
        """Run ``heroku <args>``; assert its exit code is ``expect`` (None: any)."""
        completed = subprocess.run(
            [str(self.binary), *args],
            cwd=self.home,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        result = CliResult(args, completed.returncode, completed.stdout, completed.stderr)
        assert self.sandbox.token not in result.stdout + result.stderr, "the CLI printed the API token"
        if expect is not None:
            assert result.returncode == expect, result.describe()
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(self.binary), *args],
            cwd=self.home,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@dataclass
class Conformance:
    sandbox: RunningSandbox
    recorder: Recorder
    heroku: HerokuCli

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.sandbox.admin(method, path, **kwargs)

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.sandbox.admin("GET", "state")
        return state
