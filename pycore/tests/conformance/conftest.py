"""Fixture of the conformance stage (the machinery is in heroku_cli.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from heroku_cli import Conformance, HerokuCli, Recorder, heroku_cli_path
from herokupg_sandbox.threaded import ThreadedSandbox
from starlette.types import ASGIApp


@pytest.fixture(scope="module")
def conformance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Conformance]:
    binary = heroku_cli_path()
    base = tmp_path_factory.mktemp("heroku-cli")
    recorders: list[Recorder] = []

    def record(app: ASGIApp) -> ASGIApp:
        recorders.append(Recorder(app))
        return recorders[0]

    with ThreadedSandbox(base / "sandbox", engine="memory", wrap=record) as running:
        (recorder,) = recorders
        yield Conformance(running, recorder, HerokuCli(binary, running, base / "home"))
