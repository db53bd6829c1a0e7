"""heroku_pg_fork from a playbook against the sandbox; the sandbox's own state is checked after every step."""

from __future__ import annotations

from typing import Any

from harness import Ansible, sandbox_state, settled
from herokupg_sandbox.threaded import seed_app, seed_database

TARGET = "heroku_pg_fork/main.yml"


def forks(ansible: Ansible, source_id: str) -> dict[str, dict[str, Any]]:
    state = sandbox_state(ansible.sandbox)
    names = {att["addon_id"]: att["name"] for att in state["attachments"].values()}
    return {
        names[a["id"]]: a
        for a in state["addons"].values()
        if a["db"] and a["db"]["forked_from_id"] == source_id
    }


def step(ansible: Ansible, tag: str, app: str) -> None:
    ansible.playbook(TARGET, "--tags", tag, extra_vars={"app": app}).assert_ok()


def test_fork_steps(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "web")
    source = seed_database(ansible.sandbox, "web")
    ansible.sandbox.admin("POST", f"databases/{source['id']}/writes", json={"table": "t", "rows": [1]})

    step(ansible, "check", "web")
    assert forks(ansible, source["id"]) == {}

    step(ansible, "real", "web")
    created = forks(ansible, source["id"])
    assert list(created) == ["COPY"]
    assert created["COPY"]["config"] == {"fork": "DATABASE_URL", "fast": True}
    assert created["COPY"]["state"] == "provisioned"
    data = ansible.sandbox.admin("GET", f"databases/{created['COPY']['id']}/data")
    assert data["tables"] == {"t": [1]}

    step(ansible, "check_again", "web")
    step(ansible, "real_again", "web")
    assert forks(ansible, source["id"]) == created

    step(ansible, "absent", "web")
    assert forks(ansible, source["id"]) == {}
    assert len(sandbox_state(ansible.sandbox)["addons"]) == 1


def test_bad_input_changes_nothing(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "errs")
    seed_database(ansible.sandbox, "errs")
    before = sandbox_state(ansible.sandbox)
    step(ansible, "errors", "errs")
    after = sandbox_state(ansible.sandbox)
    assert after["addons"] == before["addons"] and after["attachments"] == before["attachments"]


def test_ambiguous_source(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "amb")
    seed_database(ansible.sandbox, "amb")
    seed_database(ansible.sandbox, "amb", attachment="REPLICA")
    with ansible.sandbox.http() as http:
        body = {"plan": {"name": "heroku-postgresql:standard-0"}, "name": "REPLICA", "attachment": {"name": "SPARE"}}
        http.post("/apps/amb/addons", json=body).raise_for_status()
    before = settled(ansible.sandbox)["addons"]
    run = ansible.module("heroku_pg_fork", "app=amb name=COPY source=REPLICA")
    assert run.returncode != 0 and "Ambiguous identifier" in run.output
    assert sandbox_state(ansible.sandbox)["addons"] == before
