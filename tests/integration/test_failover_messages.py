"""roles/failover reports a refused maintenance-mode request in one sentence, ending in one full stop."""

from __future__ import annotations

from harness import Ansible
from herokupg_sandbox.threaded import seed_app, seed_database

PLAYBOOK = """\
---
- name: Fail over with maintenance mode
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Fail over to REPLICA
      ansible.builtin.include_role:
        name: herokuops.postgres.failover
      vars:
        failover_app: web
        failover_follower: REPLICA
        failover_confirm: web
        failover_maintenance: true
        failover_poll_interval: 0.2
"""


def test_refused_maintenance_mode_message(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "web")
    seed_database(ansible.sandbox, "web")
    seed_database(ansible.sandbox, "web", attachment="REPLICA", config={"follow": "DATABASE_URL"})
    ansible.sandbox.admin("POST", "faults", json={
        "kind": "error", "method": "PATCH", "path": "^/apps/web$", "status": 401, "error_id": "unauthorized",
        "message": "Invalid credentials provided.", "remaining": 1,
    })
    playbook = ansible.workdir / "failover.yml"
    playbook.write_text(PLAYBOOK)
    run = ansible.playbook(playbook)
    assert run.returncode != 0
    assert (
        "Turning maintenance mode on for web failed. PATCH /apps/web answered HTTP 401 (Error ID: unauthorized): "
        "Invalid credentials provided." in " ".join(run.output.split())
    ), run.output[-4000:]
    assert "provided.." not in run.output
