"""Each module's idempotent rerun (nothing to change) sends at most 3 HTTP requests (issue #7).

The sandbox counts what it serves (herokupg_sandbox.threaded.Counter, as pycore/bench/ops_bench.py
does). The apps are brought to each task's state by one playbook run; every module then runs again,
in check mode and for real, and must change nothing with exactly the requests listed here.
Reading a database is one request each: heroku_pg_info, and heroku_pg_follower (which reports
every follower of the leader), read every Postgres database of the app, so the fork gets an app
of its own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import Ansible
from herokupg_sandbox.threaded import Counter, RunningSandbox, counted_sandbox, seed_app, seed_database

APP = "steady"  # a primary and a follower
FORKED = "forked"  # a primary and its fork
AT = "02:00 America/New_York"
# (module, its no-op arguments, requests of the rerun): in play order, the backup before the restore.
NOOP_RUNS: list[tuple[str, dict[str, Any], int]] = [
    ("heroku_pg_info", {}, 3),  # the attachment list, then each of the 2 databases
    ("heroku_pg_follower", {"name": "FOLLOWER"}, 3),  # attachments, leader, follower
    ("heroku_pg_fork", {"app": FORKED, "name": "FORK"}, 3),  # attachments, source, fork
    ("heroku_pg_settings", {"settings": {"log_min_duration_statement": 50}}, 2),  # attachments, settings
    ("heroku_pg_backup_schedule", {"at": AT}, 3),  # attachments, database, schedules
    ("heroku_pg_backup", {"max_age": "1h"}, 3),  # attachments, database, transfers
    ("heroku_pg_backup_info", {}, 1),  # transfers
    ("heroku_pg_restore", {"backup": "b001", "confirm": APP, "once": True}, 3),  # + config vars
    ("heroku_pg_promote", {"database": "DATABASE", "unfollow": False, "confirm": APP}, 3),
    ("heroku_pg_slow_query_info", {}, 2),  # a log session, then its stream (the logs host)
    ("heroku_app_maintenance", {"enabled": False}, 1),  # the app
]


@pytest.fixture
def counted(tmp_path: Path) -> Iterator[tuple[RunningSandbox, Counter]]:
    with counted_sandbox(tmp_path / "sandbox") as running:
        yield running


@pytest.fixture
def sandbox(counted: tuple[RunningSandbox, Counter]) -> RunningSandbox:
    """The integration sandbox, its requests counted (overrides conftest's)."""
    return counted[0]


def test_noop_reruns_send_at_most_three_requests(
    ansible: Ansible, counted: tuple[RunningSandbox, Counter], tmp_path: Path
) -> None:
    sandbox, counter = counted
    seed_app(sandbox, APP)
    seed_database(sandbox, APP)
    seed_database(sandbox, APP, attachment="FOLLOWER", config={"follow": "DATABASE_URL"})
    seed_app(sandbox, FORKED)
    seed_database(sandbox, FORKED)
    play = [{
        "name": "bring the app to each task's state", "hosts": "localhost", "gather_facts": False,
        "module_defaults": {"group/herokuops.postgres.heroku": {"app": APP}},
        "tasks": [{f"herokuops.postgres.{module}": args} for module, args, _count in NOOP_RUNS],
    }]
    playbook = tmp_path / "steady.yml"
    playbook.write_text(json.dumps(play))
    ansible.playbook(playbook).assert_ok()

    sent: dict[str, list[int]] = {}  # module -> requests of its real rerun, then of its check-mode one
    for module, args, _count in NOOP_RUNS:
        for check in ([], ["--check"]):
            mark = counter.mark()
            run = ansible.module(module, json.dumps({"app": APP, **args}), *check)
            time.sleep(0.1)  # the server records a request once its response is sent
            sent.setdefault(module, []).append(len(counter.since(mark)))
            run.assert_ok()
            assert '"changed": false' in run.output, (module, check, run.output[-3000:])
    assert sent == {module: [count, count] for module, _args, count in NOOP_RUNS}
