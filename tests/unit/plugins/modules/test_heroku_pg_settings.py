# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""heroku_pg_settings: its options reach ensure_settings as documented, and its result comes back."""

from __future__ import annotations

import pytest

from ansible_collections.herokuops.postgres.plugins.modules import heroku_pg_settings
from herokupg.errors import ValidationError
from herokupg.ops.base import PlannedRequest, Result


@pytest.fixture
def calls(monkeypatch):
    """Record each ensure_settings call; answer as the core would for a change of one setting."""
    seen = []

    def ensure_settings(ctx, app, settings, database=None):
        seen.append({"app": app, "settings": settings, "database": database, "check_mode": ctx.check_mode})
        if settings.get("fail"):
            raise ValidationError("Unknown setting fail for postgresql-x (DATABASE_URL) on app %s." % app)
        return Result(
            changed=True,
            data={"database": {"addon": "postgresql-x"}, "settings": {"log_statement": "all"}, "changes": dict(settings)},
            before={"log_statement": "ddl"},
            after={"log_statement": "all"},
            requests=[PlannedRequest("PATCH", "/postgres/v0/databases/x/config", dict(settings), "set")],
        )

    monkeypatch.setattr(heroku_pg_settings, "ensure_settings", ensure_settings)
    return seen


def test_defaults_and_result(run_module, calls):
    out = run_module(heroku_pg_settings.main, {"app": "myapp", "settings": {"log_statement": "all"}})
    assert not out.failed
    assert calls == [{"app": "myapp", "settings": {"log_statement": "all"}, "database": "DATABASE_URL", "check_mode": False}]
    assert out["changed"] is True
    assert out["settings"] == {"log_statement": "all"}
    assert out["changes"] == {"log_statement": "all"}
    assert out["database"] == {"addon": "postgresql-x"}
    assert out["requests"] == [
        {"method": "PATCH", "path": "/postgres/v0/databases/x/config", "body": {"log_statement": "all"}, "description": "set"}
    ]
    assert "diff" not in out.result


def test_check_and_diff_mode(run_module, calls):
    out = run_module(
        heroku_pg_settings.main,
        {"app": "myapp", "database": "HEROKU_POSTGRESQL_PINK", "settings": {"log_statement": "all"}},
        check_mode=True,
        diff=True,
    )
    assert calls[0]["check_mode"] is True
    assert calls[0]["database"] == "HEROKU_POSTGRESQL_PINK"
    assert out["diff"] == {"before": {"log_statement": "ddl"}, "after": {"log_statement": "all"}}


def test_values_reach_the_core_as_given(run_module, calls):
    settings = {"log_min_duration_statement": "50", "log_lock_waits": True, "log_statement": "ddl", "track_functions": "pl"}
    run_module(heroku_pg_settings.main, {"app": "a", "settings": settings})
    assert calls[0]["settings"] == settings  # normalizing is the core's job, against the API's report


def test_settings_as_key_value_string(run_module, calls):
    run_module(heroku_pg_settings.main, {"app": "a", "settings": "log_statement=mod, log_lock_waits=on"})
    assert calls[0]["settings"] == {"log_statement": "mod", "log_lock_waits": "on"}


def test_settings_is_required(run_module, calls):
    out = run_module(heroku_pg_settings.main, {"app": "a"})
    assert out.failed
    assert "missing required arguments: settings" in out["msg"]
    assert calls == []


@pytest.mark.parametrize("bad", [["log_statement"], "log_statement", 5])
def test_settings_must_be_a_mapping(run_module, calls, bad):
    out = run_module(heroku_pg_settings.main, {"app": "a", "settings": bad})
    assert out.failed
    assert "settings" in out["msg"] and "dict" in out["msg"]
    assert calls == []


def test_core_errors_name_app_and_database(run_module, calls):
    out = run_module(heroku_pg_settings.main, {"app": "myapp", "settings": {"fail": 1}})
    assert out.failed
    assert out["msg"] == (
        "Unknown setting fail for postgresql-x (DATABASE_URL) on app myapp. (app myapp, database DATABASE_URL)"
    )
    assert (out["app"], out["database"]) == ("myapp", "DATABASE_URL")


def test_documentation_matches_the_argument_spec():
    import yaml

    doc = yaml.safe_load(heroku_pg_settings.DOCUMENTATION)
    assert doc["module"] == "heroku_pg_settings"
    assert set(doc["options"]) == {"database", "settings"}
    assert doc["options"]["database"]["default"] == "DATABASE_URL"
    assert doc["options"]["settings"] == {**doc["options"]["settings"], "type": "dict", "required": True}
    assert doc["attributes"]["check_mode"]["support"] == "full"
    assert doc["attributes"]["diff_mode"]["support"] == "full"
    assert "herokuops.postgres.heroku" in doc["extends_documentation_fragment"]
    yaml.safe_load(heroku_pg_settings.EXAMPLES)
    assert set(yaml.safe_load(heroku_pg_settings.RETURN)) == {"database", "settings", "changes", "requests"}
