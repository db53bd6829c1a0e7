"""heroku_pg_info ad hoc against the sandbox (the scenario is the ansible-test target
targets/heroku_pg_info: make ansible-integration)."""

from __future__ import annotations

from harness import Ansible
from herokupg_sandbox.threaded import seed_app, seed_database


def test_info_ad_hoc(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "adhoc")
    seed_database(ansible.sandbox, "adhoc")
    run = ansible.module("heroku_pg_info", "app=adhoc")
    run.assert_ok()
    assert '"config_var": "DATABASE_URL"' in run.output
    assert ansible.sandbox.token not in run.output


def test_info_unknown_app(ansible: Ansible) -> None:
    run = ansible.module("heroku_pg_info", "app=ghost")
    assert run.returncode != 0
    assert "Couldn't find that app" in run.output
    assert "ghost" in run.output
