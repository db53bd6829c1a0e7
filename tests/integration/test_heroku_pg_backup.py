"""heroku_pg_backup from a playbook, verified in the sandbox's own state."""

from __future__ import annotations

from pathlib import Path

from harness import Ansible, sandbox_state
from herokupg_sandbox.threaded import seed_app, seed_database


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


def test_three_module_runs_at_once_capture_once(ansible: Ansible) -> None:
    """Three processes (as Ansible forks are), a slow capture, max_age: one backup, used by all three."""
    import threading

    seed_app(ansible.sandbox, "threeapp")
    seed_database(ansible.sandbox, "threeapp")
    ansible.sandbox.admin("PATCH", "settings", json={"transfer_delay": 3})
    # Each capture request answers 3 s late: longer than the three processes' start-up skew, so without
    # turns all three would look, find nothing, and capture.
    ansible.sandbox.admin("POST", "faults", json={"kind": "latency", "method": "POST", "path": "/backups$",
                                                  "latency": 3, "remaining": 3})
    runs = []

    def run() -> None:
        runs.append(ansible.module("heroku_pg_backup", "app=threeapp max_age=1h poll_interval=0.2"))

    threads = [threading.Thread(target=run) for _run in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for done in runs:
        done.assert_ok()
    backups = [t for t in sandbox_state(ansible.sandbox)["transfers"].values() if t["to_type"] == "gof3r"]
    assert [(b["num"], b["succeeded"]) for b in backups] == [(1, True)]
    assert sorted(r.output.count("CHANGED") for r in runs) == [0, 0, 1]
