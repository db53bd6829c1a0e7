"""heroku_pg_promote ad hoc against the sandbox, its state checked (the scenario is the ansible-test
target targets/heroku_pg_promote: make ansible-integration)."""

from __future__ import annotations

from harness import Ansible, sandbox_state
from herokupg_sandbox.threaded import seed_app, seed_database


def attachments(ansible: Ansible) -> dict[str, str]:
    """attachment name -> add-on id."""
    state = sandbox_state(ansible.sandbox)
    return {att["name"]: att["addon_id"] for att in state["attachments"].values()}


def test_ambiguous_database(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "amb")
    seed_database(ansible.sandbox, "amb")
    seed_database(ansible.sandbox, "amb", attachment="REPLICA", config={"follow": "DATABASE_URL"})
    with ansible.sandbox.http() as http:
        body = {"plan": {"name": "heroku-postgresql:standard-0"}, "name": "REPLICA", "attachment": {"name": "SPARE"}}
        http.post("/apps/amb/addons", json=body).raise_for_status()
    before = attachments(ansible)
    run = ansible.module("heroku_pg_promote", "app=amb database=REPLICA confirm=amb")
    assert run.returncode != 0 and "Ambiguous identifier" in run.output
    assert attachments(ansible) == before
