"""roles/failover reports a refused maintenance-mode request with Heroku's reason, its error id and
Request-Id (heroku_app_maintenance: no no_log hiding it), and changes nothing."""

from __future__ import annotations

from harness import Ansible, sandbox_state
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
    before = sandbox_state(ansible.sandbox)
    playbook = ansible.workdir / "failover.yml"
    playbook.write_text(PLAYBOOK)
    run = ansible.playbook(playbook)
    assert run.returncode != 0
    fatal = [line for line in run.output.splitlines() if line.startswith("fatal:")]
    assert len(fatal) == 1, run.output[-4000:]
    assert '"msg": "Invalid credentials provided. (app web) [Error ID: unauthorized; Request-Id: ' in fatal[0], fatal
    assert '"status": 401' in fatal[0] and "censored" not in run.output
    assert ansible.sandbox.token not in run.output
    # Refused before anything changed: no promotion, maintenance mode never on, so not turned off.
    after = sandbox_state(ansible.sandbox)
    assert after["attachments"] == before["attachments"]
    assert [a["maintenance"] for a in after["apps"].values()] == [False]
    assert "skipping: [localhost]" in run.output.split("Turn maintenance mode off")[1].split("TASK")[0]
