"""Failover safety on real PostgreSQL: no committed write is lost by roles/failover.

A postgres-engine sandbox (real clusters, a real streaming replica) serves an app with a
standard-0 primary and a follower REPLICA. A writer thread plays the app: it commits rows to the
primary, one ``psql -c "INSERT ... RETURNING id"`` at a time, recording every id psql reported
committed. Meanwhile ``ansible-playbook`` runs roles/failover with ``failover_maintenance: true``.

What "before the cutover" means here: on Heroku the old primary stays writable after a promote;
what stops the app's writes is maintenance mode (the router refuses requests to web dynos). The
writer models a web dyno: before each insert it looks at the app's maintenance flag in the
sandbox's state (same process) and stops for good once it is on. The role turns maintenance on
before its promote step, whose catch-up wait (``failover_catchup_lag: 0``) runs before the
unfollow. So every id the writer saw committed (the insert in flight when maintenance went on
included) was committed before the promotion started, and must be on the new primary. The test
also checks that the writer did commit rows while the playbook was already running.

Afterwards the new DATABASE_URL (read from the app's config vars) holds every one of those ids
and accepts writes, and when the sandbox stops no PostgreSQL process is left under its state dir.
No timing is asserted.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from failover_writer import wait_available
from harness import Ansible
from herokupg_sandbox.pgengine import available
from herokupg_sandbox.threaded import RunningSandbox, postgres_sandbox, seed_app, seed_database

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not available()[0], reason=f"postgres engine unavailable: {available()[1]}"),
]

APP = "fowrites"
PSQL_TIMEOUT = 60.0
MAX_WRITES = 20_000  # the writer's loop bound (it stops at maintenance mode long before)
PLAYBOOK = """\
---
- name: Fail over while the app writes
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Fail over to REPLICA with maintenance mode around the switch
      ansible.builtin.include_role:
        name: herokuops.postgres.failover
      vars:
        failover_app: "{{ app }}"
        failover_follower: REPLICA
        failover_confirm: "{{ app }}"
        failover_maintenance: true
        failover_catchup_lag: 0
        failover_poll_interval: 0.2
        failover_wait_timeout: 120
"""


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """A postgres-engine sandbox (overrides conftest's memory one)."""
    with postgres_sandbox("herokupg-fo-writes-") as running:
        yield running


def psql(url: str, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        capture_output=True, text=True, timeout=PSQL_TIMEOUT, check=False,
    )


def config_var(sandbox: RunningSandbox, name: str) -> str:
    with sandbox.http() as http:
        response = http.get(f"/apps/{APP}/config-vars")
        response.raise_for_status()
        value: str = response.json()[name]
        return value


@dataclass
class Writer:
    """Commits rows to ``url`` until the app is in maintenance mode (or ``stop`` is set)."""

    sandbox: RunningSandbox
    url: str
    committed: list[tuple[int, float]] = field(default_factory=list)  # (id, monotonic time)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    stopped_by_maintenance: bool = False

    def in_maintenance(self) -> bool:
        store = self.sandbox.sandbox.store
        with store.lock:
            app = store.app(APP)
            return bool(app and app.maintenance)

    def run(self) -> None:
        for _write in range(MAX_WRITES):
            if self.stop.is_set():
                return
            if self.in_maintenance():
                self.stopped_by_maintenance = True
                return
            done = psql(self.url, "INSERT INTO writes (note) VALUES ('before the cutover') RETURNING id")
            if done.returncode == 0:
                self.committed.append((int(done.stdout.strip()), time.monotonic()))
            else:
                self.errors.append(done.stderr.strip()[-300:])
            time.sleep(0.01)


def test_failover_keeps_every_committed_write(ansible: Ansible, tmp_path: Path) -> None:
    sandbox = ansible.sandbox
    seed_app(sandbox, APP)
    primary = seed_database(sandbox, APP)
    wait_available(sandbox, primary["id"])
    old_url = config_var(sandbox, "DATABASE_URL")
    created = psql(old_url, "CREATE TABLE writes (id bigserial PRIMARY KEY, note text NOT NULL)")
    assert created.returncode == 0, created.stderr
    replica = seed_database(sandbox, APP, attachment="REPLICA", config={"follow": "DATABASE_URL"})
    wait_available(sandbox, replica["id"])

    playbook = tmp_path / "failover.yml"
    playbook.write_text(PLAYBOOK)
    writer = Writer(sandbox, old_url)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    try:
        while not writer.committed and thread.is_alive():  # bounded by the writer's own loop
            time.sleep(0.05)
        started = time.monotonic()
        run = ansible.playbook(playbook, extra_vars={"app": APP})
    finally:
        writer.stop.set()
        thread.join(timeout=PSQL_TIMEOUT + 10)
    run.assert_ok()

    assert writer.stopped_by_maintenance, "the writer never saw maintenance mode: the role did not turn it on"
    assert writer.errors == [], writer.errors[:5]
    ids = [row_id for row_id, _when in writer.committed]
    during = [row_id for row_id, when in writer.committed if when > started]
    assert during, "no row was committed while the playbook ran: the test proves nothing"

    new_url = config_var(sandbox, "DATABASE_URL")
    assert new_url == config_var(sandbox, "REPLICA_URL") != old_url
    found = psql(new_url, "SELECT id FROM writes ORDER BY id")
    assert found.returncode == 0, found.stderr
    on_new_primary = {int(line) for line in found.stdout.split()}
    missing = sorted(set(ids) - on_new_primary)
    assert missing == [], f"{len(missing)} of {len(ids)} committed rows lost by the failover: {missing[:20]}"

    written = psql(new_url, "INSERT INTO writes (note) VALUES ('after the cutover') RETURNING id")
    assert written.returncode == 0, written.stderr
    assert int(written.stdout.strip()) not in on_new_primary
    recovery = psql(new_url, "SELECT pg_is_in_recovery()")
    assert recovery.stdout.strip() == "f", recovery.stdout + recovery.stderr
    with sandbox.http() as http:
        assert http.get(f"/apps/{APP}").json()["maintenance"] is False  # the role turned it off again
    print(
        f"\nfailover under writes: {len(ids)} rows committed before the cutover ({len(during)} while the "
        f"playbook ran, last id {max(ids)}), all on the new primary"
    )
