"""heroku_pg_follower ad hoc against the sandbox, its state checked (the scenario is the ansible-test
target targets/heroku_pg_follower: make ansible-integration)."""

from __future__ import annotations

from harness import Ansible, sandbox_state, settled
from herokupg_sandbox.threaded import seed_app, seed_database


def test_ambiguous_leader(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "amb")
    seed_database(ansible.sandbox, "amb")
    seed_database(ansible.sandbox, "amb", attachment="REPLICA", config={"follow": "DATABASE_URL"})
    with ansible.sandbox.http() as http:  # an add-on *named* REPLICA, attached under another name
        body = {"plan": {"name": "heroku-postgresql:standard-0"}, "name": "REPLICA", "attachment": {"name": "SPARE"}}
        http.post("/apps/amb/addons", json=body).raise_for_status()
    before = settled(ansible.sandbox)["addons"]
    run = ansible.module("heroku_pg_follower", "app=amb name=SECOND leader=REPLICA")
    assert run.returncode != 0
    assert "Ambiguous identifier" in run.output and "multiple_matches" in run.output
    assert sandbox_state(ansible.sandbox)["addons"] == before
