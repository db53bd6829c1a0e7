# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""heroku_pg_backup: argument handling, and options reaching the core as documented."""

from __future__ import annotations

import pytest

from ansible_collections.herokuops.postgres.plugins.modules import heroku_pg_backup
from herokupg.ops.base import PlannedRequest, Result


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def capture_backup(ctx, request):
        seen.append(("capture", request, ctx.check_mode, ctx.wait))
        url = "http://127.0.0.1:1/x?signature=abc" if request.reveal else "********"
        return Result(
            changed=True,
            data={"backup": {"name": "b001"}, "url": url if request.url else None},
            before={"backups": []},
            after={"backups": ["b001"]},
            requests=[PlannedRequest("POST", "/client/v11/databases/x/backups", None, "capture")],
        )

    def delete_backup(ctx, app, backup_id, confirm):
        seen.append(("delete", app, backup_id, confirm))
        return Result(changed=False, data={"backup": None})

    monkeypatch.setattr(heroku_pg_backup, "capture_backup", capture_backup, raising=False)
    monkeypatch.setattr(heroku_pg_backup, "delete_backup", delete_backup, raising=False)
    return seen


def test_defaults(run_module, calls):
    out = run_module(heroku_pg_backup.main, {"app": "myapp"})
    assert not out.failed and out["changed"] is True
    [(kind, request, check_mode, wait)] = calls
    assert kind == "capture" and not check_mode
    assert (request.app, request.database, request.backup_id, request.max_age) == ("myapp", "DATABASE_URL", None, None)
    assert (request.url, request.reveal, request.dest, request.force_download) == (False, False, None, False)
    assert (wait.enabled, wait.timeout, wait.poll_interval) == (True, 1800, 5)
    assert out["requests"][0]["method"] == "POST"
    assert "diff" not in out.result


def test_check_diff_and_options(run_module, calls, tmp_path):
    out = run_module(
        heroku_pg_backup.main,
        {"app": "myapp", "database": "REPORTING", "max_age": "24h", "url": True, "dest": str(tmp_path),
         "wait": False, "wait_timeout": 60, "poll_interval": 1},
        check_mode=True,
        diff=True,
    )
    [(kind, request, check_mode, wait)] = calls
    assert kind == "capture" and check_mode and request.max_age == "24h" and request.database == "REPORTING" and request.dest == str(tmp_path)
    assert (wait.enabled, wait.timeout, wait.poll_interval) == (False, 60, 1)
    assert out["diff"] == {"before": {"backups": []}, "after": {"backups": ["b001"]}}
    assert out["url"] == "********"


def test_revealed_url_is_returned(run_module, calls):
    out = run_module(heroku_pg_backup.main, {"app": "myapp", "url": True, "return_secrets": True})
    assert calls[0][1].reveal is True
    assert out["url"] == "http://127.0.0.1:1/x?signature=abc"


def test_absent_routes_to_delete(run_module, calls):
    out = run_module(heroku_pg_backup.main, {"app": "myapp", "state": "absent", "id": "b003", "confirm": "myapp"})
    assert calls == [("delete", "myapp", "b003", "myapp")]
    assert out["changed"] is False


@pytest.mark.parametrize(
    "args, message",
    [
        ({"state": "absent", "id": "b001"}, "state is absent but all of the following are missing: confirm"),
        ({"state": "absent", "confirm": "myapp"}, "missing: id"),
        ({"id": "b001", "max_age": "1h"}, "mutually exclusive"),
        ({"state": "gone"}, "value of state must be one of"),
        ({"state": "absent", "id": "b001", "confirm": "myapp", "url": True}, "state=present only"),
        ({"wait_timeout": "soon"}, "wait_timeout"),
    ],
)
def test_bad_arguments_fail_before_the_core(run_module, calls, args, message):
    out = run_module(heroku_pg_backup.main, {"app": "myapp", **args})
    assert out.failed and message in out["msg"]
    assert calls == []


def test_negative_wait_timeout_fails_clearly(run_module, calls):
    out = run_module(heroku_pg_backup.main, {"app": "myapp", "wait_timeout": -1})
    assert out.failed and "wait_timeout" in out["msg"] and "myapp" in out["msg"]
    assert calls == []
