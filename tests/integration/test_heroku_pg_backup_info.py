"""heroku_pg_backup_info from a playbook, its answers compared with the sandbox's own state."""

from __future__ import annotations

import time

from harness import Ansible, sandbox_state
from herokupg_sandbox.threaded import seed_app, seed_database


def _wait_finished(ansible: Ansible, num: int) -> None:
    with ansible.sandbox.http() as http:
        for _attempt in range(500):
            if http.get(f"/client/v11/apps/infoapp/transfers/{num}").json().get("finished_at"):
                return
            time.sleep(0.02)
    raise AssertionError(f"transfer {num} never finished")


def test_backup_info_playbook(ansible: Ansible) -> None:
    sb = ansible.sandbox
    seed_app(sb, "infoapp")
    primary = seed_database(sb, "infoapp")
    reporting = seed_database(sb, "infoapp", attachment="REPORTING")
    with sb.http() as http:
        http.post(f"/client/v11/databases/{primary['id']}/backups").raise_for_status()  # b001
        _wait_finished(ansible, 1)
        http.post(f"/client/v11/databases/{reporting['id']}/backups").raise_for_status()  # b002
        _wait_finished(ansible, 2)
        sb.admin("POST", "faults", json={"kind": "transfer_failure", "path": "/backups$", "remaining": 1})
        http.post(f"/client/v11/databases/{primary['id']}/backups").raise_for_status()  # b003, fails
        _wait_finished(ansible, 3)
        b001 = http.get("/client/v11/apps/infoapp/transfers/1").json()
        http.post(
            f"/client/v11/databases/{reporting['id']}/restores", json={"backup_url": b001["to_url"]}
        ).raise_for_status()  # r004
        _wait_finished(ansible, 4)
    before = sandbox_state(sb)["transfers"]
    run = ansible.playbook("heroku_pg_backup_info/main.yml", extra_vars={"app": "infoapp"})
    run.assert_ok()
    after = sandbox_state(sb)["transfers"]
    assert after == before  # read-only
    outcome = {t["num"]: t["succeeded"] for t in after.values()}
    assert outcome == {1: True, 2: True, 3: False, 4: True}
