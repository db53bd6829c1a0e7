"""Assembly of the sandbox: store + engine + routes -> one ASGI app."""

from __future__ import annotations

from pathlib import Path

from herokupg_sandbox import admin, data, logs, platform
from herokupg_sandbox.engine import Engine
from herokupg_sandbox.private import private_dir, tighten
from herokupg_sandbox.server import Sandbox, SandboxApp, create_app, load_or_create_token
from herokupg_sandbox.state import Store

ENGINES = ("memory", "postgres")


def choose_engine(requested: str | None, state_dir: Path) -> tuple[str, str]:
    """The engine to run and why: the one asked for, else postgres when it can run here."""
    from herokupg_sandbox.pgengine import available

    if requested:
        return requested, "as requested"
    ok, reason = available(state_dir)
    if ok:
        return "postgres", f"PostgreSQL server found: {reason}"
    return "memory", f"the postgres engine cannot run here: {reason}"


def _server_gid(engine: str) -> int | None:
    """The group that must pass through the state dir: the postgres user's when it runs the servers."""
    if engine != "postgres":
        return None
    from herokupg_sandbox.pgengine.binaries import server_user

    ids = server_user()
    return ids[1] if ids else None


def make_engine(name: str, state_dir: Path) -> Engine:
    if name == "memory":
        from herokupg_sandbox.memory import MemoryEngine

        return MemoryEngine(state_dir)
    if name == "postgres":
        from herokupg_sandbox.pgengine import PostgresEngine, available

        ok, reason = available(state_dir)
        if not ok:
            raise ValueError(f"the postgres engine is not available here: {reason}")
        return PostgresEngine(state_dir)
    raise ValueError(f"unknown sandbox engine {name!r}; choose one of {', '.join(ENGINES)}")


def build(
    state_dir: Path, *, base_url: str, token: str | None = None, engine: str = "memory"
) -> tuple[Sandbox, SandboxApp]:
    tighten(private_dir(state_dir, traverse_gid=_server_gid(engine)))
    store = Store(state_dir)
    sandbox = Sandbox(store, make_engine(engine, state_dir), load_or_create_token(state_dir, token), base_url)
    routes = [*admin.routes(sandbox), *logs.routes(sandbox), *data.routes(sandbox), *platform.routes(sandbox)]
    return sandbox, create_app(sandbox, routes)
