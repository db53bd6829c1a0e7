"""Shared fixtures: a real sandbox served by uvicorn in a thread, on 127.0.0.1 and a free port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.sandbox.testing import RunningSandbox, ThreadedSandbox


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    """A fresh memory-engine sandbox for one test."""
    with ThreadedSandbox(tmp_path / "sandbox") as running:
        yield running


@pytest.fixture(scope="module")
def shared_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """One sandbox for a whole test module (reset it yourself if a test needs a clean slate)."""
    with ThreadedSandbox(tmp_path_factory.mktemp("sandbox")) as running:
        yield running


@pytest.fixture
def sb(shared_sandbox: RunningSandbox) -> RunningSandbox:
    """The module's shared sandbox, reset: a clean slate for each test."""
    shared_sandbox.admin("POST", "reset")
    return shared_sandbox


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
