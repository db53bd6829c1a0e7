"""Sandbox routes: logs (being written)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from herokupg.sandbox.server import Sandbox


def routes(sandbox: Sandbox) -> list[BaseRoute]:
    return []
