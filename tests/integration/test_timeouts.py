"""An expired ``wait_timeout`` fails with the resource and its last status, and the rerun picks up
the existing resource: a follower (the sandbox's ``provision_delay``) and a backup
(``transfer_delay``), each from a real playbook, with the sandbox's state checked between steps.

Delays are fixed when a resource is created, so the test advances the sandbox's clock past them
(and sets the delay back to 0) before the rerun rather than sleeping.
"""

from __future__ import annotations

from typing import Any

from harness import Ansible, sandbox_state
from herokupg_sandbox.threaded import seed_app, seed_database

TARGET = "timeouts/main.yml"
DELAY = 3600.0


def postgres_addons(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in state["addons"].values() if a["plan"].startswith("heroku-postgresql:")]


def step(ansible: Ansible, tag: str, app: str, **extra: Any) -> str:
    run = ansible.playbook(TARGET, "--tags", tag, extra_vars={"app": app, **extra})
    run.assert_ok()
    return run.output


def test_follower_timeout_then_rerun(ansible: Ansible) -> None:
    sandbox = ansible.sandbox
    seed_app(sandbox, "slowfollow")
    leader = seed_database(sandbox, "slowfollow")
    sandbox.admin("PATCH", "settings", json={"provision_delay": DELAY})

    step(ansible, "follower_timeout", "slowfollow")
    addons = postgres_addons(sandbox_state(sandbox))
    followers = [a for a in addons if a["id"] != leader["id"]]
    assert len(followers) == 1
    follower = followers[0]
    assert follower["state"] == "provisioning"
    assert follower["config"] == {"follow": "DATABASE_URL"}

    sandbox.admin("PATCH", "settings", json={"provision_delay": 0})
    sandbox.admin("POST", "clock/advance", json={"seconds": DELAY + 1})
    step(ansible, "follower_rerun", "slowfollow", timed_out_addon=follower["name"])
    addons = postgres_addons(sandbox_state(sandbox))
    assert sorted(a["id"] for a in addons) == sorted([leader["id"], follower["id"]])
    after = next(a for a in addons if a["id"] == follower["id"])
    assert after["state"] == "provisioned"
    assert after["db"]["leader_id"] == leader["id"]


def test_backup_timeout_then_rerun(ansible: Ansible) -> None:
    sandbox = ansible.sandbox
    seed_app(sandbox, "slowbackup")
    seed_database(sandbox, "slowbackup")
    sandbox.admin("PATCH", "settings", json={"transfer_delay": DELAY})

    step(ansible, "backup_timeout", "slowbackup")
    transfers = list(sandbox_state(sandbox)["transfers"].values())
    assert len(transfers) == 1
    assert transfers[0]["num"] == 1 and transfers[0]["finished_at"] is None

    sandbox.admin("PATCH", "settings", json={"transfer_delay": 0})
    sandbox.admin("POST", "clock/advance", json={"seconds": DELAY + 1})
    step(ansible, "backup_rerun", "slowbackup")
    transfers = list(sandbox_state(sandbox)["transfers"].values())
    assert len(transfers) == 1
    assert transfers[0]["succeeded"] is True and transfers[0]["finished_at"] is not None
