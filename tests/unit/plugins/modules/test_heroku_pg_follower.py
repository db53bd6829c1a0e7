# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""heroku_pg_follower: argument handling, and the options reaching ensure_follower as documented."""

from __future__ import annotations

import pytest

from ansible_collections.herokuops.postgres.plugins.modules import heroku_pg_follower
from herokupg.errors import OperationTimeoutError
from herokupg.ops.base import PlannedRequest, Result


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def ensure_follower(ctx, app, **kwargs):
        seen.append(dict(kwargs, app=app, check_mode=ctx.check_mode, wait=ctx.wait))
        if kwargs.get("name") == "SLOW":
            raise OperationTimeoutError("Timed out", resource="postgresql-x on myapp", last_status="provisioning")
        return Result(
            changed=True,
            data={"leader": "DATABASE", "followers": [], "follower": None, "lag": None},
            before={"leader": "DATABASE", "followers": []},
            after={"leader": "DATABASE", "followers": ["REPLICA"]},
            requests=[PlannedRequest("POST", "/apps/myapp/addons", {"config": {"follow": "DATABASE_URL"}}, "create")],
        )

    monkeypatch.setattr(heroku_pg_follower, "ensure_follower", ensure_follower)
    return seen


def test_defaults(run_module, calls):
    out = run_module(heroku_pg_follower.main, {"app": "myapp", "name": "REPLICA"})
    assert not out.failed and out["changed"] is True
    call = calls[0]
    assert (call["name"], call["count"], call["leader"], call["state"], call["plan"], call["max_lag"]) == (
        "REPLICA", None, "DATABASE_URL", "present", None, 0
    )
    assert call["confirm"] is None
    assert call["wait"].enabled is True and call["wait"].timeout == 1800 and call["wait"].poll_interval == 5
    assert out["requests"][0]["method"] == "POST"
    assert "diff" not in out.result


def test_confirm_reaches_the_core(run_module, calls):
    run_module(heroku_pg_follower.main, {"app": "myapp", "name": "REPLICA", "confirm": "myapp"})
    assert calls[0]["confirm"] == "myapp"


def test_check_and_diff_mode(run_module, calls):
    out = run_module(
        heroku_pg_follower.main,
        {"app": "myapp", "count": 2, "plan": "standard-2", "wait": False, "max_lag": 3},
        check_mode=True,
        diff=True,
    )
    assert calls[0]["check_mode"] is True and calls[0]["count"] == 2 and calls[0]["wait"].enabled is False
    assert calls[0]["max_lag"] == 3 and calls[0]["plan"] == "standard-2"
    assert out["diff"] == {"before": {"leader": "DATABASE", "followers": []},
                           "after": {"leader": "DATABASE", "followers": ["REPLICA"]}}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "REPLICA"}, "missing required arguments: app"),
        ({"app": "myapp"}, "one of the following is required: name, count"),
        ({"app": "myapp", "name": "A", "count": 1}, "mutually exclusive: name|count"),
        ({"app": "myapp", "count": 1, "state": "absent"}, "state is absent but all of the following are missing: name"),
        ({"app": "myapp", "name": "A", "state": "gone"}, "value of state must be one of: present, absent"),
        ({"app": "myapp", "name": "A", "count": "many"}, "count"),
        ({"app": "myapp", "name": "A", "wait_timeout": -1}, "wait_timeout must be 0 or more"),
        ({"app": "myapp", "name": "A", "bogus": 1}, "Unsupported parameters"),
    ],
)
def test_bad_arguments_fail_before_the_core(run_module, calls, args, message):
    out = run_module(heroku_pg_follower.main, args)
    assert out.failed and message in out["msg"]
    assert calls == []


def test_timeout_reports_resource_and_last_status(run_module, calls):
    out = run_module(heroku_pg_follower.main, {"app": "myapp", "name": "SLOW", "wait_timeout": 5})
    assert out.failed
    assert out["resource"] == "postgresql-x on myapp" and out["last_status"] == "provisioning"
    assert "app myapp, database SLOW" in out["msg"]
    assert calls[0]["wait"].timeout == 5
