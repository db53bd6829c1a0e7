"""Assembly of the sandbox: store + engine + routes -> one ASGI app."""

from __future__ import annotations

from pathlib import Path

from herokupg.sandbox import admin, data, logs, platform
from herokupg.sandbox.engine import Engine
from herokupg.sandbox.server import Sandbox, SandboxApp, create_app, load_or_create_token
from herokupg.sandbox.state import Store


def make_engine(name: str, state_dir: Path) -> Engine:
    if name == "memory":
        from herokupg.sandbox.memory import MemoryEngine

        return MemoryEngine(state_dir)
    raise ValueError(f"unknown sandbox engine {name!r}; choose 'memory'")


def build(
    state_dir: Path, *, base_url: str, token: str | None = None, engine: str = "memory"
) -> tuple[Sandbox, SandboxApp]:
    store = Store(state_dir)
    sandbox = Sandbox(store, make_engine(engine, state_dir), load_or_create_token(state_dir, token), base_url)
    routes = [*admin.routes(sandbox), *logs.routes(sandbox), *data.routes(sandbox), *platform.routes(sandbox)]
    return sandbox, create_app(sandbox, routes)
