"""pytest fixtures for tests that run against a sandbox (registered through the ``pytest11`` entry
point of herokupg-sandbox, so every pytest run of a venv that has it installed gets them).

- ``sandbox``: a fresh memory-engine sandbox for one test;
- ``shared_sandbox``: one for a whole test module, and ``sb``: that one reset for each test;
- ``pg_sandbox``: a postgres-engine sandbox (real PostgreSQL servers) for one test, and
  ``shared_postgres_sandbox`` one for a whole module;
- ``seed``: apps and databases created in ``sandbox`` through its API, as a user would.

A conftest.py may override any of them (e.g. to give the sandbox Heroku-like delays).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from herokupg_sandbox.threaded import (
    RunningSandbox,
    ThreadedSandbox,
    postgres_sandbox,
    seed_app,
    seed_database,
)


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
def pg_sandbox() -> Iterator[RunningSandbox]:
    """A fresh postgres-engine sandbox for one test; its servers stop and its state dir goes
    afterwards (see :func:`herokupg_sandbox.threaded.postgres_sandbox`)."""
    with postgres_sandbox() as running:
        yield running


@pytest.fixture(scope="module")
def shared_postgres_sandbox() -> Iterator[RunningSandbox]:
    """A postgres-engine sandbox for a whole test module; its servers stop and its state dir goes
    afterwards (see :func:`herokupg_sandbox.threaded.postgres_sandbox`)."""
    with postgres_sandbox() as running:
        yield running


@dataclass
class Seeder:
    """Creates apps and heroku-postgresql add-ons in a sandbox through its Platform API."""

    running: RunningSandbox

    def app(self, name: str) -> dict[str, Any]:
        return seed_app(self.running, name)

    def database(self, app: str, plan: str = "heroku-postgresql:standard-0", **kwargs: Any) -> dict[str, Any]:
        """A database add-on, returned once the Data API serves it (see :func:`seed_database`)."""
        return seed_database(self.running, app, plan, **kwargs)


@pytest.fixture
def seed(sandbox: RunningSandbox) -> Seeder:
    """Seeding of the ``sandbox`` fixture: ``seed.app("myapp")``, ``seed.database("myapp")``."""
    return Seeder(sandbox)
