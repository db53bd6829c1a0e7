"""Fixtures of the integration tests (the machinery is in harness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import REALISTIC_DELAYS, Ansible
from herokupg_sandbox.threaded import RunningSandbox, ThreadedSandbox


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with ThreadedSandbox(tmp_path / "sandbox") as running:
        running.admin("PATCH", "settings", json=REALISTIC_DELAYS)
        yield running


@pytest.fixture
def ansible(sandbox: RunningSandbox, tmp_path: Path) -> Ansible:
    workdir = tmp_path / "ansible"
    (workdir / "tmp").mkdir(parents=True)
    return Ansible(sandbox, workdir)
