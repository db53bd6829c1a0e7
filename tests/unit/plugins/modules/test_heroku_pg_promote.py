# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""heroku_pg_promote: argument handling, and the options reaching promote as documented."""

from __future__ import annotations

import pytest

from ansible_collections.herokuops.postgres.plugins.modules import heroku_pg_promote
from herokupg.ops.base import Result, require_confirmation


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def promote(ctx, app, database, **kwargs):
        require_confirmation(app, kwargs["confirm"], "Promoting")  # the real rule, before any request
        seen.append(dict(kwargs, app=app, database=database, check_mode=ctx.check_mode))
        result = Result(changed=True, data={"database": None, "previous": None},
                        before={"database": "a", "following": True}, after={"database": "b", "following": False})
        result.warnings.append("still a follower")
        return result

    monkeypatch.setattr(heroku_pg_promote, "promote", promote)
    return seen


def test_defaults_and_warnings(run_module, calls):
    out = run_module(heroku_pg_promote.main, {"app": "myapp", "database": "REPLICA", "confirm": "myapp"})
    assert not out.failed and out["changed"] is True
    assert calls[0] == {"app": "myapp", "database": "REPLICA", "confirm": "myapp", "unfollow": True,
                        "max_lag": 0, "allow_non_follower": False, "fence": False, "check_mode": False}
    assert out.warnings == ["still a follower"]


def test_options_check_and_diff(run_module, calls):
    out = run_module(heroku_pg_promote.main, {"app": "myapp", "database": "PINK", "confirm": "myapp",
                                              "unfollow": False, "max_lag": 4}, check_mode=True, diff=True)
    assert calls[0]["unfollow"] is False and calls[0]["max_lag"] == 4 and calls[0]["check_mode"] is True
    assert calls[0]["allow_non_follower"] is False and calls[0]["fence"] is False
    assert out["diff"]["after"] == {"database": "b", "following": False}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"app": "myapp", "confirm": "myapp"}, "missing required arguments: database"),
        ({"database": "REPLICA", "confirm": "myapp"}, "missing required arguments: app"),
        ({"app": "myapp", "database": "R", "confirm": "myapp", "unfollow": "maybe"}, "unfollow"),
        ({"app": "myapp", "database": "R", "confirm": "myapp", "wait_timeout": -3}, "wait_timeout must be 0 or more"),
    ],
)
def test_bad_arguments_fail_before_the_core(run_module, calls, args, message):
    out = run_module(heroku_pg_promote.main, args)
    assert out.failed and message in out["msg"]
    assert calls == []


@pytest.mark.parametrize(("confirm", "message"), [(None, "set confirm: myapp"), ("other", "did not match")])
def test_confirm_is_required(run_module, calls, confirm, message):
    args = {"app": "myapp", "database": "REPLICA"}
    if confirm:
        args["confirm"] = confirm
    out = run_module(heroku_pg_promote.main, args)
    assert out.failed and message in out["msg"] and "app myapp, database REPLICA" in out["msg"]
    assert calls == []


def test_fence_without_psycopg_names_the_extra(run_module, calls, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "psycopg", None)  # "import psycopg" raises ImportError
    out = run_module(heroku_pg_promote.main, {"app": "myapp", "database": "REPLICA", "confirm": "myapp",
                                              "fence": True})
    assert out.failed and "psycopg" in out["msg"] and "herokupg[postgres]" in out["msg"]
    assert "for write fencing (fence: true)" in out["msg"] and calls == []
    assert calls == []


def test_allow_non_follower_reaches_promote(run_module, calls):
    run_module(heroku_pg_promote.main, {"app": "myapp", "database": "STAGING", "confirm": "myapp",
                                        "allow_non_follower": True})
    assert calls[0]["allow_non_follower"] is True


def test_fence_reaches_promote(run_module, calls):
    run_module(heroku_pg_promote.main, {"app": "myapp", "database": "REPLICA", "confirm": "myapp", "fence": True})
    assert calls[0]["fence"] is True
