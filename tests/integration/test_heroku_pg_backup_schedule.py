"""heroku_pg_backup_schedule ad hoc, verified in the sandbox's own state (the scenario is the ansible-test
target targets/heroku_pg_backup_schedule: make ansible-integration)."""

from __future__ import annotations

from harness import Ansible, sandbox_state
from herokupg_sandbox.threaded import seed_app, seed_database


def schedules(ansible: Ansible) -> list[tuple[str, int, str]]:
    records = sandbox_state(ansible.sandbox)["schedules"].values()
    return [(s["name"], s["hour"], s["timezone"]) for s in records]


def test_schedule_is_set_as_asked(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "keepapp")
    seed_database(ansible.sandbox, "keepapp")
    run = ansible.module("heroku_pg_backup_schedule", "app=keepapp at='23:00 PST'")
    run.assert_ok()
    assert schedules(ansible) == [("DATABASE_URL", 23, "America/Los_Angeles")]
    bad = ansible.module("heroku_pg_backup_schedule", "app=keepapp at='24:00 PST'")
    assert bad.returncode != 0
    assert schedules(ansible) == [("DATABASE_URL", 23, "America/Los_Angeles")]
