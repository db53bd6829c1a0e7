"""heroku_pg_settings ad hoc against the sandbox; verified by its state (the scenario is the ansible-test
target targets/heroku_pg_settings: make ansible-integration)."""

from __future__ import annotations

from typing import Any

from harness import Ansible, sandbox_state
from herokupg_sandbox.threaded import seed_app, seed_database


def _overrides(ansible: Ansible, addon_id: str) -> dict[str, Any]:
    """The settings the sandbox itself records as changed on a database."""
    settings: dict[str, Any] = sandbox_state(ansible.sandbox)["addons"][addon_id]["db"]["settings"]
    return settings


def test_settings_ad_hoc_check_and_diff(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "adhocset")
    primary = seed_database(ansible.sandbox, "adhocset")
    args = '{"app": "adhocset", "settings": {"log_connections": "off"}}'
    checked = ansible.module("heroku_pg_settings", args, "--check", "--diff")
    checked.assert_ok()
    assert "CHANGED" in checked.output
    assert "-    \"log_connections\": true" in checked.output
    assert "+    \"log_connections\": false" in checked.output
    assert _overrides(ansible, primary["id"]) == {}

    real = ansible.module("heroku_pg_settings", args)
    real.assert_ok()
    assert "CHANGED" in real.output
    assert _overrides(ansible, primary["id"]) == {"log_connections": False}

    again = ansible.module("heroku_pg_settings", args)
    again.assert_ok()
    assert "SUCCESS" in again.output and "CHANGED" not in again.output
    assert ansible.sandbox.token not in real.output + again.output


def test_settings_requires_settings(ansible: Ansible) -> None:
    run = ansible.module("heroku_pg_settings", "app=whatever")
    assert run.returncode != 0
    assert "missing required arguments: settings" in run.output
