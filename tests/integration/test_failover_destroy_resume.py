"""roles/failover destroys the old primary by the add-on id it remembered before the switch: a rerun
after a failure between the switch and the destroy destroys the right add-on (never the new
primary), a rerun that cannot know it destroys nothing and says how to go on, and the role works
with `heroku login` credentials only (~/.netrc). The sandbox's own state is the oracle."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from harness import Ansible, PlaybookRun, sandbox_state
from herokupg_sandbox.threaded import seed_app, seed_database

PLAYBOOK = """\
---
- name: Fail over web to REPLICA
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Fail over
      ansible.builtin.include_role:
        name: herokuops.postgres.failover
      vars:
        failover_app: web
        failover_follower: REPLICA
        failover_confirm: web
        failover_poll_interval: 0.2
"""


@dataclass
class Web:
    primary: dict[str, Any]
    follower: dict[str, Any]


def seed(ansible: Ansible) -> Web:
    seed_app(ansible.sandbox, "web")
    primary = seed_database(ansible.sandbox, "web")
    follower = seed_database(ansible.sandbox, "web", attachment="REPLICA", config={"follow": "DATABASE_URL"})
    (ansible.workdir / "failover.yml").write_text(PLAYBOOK)
    return Web(primary, follower)


def run(ansible: Ansible, *args: str, **extra: Any) -> PlaybookRun:
    return ansible.playbook(ansible.workdir / "failover.yml", *args, extra_vars=extra)


def addons(ansible: Ansible) -> dict[str, dict[str, Any]]:
    """web's live add-ons by id, with their attachment names."""
    state = sandbox_state(ansible.sandbox)
    names: dict[str, list[str]] = {}
    for att in state["attachments"].values():
        names.setdefault(att["addon_id"], []).append(att["name"])
    live = [a for a in state["addons"].values() if a["state"] not in ("deprovisioning", "deprovisioned")]
    return {a["id"]: {**a, "attached_as": sorted(names.get(a["id"], []))} for a in live}


def fatal(output: str) -> str:
    return " ".join(" ".join(line for line in output.splitlines() if line.startswith("fatal:")).split())


def persistent_fact_cache(ansible: Ansible) -> None:
    """ansible-playbook runs in the workdir: its ansible.cfg keeps facts between runs, as a user's would."""
    (ansible.workdir / "ansible.cfg").write_text(
        f"[defaults]\nfact_caching = jsonfile\nfact_caching_connection = {ansible.workdir / 'facts'}\n"
    )


def test_a_rerun_after_a_failed_destroy_destroys_the_remembered_old_primary(ansible: Ansible) -> None:
    web = seed(ansible)
    persistent_fact_cache(ansible)
    ansible.sandbox.admin("POST", "faults", json={
        "kind": "error", "method": "DELETE", "path": "^/apps/web/addons/", "status": 503, "error_id": "unavailable",
        "message": "Service unavailable.", "remaining": 20,
    })
    first = run(ansible, failover_destroy_old_primary=True)
    assert first.returncode != 0
    shown = fatal(first.output)
    assert "Service unavailable." in shown and "[Error ID: unavailable; Request-Id: " in shown
    assert ansible.sandbox.token not in first.output
    live = addons(ansible)
    assert live[web.follower["id"]]["attached_as"] == ["DATABASE", "REPLICA"]  # switched...
    assert web.primary["id"] in live and "DATABASE" not in live[web.primary["id"]]["attached_as"]  # ...not destroyed
    ansible.sandbox.admin("DELETE", "faults")

    second = run(ansible, failover_destroy_old_primary=True)
    second.assert_ok()
    # The rerun names (and destroys) the old primary, not the new one.
    assert f"Destroy the old primary {web.primary['id']}" in second.output, second.output[-3000:]
    assert web.follower["name"] not in re.findall(r"TASK \[[^]]*Destroy the old primary ([^]]*)\]", second.output)[0]
    live = addons(ansible)
    assert list(live) == [web.follower["id"]] and live[web.follower["id"]]["attached_as"] == ["DATABASE", "REPLICA"]

    third = run(ansible, failover_destroy_old_primary=True)
    third.assert_ok()
    assert re.search(r"localhost\s+:.*changed=0 .*failed=0", third.output), third.output[-3000:]
    assert list(addons(ansible)) == [web.follower["id"]]


def test_a_rerun_that_does_not_know_the_old_primary_destroys_nothing(ansible: Ansible) -> None:
    web = seed(ansible)
    run(ansible).assert_ok()  # switched, old primary kept
    switched = addons(ansible)
    assert switched[web.follower["id"]]["attached_as"] == ["DATABASE", "REPLICA"] and web.primary["id"] in switched

    unknown = run(ansible, failover_destroy_old_primary=True)  # a new run, no fact cache: nothing remembered
    assert unknown.returncode != 0
    assert "does not know which add-on was the primary before it: nothing was destroyed" in fatal(unknown.output)
    assert "failover_old_primary" in fatal(unknown.output)
    assert addons(ansible) == switched

    # Named by hand, but the new primary: refused at the delete, by add-on name and by id.
    for wrong in (web.follower["name"], web.follower["id"]):
        refused = run(ansible, failover_destroy_old_primary=True, failover_old_primary=wrong)
        assert refused.returncode != 0
        refusal = f"{web.follower['name']} is attached to web as DATABASE: refusing to destroy it"
        assert refusal in fatal(refused.output)
        assert addons(ansible) == switched

    checked = run(ansible, "--check", failover_destroy_old_primary=True, failover_old_primary=web.primary["name"])
    checked.assert_ok()
    assert re.search(r"localhost\s+:.*changed=1 ", checked.output) and addons(ansible) == switched

    named = run(ansible, failover_destroy_old_primary=True, failover_old_primary=web.primary["name"])
    named.assert_ok()
    assert list(addons(ansible)) == [web.follower["id"]]


class NetrcOnly(Ansible):
    """ansible-playbook with `heroku login` credentials only: the key in ~/.netrc, none in the environment."""

    def env(self) -> dict[str, str]:
        env = super().env()
        env.pop("HEROKU_API_KEY")
        netrc = f"machine api.heroku.com\n  login me@example.com\n  password {self.sandbox.token}\n"
        (self.workdir / ".netrc").write_text(netrc)
        (self.workdir / ".netrc").chmod(0o600)
        return env


def test_maintenance_and_destroy_with_heroku_login_credentials(ansible: Ansible) -> None:
    web = seed(ansible)
    netrc = NetrcOnly(ansible.sandbox, ansible.workdir)
    assert "HEROKU_API_KEY" not in netrc.env() and netrc.env()["HOME"] == str(ansible.workdir)
    checked = run(netrc, "--check", failover_maintenance=True, failover_destroy_old_primary=True)
    checked.assert_ok()
    assert "would be destroyed" in checked.output and len(addons(ansible)) == 2
    done = run(netrc, failover_maintenance=True, failover_destroy_old_primary=True)
    done.assert_ok()
    for task in ("Turn maintenance mode on", "Turn maintenance mode off"):
        assert "changed: [localhost]" in done.output.split(f"{task}]")[1].split("TASK")[0], done.output[-4000:]
    state = sandbox_state(ansible.sandbox)
    assert [a["maintenance"] for a in state["apps"].values()] == [False]
    assert list(addons(ansible)) == [web.follower["id"]]
    assert ansible.sandbox.token not in done.output
