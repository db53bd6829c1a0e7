# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""heroku_pg_fork: argument handling, and the options reaching ensure_fork as documented."""

from __future__ import annotations

import pytest

from ansible_collections.herokuops.postgres.plugins.modules import heroku_pg_fork
from herokupg.errors import ConflictError
from herokupg.ops.base import Result


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def ensure_fork(ctx, app, **kwargs):
        seen.append(dict(kwargs, app=app, check_mode=ctx.check_mode))
        if kwargs.get("to") == "1999-01-01":
            raise ConflictError("outside the rollback window", status=422, error_id="addon_error", request_id="rid-1")
        return Result(changed=False, data={"fork": {"addon": "postgresql-x"}, "source": "DATABASE"},
                      before={"present": True}, after={"present": True})

    monkeypatch.setattr(heroku_pg_fork, "ensure_fork", ensure_fork)
    return seen


def test_defaults(run_module, calls):
    out = run_module(heroku_pg_fork.main, {"app": "myapp", "name": "COPY"})
    assert not out.failed and out["changed"] is False
    assert calls[0] == {"app": "myapp", "name": "COPY", "source": "DATABASE_URL", "state": "present",
                        "fast": False, "to": None, "by": None, "plan": None, "confirm": None, "check_mode": False}
    assert out["fork"] == {"addon": "postgresql-x"} and out["requests"] == []


def test_confirm_reaches_the_core(run_module, calls):
    run_module(heroku_pg_fork.main, {"app": "myapp", "name": "COPY", "confirm": "myapp"})
    assert calls[0]["confirm"] == "myapp"


def test_rollback_options_and_check_mode(run_module, calls):
    out = run_module(heroku_pg_fork.main, {"app": "myapp", "name": "OLD", "by": "2 hours", "source": "PINK"},
                     check_mode=True, diff=True)
    assert calls[0]["by"] == "2 hours" and calls[0]["source"] == "PINK" and calls[0]["check_mode"] is True
    assert out["diff"] == {"before": {"present": True}, "after": {"present": True}}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"app": "myapp"}, "missing required arguments: name"),
        ({"name": "COPY"}, "missing required arguments: app"),
        ({"app": "myapp", "name": "C", "to": "2026-01-01", "by": "1 hour"}, "mutually exclusive: to|by"),
        ({"app": "myapp", "name": "C", "fast": True, "to": "2026-01-01"}, "mutually exclusive: fast|to"),
        ({"app": "myapp", "name": "C", "fast": True, "by": "1 hour"}, "mutually exclusive: fast|by"),
        ({"app": "myapp", "name": "C", "state": "deleted"}, "value of state must be one of: present, absent"),
        ({"app": "myapp", "name": "C", "poll_interval": 0}, "poll_interval must be more than 0"),
    ],
)
def test_bad_arguments_fail_before_the_core(run_module, calls, args, message):
    out = run_module(heroku_pg_fork.main, args)
    assert out.failed and message in out["msg"]
    assert calls == []


def test_api_error_names_app_database_and_ids(run_module, calls):
    out = run_module(heroku_pg_fork.main, {"app": "myapp", "name": "OLD", "to": "1999-01-01"})
    assert out.failed
    assert "app myapp, database OLD" in out["msg"] and "Error ID: addon_error" in out["msg"]
    assert out["request_id"] == "rid-1" and out["error_id"] == "addon_error"
