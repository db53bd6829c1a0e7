# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""heroku_pg_database: argument handling, and the options reaching ensure_database as documented."""

from __future__ import annotations

import pytest

from ansible_collections.herokuops.postgres.plugins.modules import heroku_pg_database
from herokupg.errors import ConfirmationRequiredError
from herokupg.ops.base import Result


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def ensure_database(ctx, app, **kwargs):
        seen.append(dict(kwargs, app=app, check_mode=ctx.check_mode, wait=ctx.wait))
        if kwargs["state"] == "absent" and kwargs.get("confirm") != app:
            raise ConfirmationRequiredError("Destroying X of myapp is destructive", error_id="confirmation_required")
        return Result(changed=True, data={"database": None, "msg": "Would create"},
                      before={"present": False}, after={"present": True})

    monkeypatch.setattr(heroku_pg_database, "ensure_database", ensure_database)
    return seen


def test_defaults(run_module, calls):
    out = run_module(heroku_pg_database.main, {"app": "myapp", "plan": "standard-0"})
    assert not out.failed and out["changed"] is True and out["msg"] == "Would create"
    wait = calls[0].pop("wait")
    assert calls[0] == {"app": "myapp", "name": None, "addon": None, "plan": "standard-0", "version": None,
                        "state": "present", "confirm": None, "refuse_attached_as": [], "check_mode": False}
    assert (wait.enabled, wait.timeout, wait.poll_interval) == (True, 1800, 5)
    assert out["database"] is None and out["requests"] == []


def test_check_mode_diff_and_wait_options(run_module, calls):
    args = {"app": "myapp", "plan": "standard-0", "name": "REPORTS", "version": "16", "wait": False,
            "wait_timeout": 60, "poll_interval": 1}
    out = run_module(heroku_pg_database.main, args, check_mode=True, diff=True)
    assert calls[0]["check_mode"] is True and calls[0]["name"] == "REPORTS" and calls[0]["version"] == "16"
    assert calls[0]["wait"].enabled is False and calls[0]["wait"].timeout == 60
    assert out["diff"] == {"before": {"present": False}, "after": {"present": True}}


def test_absent_by_addon_with_confirm(run_module, calls):
    args = {"app": "myapp", "addon": "postgresql-x", "state": "absent", "confirm": "myapp"}
    out = run_module(heroku_pg_database.main, args)
    assert not out.failed and calls[0]["addon"] == "postgresql-x" and calls[0]["plan"] is None


def test_absent_guard_reaches_the_core(run_module, calls):
    args = {"app": "myapp", "addon": "0123", "state": "absent", "confirm": "myapp", "refuse_attached_as": "DATABASE"}
    out = run_module(heroku_pg_database.main, args)
    assert not out.failed and calls[0]["refuse_attached_as"] == ["DATABASE"]


def test_absent_without_confirm_names_the_app(run_module, calls):
    out = run_module(heroku_pg_database.main, {"app": "myapp", "name": "OLD", "state": "absent"})
    assert out.failed and out["changed"] is False
    assert "app myapp, database OLD" in out["msg"] and out["error_id"] == "confirmation_required"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"plan": "standard-0"}, "missing required arguments: app"),
        ({"app": "myapp"}, "state is present but all of the following are missing: plan"),
        ({"app": "myapp", "state": "absent", "confirm": "myapp"},
         "state is absent but any of the following are missing: name, addon"),
        ({"app": "myapp", "plan": "standard-0", "state": "deleted"}, "value of state must be one of: present, absent"),
        ({"app": "myapp", "plan": "standard-0", "poll_interval": 0}, "poll_interval must be more than 0"),
    ],
)
def test_bad_arguments_fail_before_the_core(run_module, calls, args, message):
    out = run_module(heroku_pg_database.main, args)
    assert out.failed and message in out["msg"]
    assert calls == []
