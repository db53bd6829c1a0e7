"""One failover of an app under a writer, on the postgres engine, and what the writer lost.

Shared by test_failover_fencing.py (two runs in ``make test``) and failover_soak.py (``make
soak-failover``, twenty runs and figures). The app has a standard-0 primary and a follower REPLICA
(real streaming replication). A writer thread plays the app's web dynos: it keeps one connection
(psycopg) to the database its DATABASE_URL names and inserts rows one at a time, each carrying its
own marker; every insert that returned is an acknowledged write. A connection that breaks, or a
write the database refuses, is counted as refused and retried on a new connection; when DATABASE_URL
changes, the writer reconnects to the new URL, as a dyno restarts with a new release. Meanwhile
``ansible-playbook`` runs roles/failover (with or without write fencing, no maintenance mode).

Lost rows: acknowledged markers missing from the final primary. Writes refused: around each refused
write, the time from the last acknowledged write before it to the first one after it (the longest
such stretch): how long the app could not write.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from harness import Ansible
from herokupg_sandbox import provider
from herokupg_sandbox.threaded import RunningSandbox, seed_app, seed_database

PLAYBOOK = """\
---
- name: Fail over while the app writes
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Fail over to REPLICA
      ansible.builtin.include_role:
        name: herokuops.postgres.failover
      vars:
        failover_app: "{{ app }}"
        failover_follower: REPLICA
        failover_confirm: "{{ app }}"
        failover_fence: "{{ fence | bool }}"
        failover_poll_interval: 0.2
        failover_wait_timeout: 120
"""
SETTLE = 1.0  # seconds the writer goes on writing to the new primary before it stops


@dataclass
class Writer:
    sandbox: RunningSandbox
    app: str
    acked: list[tuple[str, float, str]] = field(default_factory=list)  # (marker, monotonic, url)
    refused: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, first line of the error)
    stop: threading.Event = field(default_factory=threading.Event)

    def database_url(self) -> str:
        """The app's DATABASE_URL as the platform has it now (what a restarted dyno gets)."""
        store = self.sandbox.sandbox.store
        with store.lock:
            app = store.app(self.app)
            assert app is not None
            attachment = next(a for a in store.attachments_of_app(app.id) if a.name == "DATABASE")
            url = provider.database_url(self.sandbox.sandbox, store.state.addons[attachment.addon_id])
        assert url is not None
        return url

    def run(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        url = ""
        n = 0
        while not self.stop.is_set():
            try:
                current = self.database_url()
                if conn is None or current != url:
                    if conn is not None:
                        conn.close()
                    url, conn = current, None
                    conn = psycopg.connect(url, autocommit=True, connect_timeout=5)
                n += 1
                marker = f"w{n}"
                conn.execute("INSERT INTO writes (marker) VALUES (%s)", (marker,))
                self.acked.append((marker, time.monotonic(), url))
            except psycopg.Error as exc:
                self.refused.append((time.monotonic(), (str(exc).splitlines() or [""])[0][:200]))
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.01)
        if conn is not None:
            conn.close()

    def refused_for(self) -> float:
        """The longest time without an acknowledged write around a refused one, in seconds."""
        times = [when for _marker, when, _url in self.acked]
        longest = 0.0
        for at, _error in self.refused:
            start = max((when for when in times if when < at), default=at)
            end = min((when for when in times if when > at), default=at)
            longest = max(longest, end - start)
        return longest


@dataclass
class Figures:
    app: str
    fenced: bool
    acked: int
    on_old: int  # acknowledged by the old primary
    on_new: int  # acknowledged by the new primary
    lost: int
    refused_writes: int
    refused_seconds: float
    playbook_seconds: float
    missing: list[str]


def seed(sandbox: RunningSandbox, app: str) -> None:
    """An app with a primary holding the writes table and a caught-up follower REPLICA."""
    seed_app(sandbox, app)
    primary = seed_database(sandbox, app)
    wait_available(sandbox, primary["id"])
    with psycopg.connect(Writer(sandbox, app).database_url(), autocommit=True) as conn:
        conn.execute("CREATE TABLE writes (id bigserial PRIMARY KEY, marker text UNIQUE NOT NULL)")
    replica = seed_database(sandbox, app, attachment="REPLICA", config={"follow": "DATABASE_URL"})
    wait_available(sandbox, replica["id"])


def wait_available(sandbox: RunningSandbox, addon_id: str) -> None:
    with sandbox.http() as http:
        for _attempt in range(600):
            status = http.get(f"/client/v11/databases/{addon_id}/wait_status").json()
            if not status["waiting?"]:
                assert not status["error?"], status
                return
            time.sleep(0.1)
    raise AssertionError(f"{addon_id} never became available")


def fail_over(ansible: Ansible, app: str, *, fence: bool, workdir: Path) -> Figures:
    """Seed ``app``, fail it over under the writer, and count what the writer lost."""
    sandbox = ansible.sandbox
    seed(sandbox, app)
    playbook = workdir / "failover.yml"
    playbook.write_text(PLAYBOOK)
    writer = Writer(sandbox, app)
    old_url = writer.database_url()
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    try:
        while not writer.acked and thread.is_alive():
            time.sleep(0.02)
        started = time.monotonic()
        run = ansible.playbook(playbook, extra_vars={"app": app, "fence": fence})
        playbook_seconds = time.monotonic() - started
        deadline = time.monotonic() + 30
        while thread.is_alive() and time.monotonic() < deadline:  # go on until the new primary took writes
            on_new = [when for _m, when, url in writer.acked if url != old_url]
            if on_new and time.monotonic() - on_new[0] > SETTLE:
                break
            time.sleep(0.05)
    finally:
        writer.stop.set()
        thread.join(timeout=30)
    run.assert_ok()
    new_url = writer.database_url()
    assert new_url != old_url, "DATABASE_URL did not change"
    with psycopg.connect(new_url, autocommit=True) as conn:
        stored = {row[0] for row in conn.execute("SELECT marker FROM writes")}
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
    missing = [marker for marker, _when, _url in writer.acked if marker not in stored]
    return Figures(
        app=app,
        fenced=fence,
        acked=len(writer.acked),
        on_old=sum(1 for _m, _w, url in writer.acked if url == old_url),
        on_new=sum(1 for _m, _w, url in writer.acked if url == new_url),
        lost=len(missing),
        refused_writes=len(writer.refused),
        refused_seconds=writer.refused_for(),
        playbook_seconds=playbook_seconds,
        missing=missing[:20],
    )
