"""heroku_pg_follower from a playbook against the sandbox; the sandbox's own state is checked after
every step (the playbook itself verifies through heroku_pg_info)."""

from __future__ import annotations

from typing import Any

from harness import Ansible, sandbox_state, settled
from herokupg_sandbox.threaded import seed_app, seed_database

TARGET = "heroku_pg_follower/main.yml"


def followers(ansible: Ansible, leader_id: str) -> dict[str, dict[str, Any]]:
    """attachment name -> add-on, for every add-on following ``leader_id``."""
    state = sandbox_state(ansible.sandbox)
    names = {att["addon_id"]: att["name"] for att in state["attachments"].values()}
    return {
        names[a["id"]]: a
        for a in state["addons"].values()
        if a["db"] and a["db"]["leader_id"] == leader_id
    }


def step(ansible: Ansible, tag: str, app: str, **extra: Any) -> None:
    ansible.playbook(TARGET, "--tags", tag, extra_vars={"app": app, **extra}).assert_ok()


def test_named_follower_steps(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "web")
    leader = seed_database(ansible.sandbox, "web")

    step(ansible, "named_check", "web")
    assert followers(ansible, leader["id"]) == {}
    assert len(sandbox_state(ansible.sandbox)["addons"]) == 1

    step(ansible, "named_real", "web")
    created = followers(ansible, leader["id"])
    assert list(created) == ["REPLICA"]
    assert created["REPLICA"]["state"] == "provisioned"
    assert created["REPLICA"]["config"] == {"follow": "DATABASE_URL"}

    step(ansible, "named_check_again", "web")
    step(ansible, "named_real_again", "web")
    assert followers(ansible, leader["id"]) == created
    assert len(sandbox_state(ansible.sandbox)["addons"]) == 2

    step(ansible, "count", "web")
    assert len(followers(ansible, leader["id"])) == 3
    assert "REPLICA" in followers(ansible, leader["id"])

    step(ansible, "absent", "web")
    assert sorted(followers(ansible, leader["id"])) != [] and "REPLICA" not in followers(ansible, leader["id"])
    assert len(sandbox_state(ansible.sandbox)["addons"]) == 3


def test_whole_play_untagged(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "full")
    leader = seed_database(ansible.sandbox, "full")
    run = ansible.playbook(TARGET, "--skip-tags", "errors", extra_vars={"app": "full"})
    run.assert_ok()
    assert ansible.sandbox.token not in run.output
    assert len(followers(ansible, leader["id"])) == 2


def test_bad_input_changes_nothing(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "errs")
    seed_database(ansible.sandbox, "errs")
    follower = seed_database(ansible.sandbox, "errs", attachment="REPLICA", config={"follow": "DATABASE_URL"})
    before = sandbox_state(ansible.sandbox)
    step(ansible, "errors", "errs", follower_name=follower["name"])
    after = sandbox_state(ansible.sandbox)
    assert after["addons"] == before["addons"]
    assert after["attachments"] == before["attachments"]


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
