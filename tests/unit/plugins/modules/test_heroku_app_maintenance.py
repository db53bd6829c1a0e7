# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""heroku_app_maintenance: its option reaches ensure_maintenance, its result and errors come back,
and end to end on the Platform API's own example answers it reads, then PATCHes only on a change."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from ansible_collections.herokuops.postgres.plugins.module_utils import _heroku_pg as module_utils
from ansible_collections.herokuops.postgres.plugins.modules import heroku_app_maintenance
from herokupg.client import HerokuClient
from herokupg.errors import NotFoundError
from herokupg.ops.base import PlannedRequest, Result
from herokupg_sandbox.recorded import Corpus, Replay

CORPUS = Corpus(Path(__file__).resolve().parents[3] / "fixtures" / "heroku-recorded")
GET_APP = "schema-examples/03-get-app"
PATCH_APP = "schema-examples/04-patch-app-maintenance"


@pytest.fixture
def calls(monkeypatch):
    """Record each ensure_maintenance call; answer as the core does for a change, or fail for `missing`."""
    seen = []

    def ensure_maintenance(ctx, app, enabled):
        seen.append({"app": app, "enabled": enabled, "check_mode": ctx.check_mode})
        if app == "missing":
            raise NotFoundError("Couldn't find that app.", status=404, error_id="not_found", request_id="r-1")
        return Result(
            changed=True,
            data={"maintenance": enabled, "previous": not enabled, "msg": "Turned it."},
            before={"maintenance": not enabled},
            after={"maintenance": enabled},
            requests=[PlannedRequest("PATCH", "/apps/%s" % app, {"maintenance": enabled}, "Turn")],
        )

    monkeypatch.setattr(heroku_app_maintenance, "ensure_maintenance", ensure_maintenance)
    return seen


def test_options_reach_the_core_and_the_result_comes_back(run_module, calls):
    out = run_module(heroku_app_maintenance.main, {"app": "shop", "enabled": True})
    assert not out.failed
    assert calls == [{"app": "shop", "enabled": True, "check_mode": False}]
    assert (out["changed"], out["maintenance"], out["previous"], out["msg"]) == (True, True, False, "Turned it.")
    assert out["requests"] == [
        {"method": "PATCH", "path": "/apps/shop", "body": {"maintenance": True}, "description": "Turn"}
    ]


def test_check_and_diff_mode(run_module, calls):
    out = run_module(heroku_app_maintenance.main, {"app": "shop", "enabled": "no"}, check_mode=True, diff=True)
    assert calls == [{"app": "shop", "enabled": False, "check_mode": True}]
    assert out["diff"] == {"before": {"maintenance": True}, "after": {"maintenance": False}}


def test_enabled_is_required_and_boolean(run_module, calls):
    missing = run_module(heroku_app_maintenance.main, {"app": "shop"})
    assert missing.failed and "missing required arguments: enabled" in missing["msg"]
    wrong = run_module(heroku_app_maintenance.main, {"app": "shop", "enabled": "sometimes"})
    assert wrong.failed and "enabled" in wrong["msg"] and "bool" in wrong["msg"]
    assert calls == []


def test_an_api_error_shows_its_reason_id_and_request_id(run_module, calls):
    out = run_module(heroku_app_maintenance.main, {"app": "missing", "enabled": True})
    assert out.failed and out["changed"] is False
    assert out["msg"] == "Couldn't find that app. (app missing) [Error ID: not_found; Request-Id: r-1]"
    assert (out["status"], out["error_id"], out["request_id"]) == (404, "not_found", "r-1")


@pytest.fixture
def replay(monkeypatch):
    def use(*names):
        recorded = Replay([CORPUS[name] for name in names])
        client = functools.partial(HerokuClient, transport=recorded.transport(), env={})
        monkeypatch.setattr(module_utils, "HerokuClient", client)
        return recorded

    return use


def test_end_to_end_turns_it_on_with_the_body_the_cli_sends(run_module, replay):
    recorded = replay(GET_APP, PATCH_APP)
    out = run_module(heroku_app_maintenance.main, {"app": "example", "enabled": True, "api_key": "k"})
    assert not out.failed and out["changed"] is True
    assert (out["maintenance"], out["previous"]) == (True, False)
    assert [(s.method, s.path, s.body) for s in recorded.seen] == [
        ("GET", "/apps/example", None),
        ("PATCH", "/apps/example", {"maintenance": True}),
    ]
    assert recorded.left() == []


def test_end_to_end_sends_nothing_when_it_is_already_so(run_module, replay):
    recorded = replay(GET_APP)
    out = run_module(heroku_app_maintenance.main, {"app": "example", "enabled": False, "api_key": "k"})
    assert not out.failed and out["changed"] is False and out["requests"] == []
    assert out["msg"] == "Maintenance mode of example is already off: nothing to change."
    assert [s.method for s in recorded.seen] == ["GET"]


def test_end_to_end_check_mode_reads_only(run_module, replay):
    recorded = replay(GET_APP)
    args = {"app": "example", "enabled": True, "api_key": "k"}
    out = run_module(heroku_app_maintenance.main, args, check_mode=True)
    assert out["changed"] is True and out["maintenance"] is True
    assert [s.method for s in recorded.seen] == ["GET"]


def test_documentation_matches_the_argument_spec():
    import yaml

    doc = yaml.safe_load(heroku_app_maintenance.DOCUMENTATION)
    assert doc["module"] == "heroku_app_maintenance"
    assert doc["options"] == {"enabled": {**doc["options"]["enabled"], "type": "bool", "required": True}}
    assert doc["attributes"]["check_mode"]["support"] == "full"
    assert doc["attributes"]["diff_mode"]["support"] == "full"
    yaml.safe_load(heroku_app_maintenance.EXAMPLES)
    assert set(yaml.safe_load(heroku_app_maintenance.RETURN)) == {"maintenance", "previous", "msg", "requests"}
