# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""heroku_pg_restore: options reach the core; a missing confirmation fails without a write."""

from __future__ import annotations

import pytest

from ansible_collections.herokuops.postgres.plugins.modules import heroku_pg_restore
from herokupg.errors import TransferFailedError
from herokupg.ops.base import Result


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def restore_backup(ctx, app, database=None, backup=None, confirm=None, once=False, extensions=None):
        seen.append(dict(app=app, database=database, backup=backup, confirm=confirm, once=once,
                         extensions=extensions, check_mode=ctx.check_mode, wait=ctx.wait.enabled))
        if backup == "b666":
            raise TransferFailedError("Restore r002 did not finish successfully", transfer="r002",
                                      logs=["pg_restore: error: boom"])
        return Result(changed=True, data={"restore": {"name": "r002"}, "source": "myapp::b001"})

    monkeypatch.setattr(heroku_pg_restore, "restore_backup", restore_backup, raising=False)
    return seen


def test_defaults(run_module, calls):
    out = run_module(heroku_pg_restore.main, {"app": "myapp", "confirm": "myapp"})
    assert calls == [dict(app="myapp", database="DATABASE_URL", backup="latest", confirm="myapp", once=False,
                          extensions=None, check_mode=False, wait=True)]
    assert out["changed"] is True and out["restore"] == {"name": "r002"}


def test_options(run_module, calls):
    run_module(
        heroku_pg_restore.main,
        {"app": "myapp", "confirm": "myapp", "backup": "other::b005", "once": True, "extensions": ["hstore"],
         "database": "PINK", "wait": False},
        check_mode=True,
    )
    assert calls[0]["backup"] == "other::b005" and calls[0]["once"] is True and calls[0]["check_mode"] is True
    assert calls[0]["extensions"] == ["hstore"] and calls[0]["database"] == "PINK" and calls[0]["wait"] is False


def test_missing_confirmation_fails_in_the_core_with_the_app_named(run_module):
    # The real core: it refuses before any request, so no API key or server is needed.
    out = run_module(heroku_pg_restore.main, {"app": "myapp", "api_key": "k" * 20})
    assert out.failed and "confirm: myapp" in out["msg"] and out["error_id"] == "confirmation_required"


def test_failed_restore_returns_its_logs(run_module, calls):
    out = run_module(heroku_pg_restore.main, {"app": "myapp", "confirm": "myapp", "backup": "b666"})
    assert out.failed and out["transfer"] == "r002" and out["logs"] == ["pg_restore: error: boom"]


@pytest.mark.parametrize("args", [{"once": "sometimes"}, {"extensions": {"a": 1}}, {"poll_interval": "fast"}])
def test_bad_arguments(run_module, calls, args):
    out = run_module(heroku_pg_restore.main, {"app": "myapp", "confirm": "myapp", **args})
    assert out.failed and calls == []
