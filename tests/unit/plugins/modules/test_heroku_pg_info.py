# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""heroku_pg_info: its options reach database_info, and it never reports a change."""

from __future__ import annotations

import pytest

from ansible_collections.herokuops.postgres.plugins.modules import heroku_pg_info
from herokupg.errors import NotFoundError
from herokupg.ops.base import Result


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def database_info(ctx, app, database=None, reveal=False):
        seen.append({"app": app, "database": database, "check_mode": ctx.check_mode, "reveal": reveal})
        if database == "NOPE":
            raise NotFoundError("Unknown database: NOPE. Valid options are: DATABASE", status=404, error_id="not_found")
        return Result(changed=False, data={"databases": [{"addon": "postgresql-x", "config_var": "DATABASE_URL"}]})

    monkeypatch.setattr(heroku_pg_info, "database_info", database_info)
    return seen


def test_all_databases_by_default(run_module, calls):
    out = run_module(heroku_pg_info.main, {"app": "myapp"})
    assert not out.failed
    assert calls == [{"app": "myapp", "database": None, "check_mode": False, "reveal": False}]
    assert out.result == {
        "changed": False,
        "databases": [{"addon": "postgresql-x", "config_var": "DATABASE_URL"}],
        "requests": [],
    }


def test_one_database_in_check_mode(run_module, calls):
    out = run_module(heroku_pg_info.main, {"app": "myapp", "database": "REPLICA"}, check_mode=True, diff=True)
    assert calls == [{"app": "myapp", "database": "REPLICA", "check_mode": True, "reveal": False}]
    assert out["changed"] is False
    assert "diff" not in out.result


def test_return_secrets_reaches_the_core(run_module, calls):
    run_module(heroku_pg_info.main, {"app": "myapp", "return_secrets": True})
    assert calls[0]["reveal"] is True
    out = run_module(heroku_pg_info.main, {"app": "myapp", "return_secrets": "maybe"})
    assert out.failed and "return_secrets" in out["msg"]


def test_unknown_database(run_module, calls):
    out = run_module(heroku_pg_info.main, {"app": "myapp", "database": "NOPE"})
    assert out.failed
    assert out["msg"].startswith("Unknown database: NOPE. Valid options are: DATABASE (app myapp, database NOPE)")
    assert out["error_id"] == "not_found" and out["status"] == 404


def test_app_is_required(run_module, calls):
    out = run_module(heroku_pg_info.main, {"database": "DATABASE"})
    assert out.failed and "app" in out["msg"]
    assert calls == []


def test_no_module_specific_options_beyond_database(run_module, calls):
    out = run_module(heroku_pg_info.main, {"app": "myapp", "settings": {}})
    assert out.failed and "settings" in out["msg"]
