# -*- coding: utf-8 -*-
# Copyright: herokuops.postgres contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules end to end on real Heroku answers: each runs its main() with the HTTP client
answering from the recorded-traffic corpus (tests/fixtures/heroku-recorded), so what the module
returns is what it would return on Heroku for a running backup, a running restore, a transfer list
with a running transfer, a fork's real database body and the Data API's HTML 404."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from ansible_collections.herokuops.postgres.plugins.module_utils import _heroku_pg as module_utils
from ansible_collections.herokuops.postgres.plugins.modules import (
    heroku_pg_backup,
    heroku_pg_backup_info,
    heroku_pg_backup_schedule,
    heroku_pg_fork,
    heroku_pg_info,
    heroku_pg_restore,
)
from herokupg import redact
from herokupg.client import HerokuClient
from herokupg_sandbox.recorded import Corpus, Replay

CORPUS = Corpus(Path(__file__).resolve().parents[3] / "fixtures" / "heroku-recorded")
HOBBY_APP = "<VALID_APP_ID_WITH_DATABASE>"
STANDARD_APP = "<VALID_APP_ID_WITH_DB_IN_PRO_PLAN>"
HOBBY = ("hobby-app/01-get-addon-attachments", "database-hobby-2020/02-get-database")
STANDARD = ("standard-app/01-get-addon-attachments", "standard-app/03-get-database-source",
            "database-standard-fork-2020/01-get-database")
KEY = {"api_key": "recorded-key"}
FAST = dict(KEY, poll_interval=0.01, wait_timeout=60)


@pytest.fixture(autouse=True)
def keep_secret_registry():
    """The recordings' placeholder URLs make the word "password" a registered secret: forget it after."""
    saved = set(redact._secrets)  # pylint: disable=protected-access
    yield
    redact._secrets.clear()  # pylint: disable=protected-access
    redact._secrets.update(saved)  # pylint: disable=protected-access


@pytest.fixture
def replay(monkeypatch):
    """Make the modules' HTTP client answer from the named corpus exchanges; returns the Replay."""
    holder = {}

    def use(*names, repeat=()):
        script = []
        for name in names:
            script.extend([CORPUS[name]] if name in CORPUS.exchanges else CORPUS.scenario(name))
        holder["replay"] = Replay(script, repeat=[CORPUS[n] for n in repeat])
        client = functools.partial(HerokuClient, transport=holder["replay"].transport(), env={})
        monkeypatch.setattr(module_utils, "HerokuClient", client)
        return holder["replay"]

    return use


def test_backup_captures_and_waits_through_the_recorded_running_polls(run_module, replay):
    recorded = replay(*HOBBY, "transfers-running-2020/01-get-transfers", "backup-wait-2020",
                      "public-url-2020/02-post-public-url")
    out = run_module(heroku_pg_backup.main, dict(FAST, app=HOBBY_APP, url=True))
    assert not out.failed and out["changed"] is True
    backup = out["backup"]
    assert (backup["name"], backup["state"], backup["succeeded"]) == ("b1722", "completed", True)
    assert out["url"] == "********" and out["url_expires_at"] == "2020-12-13 17:26:05 +0000"
    assert recorded.left() == []


def test_backup_without_waiting_returns_the_running_backup(run_module, replay):
    replay(*HOBBY, "transfers-running-2020/01-get-transfers", "backup-wait-2020/01-post-backups-201")
    out = run_module(heroku_pg_backup.main, dict(FAST, app=HOBBY_APP, wait=False))
    assert not out.failed and out["changed"] is True
    assert (out["backup"]["state"], out["backup"]["succeeded"], out["backup"]["finished_at"]) == ("pending", None, None)


def test_restore_waits_through_the_recorded_running_polls(run_module, replay):
    replay("hobby-app/01-get-addon-attachments", "hobby-app/02-get-config-vars",
           "transfers-running-2020/01-get-transfers", "restore-2020")
    out = run_module(heroku_pg_restore.main, dict(
        FAST, app=HOBBY_APP, confirm=HOBBY_APP,
        backup="https://s3.eu-central-1.amazonaws.com/coorasse-public/2018-06-23.dump",
    ))
    assert not out.failed and out["changed"] is True
    assert (out["restore"]["name"], out["restore"]["state"], out["restore"]["succeeded"]) == ("r1723", "completed", True)


def test_backup_info_lists_a_running_transfer_as_running(run_module, replay):
    replay("transfers-running-2020/01-get-transfers", "transfers-running-2020/01-get-transfers")
    out = run_module(heroku_pg_backup_info.main, dict(KEY, app=HOBBY_APP, kind="backup"))
    assert not out.failed and out["changed"] is False
    running = out["transfers"][0]
    assert (running["name"], running["state"], running["succeeded"]) == ("b1721", "running", None)
    failed = run_module(heroku_pg_backup_info.main, dict(KEY, app=HOBBY_APP, succeeded=False))
    assert "b1721" not in [t["name"] for t in failed["transfers"]]


@pytest.mark.parametrize("check_mode", [True, False])
def test_fork_rerun_on_a_real_fork_body_is_unchanged(run_module, replay, check_mode):
    replay(*STANDARD)
    out = run_module(heroku_pg_fork.main, dict(FAST, app=STANDARD_APP, name="HEROKU_POSTGRESQL_NAVY"),
                     check_mode=check_mode)
    assert not out.failed and out["changed"] is False and out["requests"] == []
    assert out["fork"]["addon"] == "postgresql-defined-53666" and out["fork"]["forked_from"] == "DATABASE"


def test_info_shows_a_real_fork_s_source_and_typed_rows(run_module, replay):
    replay(*STANDARD)
    out = run_module(heroku_pg_info.main, dict(KEY, app=STANDARD_APP))
    assert not out.failed
    fork = next(db for db in out["databases"] if db["addon"] == "postgresql-defined-53666")
    assert fork["forked_from"] == "DATABASE" and fork["tables"] == 48 and fork["info"]["Tables"] == ["48"]


def test_an_html_404_fails_naming_the_database(run_module, replay):
    replay("hobby-app/01-get-addon-attachments", "not-found-html-2020/02-get-transfer-schedules-404")
    out = run_module(heroku_pg_backup_schedule.main, dict(KEY, app=HOBBY_APP, state="absent"))
    assert out.failed and out["status"] == 404
    assert "Heroku has no database <VALID_DATABASE_ID_WITH_SCHEDULES>" in out["msg"]
    assert "database DATABASE_URL" in out["msg"] and "Traceback" not in out["msg"]


def test_info_of_a_database_the_data_api_does_not_know_says_it_is_not_provisioned(run_module, replay):
    replay("hobby-app/01-get-addon-attachments", "not-found-html-2020/01-get-database-404")
    out = run_module(heroku_pg_info.main, dict(KEY, app=HOBBY_APP))
    assert not out.failed
    [db] = out["databases"]
    assert db["provisioned"] is False and db["addon"] == "postgresql-globular-83867"
