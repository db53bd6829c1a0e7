"""heroku_pg_database from a playbook against the sandbox; the sandbox's own state is checked after every step."""

from __future__ import annotations

from typing import Any

from harness import Ansible, sandbox_state
from herokupg_sandbox.threaded import seed_app, seed_database

TARGET = "heroku_pg_database/main.yml"


def databases(ansible: Ansible) -> dict[str, dict[str, Any]]:
    """The sandbox's add-ons by attachment name."""
    state = sandbox_state(ansible.sandbox)
    return {att["name"]: state["addons"][att["addon_id"]] for att in state["attachments"].values()}


def step(ansible: Ansible, tag: str, app: str) -> None:
    ansible.playbook(TARGET, "--tags", tag, extra_vars={"app": app}).assert_ok()


def test_database_steps(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "web")

    step(ansible, "check", "web")
    assert sandbox_state(ansible.sandbox)["addons"] == {}

    step(ansible, "real", "web")
    created = databases(ansible)
    assert list(created) == ["DATABASE"]
    primary = created["DATABASE"]
    assert primary["plan"] == "heroku-postgresql:standard-0" and primary["state"] == "provisioned"
    assert primary["config"] == {"version": "16"} and primary["db"]["version"] == "16"

    step(ansible, "check_again", "web")
    step(ansible, "real_again", "web")
    assert databases(ansible) == created

    step(ansible, "absent", "web")
    state = sandbox_state(ansible.sandbox)
    assert state["addons"] == {} and state["attachments"] == {}


def test_bad_input_changes_nothing(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "errs")
    seed_database(ansible.sandbox, "errs")
    before = sandbox_state(ansible.sandbox)
    step(ansible, "errors", "errs")
    after = sandbox_state(ansible.sandbox)
    assert after["addons"] == before["addons"] and after["attachments"] == before["attachments"]
