"""Sandbox routes: the Platform API (apps, add-ons, attachments, config vars, releases, formation,
account). The log-session route lives with the log stream in logs.py."""

from __future__ import annotations

from starlette.routing import BaseRoute

from herokupg_sandbox import platform_addons, platform_apps, platform_attachments
from herokupg_sandbox.server import Sandbox


def routes(sandbox: Sandbox) -> list[BaseRoute]:
    return [
        *platform_apps.routes(sandbox),
        *platform_addons.routes(sandbox),
        *platform_attachments.routes(sandbox),
    ]
