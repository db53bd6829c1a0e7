"""roles/refresh (fork) destroys staging's previous DATABASE by the add-on id it remembered before the
switch: a rerun after a failed destroy destroys it and never the fork, and a rerun that cannot know
it destroys nothing and says how to go on. The sandbox's own state is the oracle."""

from __future__ import annotations

import re
from typing import Any

from harness import Ansible, PlaybookRun, sandbox_state
from herokupg_sandbox.threaded import seed_app, seed_database

PLAYBOOK = """\
---
- name: Refresh stage from prod by fork
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Refresh
      ansible.builtin.include_role:
        name: herokuops.postgres.refresh
      vars:
        refresh_app: stage
        refresh_confirm: stage
        refresh_source_app: prod
        refresh_method: fork
        refresh_fork_fast: true
        refresh_poll_interval: 0.2
"""


def seed(ansible: Ansible) -> dict[str, Any]:
    seed_app(ansible.sandbox, "prod")
    seed_database(ansible.sandbox, "prod")
    seed_app(ansible.sandbox, "stage")
    previous = seed_database(ansible.sandbox, "stage")
    (ansible.workdir / "refresh.yml").write_text(PLAYBOOK)
    return previous


def run(ansible: Ansible, **extra: Any) -> PlaybookRun:
    return ansible.playbook(ansible.workdir / "refresh.yml", extra_vars=extra)


def stage(ansible: Ansible) -> dict[str, list[str]]:
    """stage's live add-on ids with their attachment names."""
    state = sandbox_state(ansible.sandbox)
    app_id = next(a["id"] for a in state["apps"].values() if a["name"] == "stage")
    live = {a["id"] for a in state["addons"].values()
            if a["app_id"] == app_id and a["state"] not in ("deprovisioning", "deprovisioned")}
    names: dict[str, list[str]] = {addon: [] for addon in live}
    for att in state["attachments"].values():
        if att["addon_id"] in live:
            names[att["addon_id"]].append(att["name"])
    return {addon: sorted(n) for addon, n in names.items()}


def fatal(output: str) -> str:
    return " ".join(" ".join(line for line in output.splitlines() if line.startswith("fatal:")).split())


def test_a_rerun_after_a_failed_destroy_destroys_the_previous_database(ansible: Ansible) -> None:
    previous = seed(ansible)
    (ansible.workdir / "ansible.cfg").write_text(
        f"[defaults]\nfact_caching = jsonfile\nfact_caching_connection = {ansible.workdir / 'facts'}\n"
    )
    ansible.sandbox.admin("POST", "faults", json={
        "kind": "error", "method": "DELETE", "path": "^/apps/stage/addons/", "status": 503, "error_id": "unavailable",
        "message": "Service unavailable.", "remaining": 20,
    })
    first = run(ansible, refresh_destroy_previous=True)
    assert first.returncode != 0 and "Service unavailable." in fatal(first.output)
    switched = stage(ansible)
    fork = next(addon for addon, names in switched.items() if "DATABASE" in names)
    assert fork != previous["id"] and previous["id"] in switched
    ansible.sandbox.admin("DELETE", "faults")

    second = run(ansible, refresh_destroy_previous=True)
    second.assert_ok()
    assert f"Destroy the previous DATABASE {previous['id']}" in second.output, second.output[-3000:]
    assert stage(ansible) == {fork: ["DATABASE", "REFRESH"]}
    third = run(ansible, refresh_destroy_previous=True)
    third.assert_ok()
    assert re.search(r"localhost\s+:.*changed=0 .*failed=0", third.output), third.output[-3000:]


def test_a_rerun_that_does_not_know_the_previous_database_destroys_nothing(ansible: Ansible) -> None:
    previous = seed(ansible)
    run(ansible).assert_ok()
    switched = stage(ansible)
    fork = next(addon for addon, names in switched.items() if "DATABASE" in names)

    unknown = run(ansible, refresh_destroy_previous=True)
    assert unknown.returncode != 0
    assert "does not know which add-on was the DATABASE before it: nothing was destroyed" in fatal(unknown.output)
    assert stage(ansible) == switched
    refused = run(ansible, refresh_destroy_previous=True, refresh_previous_database=fork)
    assert refused.returncode != 0
    assert "is attached to stage as DATABASE: refusing to destroy it" in fatal(refused.output)
    assert stage(ansible) == switched

    named = run(ansible, refresh_destroy_previous=True, refresh_previous_database=previous["name"])
    named.assert_ok()
    assert stage(ansible) == {fork: ["DATABASE", "REFRESH"]}
