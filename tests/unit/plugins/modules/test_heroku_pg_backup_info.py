# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""heroku_pg_backup_info: filters reach the core as documented; choices are enforced."""

from __future__ import annotations

import pytest

from ansible_collections.herokuops.postgres.plugins.modules import heroku_pg_backup_info
from herokupg.ops.base import Result


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def backup_info(ctx, app, database=None, kind="all", succeeded=None, latest=False):
        seen.append(dict(app=app, database=database, kind=kind, succeeded=succeeded, latest=latest,
                         check_mode=ctx.check_mode))
        return Result(changed=False, data={"app": app, "transfers": [{"name": "b001"}]})

    monkeypatch.setattr(heroku_pg_backup_info, "backup_info", backup_info, raising=False)
    return seen


def test_defaults(run_module, calls):
    out = run_module(heroku_pg_backup_info.main, {"app": "myapp"})
    assert calls == [dict(app="myapp", database=None, kind="all", succeeded=None, latest=False, check_mode=False)]
    assert out["changed"] is False and out["transfers"] == [{"name": "b001"}] and out["requests"] == []


def test_filters_in_check_mode(run_module, calls):
    run_module(
        heroku_pg_backup_info.main,
        {"app": "myapp", "database": "DATABASE", "kind": "backup", "succeeded": True, "latest": True},
        check_mode=True,
    )
    assert calls == [dict(app="myapp", database="DATABASE", kind="backup", succeeded=True, latest=True, check_mode=True)]


@pytest.mark.parametrize("args", [{"kind": "dump"}, {"latest": "maybe"}, {"succeeded": "often"}, {}])
def test_bad_arguments(run_module, calls, args):
    full = {"app": "myapp", **args} if args else {}
    out = run_module(heroku_pg_backup_info.main, full)
    assert out.failed and calls == []
