"""Hooks and fixtures of the live tests (settings and helpers: live_env.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from herokupg.errors import HerokuPgError
from herokupg.ops.base import Context
from live_env import APP, context, skip_reason, write_plan


def pytest_sessionstart(session: pytest.Session) -> None:
    """Before any test runs: say what this run will create on the app, and what it costs."""
    if skip_reason() is not None:
        return
    try:
        lines = write_plan()
    except HerokuPgError as exc:
        lines = [f"make test-live: cannot plan the run on {APP}: {exc}"]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for line in lines:
        if reporter is not None:
            reporter.write_line(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reason = skip_reason()
    if reason and os.environ.get("HEROKU_LIVE") == "1":
        terminalreporter.write_line(f"make test-live: every live test was skipped: {reason}.")


@pytest.fixture
def ctx() -> Iterator[Context]:
    context_ = context()
    yield context_
    context_.api.client.close()
