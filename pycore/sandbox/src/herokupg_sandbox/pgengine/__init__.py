"""The postgres engine of the sandbox: real PostgreSQL clusters behind `heroku-postgresql` add-ons."""

from __future__ import annotations

from herokupg_sandbox.pgengine.binaries import available
from herokupg_sandbox.pgengine.engine import PostgresEngine
from herokupg_sandbox.pgengine.logformat import LOG_LINE_PREFIX

__all__ = ["LOG_LINE_PREFIX", "PostgresEngine", "available"]
