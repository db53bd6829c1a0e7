"""heroku_pg_restore ad hoc, verified in the sandbox's own state (the scenario is the ansible-test target
targets/heroku_pg_restore: make ansible-integration)."""

from __future__ import annotations

import time
from typing import Any

from harness import Ansible, sandbox_state
from herokupg_sandbox.threaded import seed_app, seed_database


def _capture(ansible: Ansible, addon: dict[str, Any], app: str) -> dict[str, Any]:
    with ansible.sandbox.http() as http:
        created = http.post(f"/client/v11/databases/{addon['id']}/backups").json()
        for _attempt in range(500):
            backup: dict[str, Any] = http.get(f"/client/v11/apps/{app}/transfers/{created['num']}").json()
            if backup.get("finished_at"):
                return backup
            time.sleep(0.02)
    raise AssertionError("backup never finished")


def restores(ansible: Ansible) -> list[dict[str, Any]]:
    state = sandbox_state(ansible.sandbox)
    return [t for t in state["transfers"].values() if t["to_type"] == "pg_restore"]


def test_failed_restore_reports_logs(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "rfail")
    _capture(ansible, seed_database(ansible.sandbox, "rfail"), "rfail")
    ansible.sandbox.admin("POST", "faults", json={"kind": "transfer_failure", "path": "/restores$"})
    run = ansible.module("heroku_pg_restore", "app=rfail confirm=rfail poll_interval=0.1")
    assert run.returncode != 0
    assert "r002" in run.output and "injected transfer_failure" in run.output
    [restore] = restores(ansible)
    assert restore["finished_at"] is not None and not restore["succeeded"]
