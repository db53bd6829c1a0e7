"""Concurrent ``max_age`` captures of one database make one backup, not one each.

A capture still running counts as fresh, so a run that sees one waits for it. Runs started at the
same moment would all see none; on one controller they take turns (a lock per database around
"look, then capture"), and a capture that another controller started meanwhile is found right
after ours was started: ours (the later number) is cancelled and theirs used.
"""

from __future__ import annotations

import threading
import time

import pytest
from backup_helpers import context, transfers
from herokupg_sandbox.threaded import RunningSandbox, seed_app, seed_database

from herokupg.errors import HerokuPgError
from herokupg.ops.backups import BackupRequest, capture_backup
from herokupg.ops.base import Result

RUNS = 3


@pytest.fixture
def shop(sandbox: RunningSandbox) -> RunningSandbox:
    seed_app(sandbox, "shop")
    seed_database(sandbox, "shop")
    return sandbox


def backups(sandbox: RunningSandbox) -> list[dict[str, object]]:
    return [t for t in transfers(sandbox) if t["to_type"] == "gof3r"]


def test_three_runs_at_once_make_one_backup(shop: RunningSandbox) -> None:
    shop.admin("PATCH", "settings", json={"transfer_delay": 2})  # a slow capture
    outcomes: list[Result | HerokuPgError] = []
    start = threading.Barrier(RUNS)

    def run() -> None:
        start.wait()
        try:
            outcomes.append(capture_backup(context(shop), BackupRequest("shop", max_age="1h")))
        except HerokuPgError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert all(isinstance(o, Result) for o in outcomes), outcomes
    results = [o for o in outcomes if isinstance(o, Result)]
    assert [b["num"] for b in backups(shop)] == [1]
    assert {r.data["backup"]["name"] for r in results} == {"b001"}
    assert all(r.data["backup"]["state"] == "completed" for r in results)
    assert sorted(r.changed for r in results) == [False, False, True]


def test_a_capture_another_controller_started_meanwhile_wins(shop: RunningSandbox) -> None:
    """Our POST answers late; meanwhile "another controller" captures (no lock is shared with it)."""
    shop.admin("PATCH", "settings", json={"transfer_delay": 1})
    shop.admin("POST", "faults", json={"kind": "latency", "method": "POST", "path": "/backups$",
                                       "latency": 1.5, "remaining": 1})
    outcome: list[Result] = []
    thread = threading.Thread(
        target=lambda: outcome.append(capture_backup(context(shop), BackupRequest("shop", max_age="1h")))
    )
    thread.start()
    for _attempt in range(200):  # our POST holds the latency fault: the other capture goes first
        if not shop.admin("GET", "faults"):
            break
        time.sleep(0.02)
    database = next(iter(shop.admin("GET", "state")["addons"]))
    with shop.http() as http:
        assert http.post(f"/client/v11/databases/{database}/backups").status_code == 201
    thread.join(timeout=60)

    [result] = outcome
    records = {b["num"]: b for b in backups(shop)}
    assert sorted(records) == [1, 2]  # theirs is b001, ours b002
    assert records[2]["canceled_at"] is not None and not records[2]["succeeded"]
    assert records[1]["succeeded"]
    assert result.data["backup"]["name"] == "b001" and result.data["backup"]["state"] == "completed"
    assert any("b001" in w and "b002" in w for w in result.warnings), result.warnings
