"""The recorded-traffic corpus and a Context that replays it (contract tests)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from herokupg_sandbox.recorded import Corpus, Exchange, Replay

from herokupg import redact
from herokupg.api import HerokuAPI
from herokupg.client import HerokuClient
from herokupg.ops.base import Context, WaitOptions

CORPUS_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "heroku-recorded"
CORPUS = Corpus(CORPUS_DIR)

# The recordings' own names for the apps and databases (the recorder's placeholders).
HOBBY_APP = "<VALID_APP_ID_WITH_DATABASE>"
HOBBY_DB = "<VALID_DATABASE_ID_WITH_SCHEDULES>"
STANDARD_APP = "<VALID_APP_ID_WITH_DB_IN_PRO_PLAN>"
FORK_DB = "<VALID_DATABASE_ID_WITH_PRO_PLAN>"
SOURCE_DB = "67bd5e78-287e-41f1-9bbf-6caf9e5b9130"


def script(*names: str) -> list[Exchange]:
    """Exchanges by name; a directory name stands for all of its files, in order."""
    out: list[Exchange] = []
    for name in names:
        out.extend([CORPUS[name]] if name in CORPUS.exchanges else CORPUS.scenario(name))
    if not out:
        raise KeyError(names)
    return out


class Replayed:
    """A Context whose API answers from ``replay``; ``sleeps`` are the waits it would have made."""

    def __init__(self, replay: Replay, *, check_mode: bool = False, wait: bool = True) -> None:
        self.replay = replay
        self.sleeps: list[float] = []
        client = HerokuClient(api_key="recorded-key", transport=replay.transport(), retries=0, env={})
        self.ctx = Context(
            api=HerokuAPI(client),
            check_mode=check_mode,
            wait=WaitOptions(enabled=wait, timeout=3600, poll_interval=3, first_interval=0.25),
            sleep=self.sleeps.append,
            monotonic=lambda: sum(self.sleeps),
        )


def replayed(
    *names: str, repeat: Iterable[str] = (), check_mode: bool = False, wait: bool = True
) -> Replayed:
    return Replayed(
        Replay(script(*names), repeat=[CORPUS[n] for n in repeat]), check_mode=check_mode, wait=wait
    )


@pytest.fixture(autouse=True)
def _keep_secret_registry() -> Iterator[None]:
    """The recordings' placeholder URLs carry the word "password" as a password: the models register
    it as a secret (as they should); forget it after each test, or later tests see it masked."""
    saved = set(redact._secrets)
    yield
    with redact._lock:
        redact._secrets.clear()
        redact._secrets.update(saved)
