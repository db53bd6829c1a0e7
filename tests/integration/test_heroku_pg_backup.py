"""heroku_pg_backup from a playbook, verified in the sandbox's own state."""

from __future__ import annotations

from pathlib import Path

from harness import Ansible, sandbox_state
from herokupg.sandbox.testing import seed_app, seed_database


def test_backup_playbook(ansible: Ansible, tmp_path: Path) -> None:
    seed_app(ansible.sandbox, "bkapp")
    seed_database(ansible.sandbox, "bkapp")
    workdir = tmp_path / "downloads"
    workdir.mkdir()
    run = ansible.playbook("heroku_pg_backup/main.yml", extra_vars={"app": "bkapp", "workdir": str(workdir)})
    run.assert_ok()
    # Exactly one capture happened (check mode and max_age reruns sent nothing), and it was deleted.
    [backup] = sandbox_state(ansible.sandbox)["transfers"].values()
    assert backup["succeeded"] and backup["num"] == 1 and backup["deleted_at"] is not None
    assert (workdir / "b001.dump").stat().st_size == backup["processed_bytes"]
    assert sorted(p.name for p in workdir.iterdir()) == [".b001.dump.herokupg.json", "b001.dump"]  # and its stamp
    assert ansible.sandbox.token not in run.output
    assert "signature=" not in run.output


def test_failed_capture_reports_logs(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "failapp")
    seed_database(ansible.sandbox, "failapp")
    ansible.sandbox.admin("POST", "faults", json={"kind": "transfer_failure", "path": "/backups$"})
    run = ansible.module("heroku_pg_backup", "app=failapp poll_interval=0.1")
    assert run.returncode != 0
    assert "b001" in run.output and "injected transfer_failure" in run.output
    [backup] = sandbox_state(ansible.sandbox)["transfers"].values()
    assert backup["finished_at"] is not None and not backup["succeeded"]


def test_signed_url_on_request(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "urlapp")
    seed_database(ansible.sandbox, "urlapp")
    run = ansible.module("heroku_pg_backup", "app=urlapp url=true return_secrets=true")
    run.assert_ok()
    assert f"{ansible.sandbox.url}/_sandbox/public/backups/" in run.output
