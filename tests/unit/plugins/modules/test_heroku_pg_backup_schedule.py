# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""heroku_pg_backup_schedule: required_if and choices; options and diff reach the core and back."""

from __future__ import annotations

import pytest

from ansible_collections.herokuops.postgres.plugins.modules import heroku_pg_backup_schedule
from herokupg.errors import ValidationError
from herokupg.ops.base import Result


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def ensure_schedule(ctx, app, database=None, state="present", at=None):
        seen.append(dict(app=app, database=database, state=state, at=at, check_mode=ctx.check_mode))
        if at == "25:00":
            raise ValidationError("Invalid schedule time '25:00'")
        return Result(changed=True, data={"schedule": None}, before={"hour": 1, "timezone": "UTC"},
                      after={"hour": 2, "timezone": "UTC"})

    monkeypatch.setattr(heroku_pg_backup_schedule, "ensure_schedule", ensure_schedule, raising=False)
    return seen


def test_present(run_module, calls):
    out = run_module(heroku_pg_backup_schedule.main, {"app": "myapp", "at": "02:00 UTC"}, check_mode=True, diff=True)
    assert calls == [dict(app="myapp", database="DATABASE_URL", state="present", at="02:00 UTC", check_mode=True)]
    assert out["diff"] == {"before": {"hour": 1, "timezone": "UTC"}, "after": {"hour": 2, "timezone": "UTC"}}


def test_absent_needs_no_time(run_module, calls):
    out = run_module(heroku_pg_backup_schedule.main, {"app": "myapp", "state": "absent", "database": "PINK"})
    assert not out.failed and calls[0]["state"] == "absent" and calls[0]["database"] == "PINK"


@pytest.mark.parametrize(
    "args, message",
    [({}, "state is present but all of the following are missing: at"), ({"state": "on", "at": "1:00"}, "one of")],
)
def test_bad_arguments(run_module, calls, args, message):
    out = run_module(heroku_pg_backup_schedule.main, {"app": "myapp", **args})
    assert out.failed and message in out["msg"] and calls == []


def test_core_validation_error_names_the_app_and_database(run_module, calls):
    out = run_module(heroku_pg_backup_schedule.main, {"app": "myapp", "at": "25:00"})
    assert out.failed and "25:00" in out["msg"] and "myapp" in out["msg"] and "DATABASE_URL" in out["msg"]
