"""Two operators fail the same app over at once, each to another follower (roles/failover, two
``ansible-playbook`` processes started together): exactly one run succeeds; the other stops with an
error naming the database the first one promoted, and DATABASE_URL moves once.

Injected latency orders them: the second run's unfollow answers 6 s late, the first run's 2 s late
(long enough for both preflights to pass before anything changes). Without the re-checks in
heroku_pg_promote both runs exit 0 and DATABASE ends on the second follower, which stopped
following before the first one took writes (the split brain this test guards against).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from harness import Ansible, PlaybookRun, sandbox_state
from herokupg_sandbox.threaded import seed_app, seed_database

APP = "twoops"
ROWS = ["a", "b", "c"]
PLAYBOOK = """\
---
- name: Fail over to one follower
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Fail over
      ansible.builtin.include_role:
        name: herokuops.postgres.failover
      vars:
        failover_app: "{{ app }}"
        failover_follower: "{{ follower }}"
        failover_confirm: "{{ app }}"
        failover_poll_interval: 0.1
        failover_wait_timeout: 60
"""


def latency(ansible: Ansible, addon_id: str, seconds: float) -> None:
    ansible.sandbox.admin("POST", "faults", json={
        "kind": "latency", "method": "PUT", "path": f"/databases/{addon_id}/unfollow$",
        "latency": seconds, "remaining": 1,
    })


def test_two_failovers_at_once_one_wins(ansible: Ansible, tmp_path: Path) -> None:
    sandbox = ansible.sandbox
    seed_app(sandbox, APP)
    primary = seed_database(sandbox, APP)
    sandbox.admin("POST", f"databases/{primary['id']}/writes", json={"table": "orders", "rows": ROWS})
    first = seed_database(sandbox, APP, attachment="REPLICA_A", config={"follow": "DATABASE_URL"})
    second = seed_database(sandbox, APP, attachment="REPLICA_B", config={"follow": "DATABASE_URL"})
    latency(ansible, first["id"], 2)
    latency(ansible, second["id"], 6)
    playbook = tmp_path / "failover.yml"
    playbook.write_text(PLAYBOOK)

    runs: dict[str, PlaybookRun] = {}

    def run(follower: str) -> None:
        runs[follower] = ansible.playbook(playbook, extra_vars={"app": APP, "follower": follower})

    threads = [threading.Thread(target=run, args=(name,)) for name in ("REPLICA_A", "REPLICA_B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)

    runs["REPLICA_A"].assert_ok()
    loser = runs["REPLICA_B"]
    assert loser.returncode != 0, loser.output[-4000:]
    assert "another promotion made it the primary" in loser.output, loser.output[-4000:]
    assert first["name"] in loser.output and "REPLICA_B" in loser.output, loser.output[-4000:]

    state = sandbox_state(sandbox)
    names = {a["name"]: a["addon_id"] for a in state["attachments"].values()}
    assert names["DATABASE"] == first["id"]
    moved: list[Any] = sorted(
        (r for r in state["releases"].values() if r["description"].startswith("Attach DATABASE")),
        key=lambda r: r["version"],
    )
    assert [r["description"] for r in moved] == [
        f"Attach DATABASE (@ref:{primary['name']})", f"Attach DATABASE (@ref:{first['name']})"
    ]
    assert sandbox.admin("GET", f"databases/{first['id']}/data")["tables"]["orders"] == ROWS
    assert state["addons"][first["id"]]["db"]["leader_id"] is None
