"""heroku_pg_promote from a playbook against the sandbox; the sandbox's own state is checked after every step."""

from __future__ import annotations

from harness import Ansible, sandbox_state
from herokupg_sandbox.threaded import seed_app, seed_database

TARGET = "heroku_pg_promote/main.yml"


def attachments(ansible: Ansible) -> dict[str, str]:
    """attachment name -> add-on id."""
    state = sandbox_state(ansible.sandbox)
    return {att["name"]: att["addon_id"] for att in state["attachments"].values()}


def leader_of(ansible: Ansible, addon_id: str) -> str | None:
    db = sandbox_state(ansible.sandbox)["addons"][addon_id]["db"]
    return db["leader_id"] if db else None


def step(ansible: Ansible, tag: str, app: str) -> None:
    ansible.playbook(TARGET, "--tags", tag, extra_vars={"app": app}).assert_ok()


def test_promote_steps(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "web")
    primary = seed_database(ansible.sandbox, "web")
    follower = seed_database(ansible.sandbox, "web", attachment="REPLICA", config={"follow": "DATABASE_URL"})
    ansible.sandbox.admin("PATCH", "settings", json={"follower_catchup": 1})
    ansible.sandbox.admin("POST", f"databases/{primary['id']}/writes", json={"table": "t", "rows": ["x"]})
    before = attachments(ansible)

    step(ansible, "check", "web")
    assert attachments(ansible) == before
    assert leader_of(ansible, follower["id"]) == primary["id"]

    step(ansible, "real", "web")
    after = attachments(ansible)
    assert after["DATABASE"] == follower["id"] and after["REPLICA"] == follower["id"]
    aliases = [name for name, addon in after.items() if addon == primary["id"]]
    assert len(aliases) == 1 and aliases[0].startswith("HEROKU_POSTGRESQL_")
    assert leader_of(ansible, follower["id"]) is None
    data = ansible.sandbox.admin("GET", f"databases/{follower['id']}/data")
    assert data["tables"] == {"t": ["x"]}  # caught up before unfollowing

    step(ansible, "check_again", "web")
    step(ansible, "real_again", "web")
    assert attachments(ansible) == after


def test_bad_input_changes_nothing(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "errs")
    seed_database(ansible.sandbox, "errs")
    seed_database(ansible.sandbox, "errs", attachment="REPLICA", config={"follow": "DATABASE_URL"})
    before = sandbox_state(ansible.sandbox)
    step(ansible, "errors", "errs")
    after = sandbox_state(ansible.sandbox)
    assert after["attachments"] == before["attachments"]
    assert {k: a["db"]["leader_id"] for k, a in after["addons"].items()} == {
        k: a["db"]["leader_id"] for k, a in before["addons"].items()
    }


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
