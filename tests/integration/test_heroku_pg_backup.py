"""heroku_pg_backup ad hoc, verified in the sandbox's own state (the scenario is the ansible-test target
targets/heroku_pg_backup: make ansible-integration)."""

from __future__ import annotations


from harness import Ansible, sandbox_state
from herokupg_sandbox.threaded import seed_app, seed_database


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
