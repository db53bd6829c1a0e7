"""heroku_app_maintenance ad hoc against the sandbox (the playbook scenario is the ansible-test
target tests/integration/targets/heroku_app_maintenance); the sandbox's own record of the app is
checked after every step, and bad input fails with its reason and changes nothing."""

from __future__ import annotations

from harness import Ansible, sandbox_state
from herokupg_sandbox.threaded import seed_app


def maintenance(ansible: Ansible, app: str) -> bool:
    flag: bool = next(a for a in sandbox_state(ansible.sandbox)["apps"].values() if a["name"] == app)["maintenance"]
    return flag


def test_ad_hoc_and_bad_input(ansible: Ansible) -> None:
    seed_app(ansible.sandbox, "adhoc")
    checked = ansible.module("heroku_app_maintenance", "app=adhoc enabled=true", "--check", "--diff")
    assert checked.returncode == 0 and '"changed": true' in checked.output and not maintenance(ansible, "adhoc")
    real = ansible.module("heroku_app_maintenance", "app=adhoc enabled=yes")
    assert real.returncode == 0 and maintenance(ansible, "adhoc")
    missing = ansible.module("heroku_app_maintenance", "app=nosuchapp enabled=true")
    assert missing.returncode != 0
    assert "(app nosuchapp) [Error ID: not_found; Request-Id: " in missing.output, missing.output[-3000:]
    assert ansible.sandbox.token not in missing.output
    bad = {
        "app=adhoc": "missing required arguments: enabled",
        "app=adhoc enabled=sometimes": "enabled",
        "app=adhoc enabled=false api_key=hrku-wrong-key-0000": "[Error ID: unauthorized",
    }
    for args, says in bad.items():
        failed = ansible.module("heroku_app_maintenance", args)
        assert failed.returncode != 0 and says in failed.output, (args, failed.output[-2000:])
        assert "Traceback" not in failed.output and "hrku-wrong-key-0000" not in failed.output
    assert maintenance(ansible, "adhoc")  # still on: nothing was changed
