"""Shared fixtures of the core's tests. The sandbox ones (``sandbox``, ``shared_sandbox``, ``sb``: a real
sandbox served by uvicorn in a thread, on 127.0.0.1 and a free port) come from herokupg-sandbox's
pytest plugin, herokupg_sandbox.pytest_plugin."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from herokupg_sandbox.threaded import RunningSandbox

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient


@pytest.fixture
def client(sb: RunningSandbox) -> Iterator[httpx.Client]:
    """An HTTP client of :func:`sb`, with its token."""
    with sb.http() as http:
        yield http


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[HerokuAPI]:
    """The typed API over a client pointed at the per-test sandbox."""
    with HerokuClient(api_key=sandbox.token, api_url=sandbox.url) as client:
        yield HerokuAPI(client)
