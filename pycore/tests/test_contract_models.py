"""Every model parses every body of the recorded-traffic corpus it could meet, with the meaning
real Heroku gives it (a running transfer is not failed, a fork names its source by id...)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from herokupg_sandbox.recorded import KINDS, OTHER_ROUTES, ROUTES, Exchange
from recorded_helpers import CORPUS, CORPUS_DIR, _keep_secret_registry  # noqa: F401

from herokupg.models import (
    Addon,
    App,
    Attachment,
    DatabaseInfo,
    LogSession,
    PublicUrl,
    Transfer,
    TransferSchedule,
    WaitStatus,
    parse_settings,
)


def _many(model: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    return lambda body: [model(item) for item in body]


# The model of each route's successful answer (routes with no JSON object worth modelling: None).
PARSERS: dict[str, Callable[[Any], Any] | None] = {
    "GET /apps/{app}": App.model_validate,
    "PATCH /apps/{app}": App.model_validate,
    "GET /apps/{app}/addons": _many(Addon.model_validate),
    "GET /apps/{app}/addons/{addon}": Addon.model_validate,
    "POST /apps/{app}/addons": Addon.model_validate,
    "GET /apps/{app}/addon-attachments": _many(Attachment.model_validate),
    "GET /apps/{app}/config-vars": None,
    "GET /client/v11/databases/{db}": DatabaseInfo.model_validate,
    "GET /client/v11/databases/{db}/wait_status": WaitStatus.model_validate,
    "POST /client/v11/databases/{db}/backups": Transfer.model_validate,
    "POST /client/v11/databases/{db}/restores": Transfer.model_validate,
    "GET /client/v11/apps/{app}/transfers": _many(Transfer.model_validate),
    "GET /client/v11/apps/{app}/transfers/{transfer}": Transfer.model_validate,
    "POST /client/v11/apps/{app}/transfers/{transfer}/actions/public-url": PublicUrl.model_validate,
    "GET /client/v11/databases/{db}/transfer-schedules": _many(TransferSchedule.model_validate),
    "POST /client/v11/databases/{db}/transfer-schedules": TransferSchedule.model_validate,
    "POST /apps/{app}/log-sessions": LogSession.model_validate,
    "GET /postgres/v0/databases/{db}/config": parse_settings,
}


def successes() -> list[Exchange]:
    return [e for e in CORPUS.exchanges.values() if 200 <= e.status < 300 and e.route in PARSERS]


def test_the_corpus_holds_enough_real_recordings_with_provenance() -> None:
    recordings = CORPUS.of_kind("recording")
    assert len(recordings) >= 25
    for e in recordings:
        assert {"repository", "path", "commit", "recorded_at"} <= set(e.source), e.name
        assert re.fullmatch(r"[0-9a-f]{40}", e.source["commit"]), e.name
    for e in CORPUS.exchanges.values():
        assert e.kind in KINDS
        if e.kind == "derived":
            assert (CORPUS_DIR / f"{e.source['derived_from']}").exists(), e.name
        assert e.route is not None, f"{e.name}: {e.method} {e.url} is no known route"


def test_every_exchange_of_the_corpus_is_on_a_known_route() -> None:
    for e in CORPUS.exchanges.values():
        assert e.route in ROUTES or e.route in OTHER_ROUTES, e.name


_SECRET_SHAPES = (
    re.compile(r"Basic (?!<redacted>)\S+"),
    re.compile(r"Bearer (?!<redacted>)\S+"),
    re.compile(r"(?i)X-Amz-(Signature|Credential)="),
    re.compile(r"[?&](signature|token)="),
    re.compile(r"://[^:/@\s]+:(?!password@|<redacted>@)[^@\s]+@"),  # credentials other than the placeholder
)


@pytest.mark.parametrize(
    "path", sorted(CORPUS_DIR.glob("*/*.json")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_no_credential_is_stored(path: Any) -> None:
    text = path.read_text()
    for shape in _SECRET_SHAPES:
        assert not shape.search(text), f"{path}: {shape.pattern}"
    doc = json.loads(text)
    body = doc["response"]["body"]
    if isinstance(body, dict) and "database_password" in body:
        assert body["database_password"] == "<redacted>"


@pytest.mark.parametrize("exchange", successes(), ids=lambda e: e.name)
def test_each_model_parses_each_recorded_body(exchange: Exchange) -> None:
    parse = PARSERS[exchange.route or ""]
    if parse is None:
        assert isinstance(exchange.body, dict)
        return
    parsed = parse(exchange.body)
    for item in parsed if isinstance(parsed, list) else [parsed]:
        # a credential of the body (the recordings' placeholder password) never shows in repr
        assert ":password@" not in repr(item), exchange.name


def _transfer(name: str) -> Transfer:
    return Transfer.model_validate(CORPUS[name].body)


def test_a_running_transfer_is_not_finished_and_not_failed() -> None:
    created = _transfer("backup-wait-2020/01-post-backups-201")
    assert created.succeeded is None and not created.finished
    assert (created.status_text, created.info_status) == ("Pending", "Pending")
    running = _transfer("backup-wait-2020/05-get-transfer-running")
    assert running.succeeded is None and not running.finished
    assert running.status_text == "Running (processed 0.00B)" and running.info_status == "Running"
    done = _transfer("backup-wait-2020/16-get-transfer-finished")
    assert done.succeeded is True and done.finished
    assert done.status_text == "Completed 2020-12-13 16:22:56 +0000"
    assert (done.name, done.kind, done.is_backup) == ("b1722", "backup", True)
    restore = _transfer("restore-2020/01-post-restores-201")
    assert (restore.name, restore.kind, restore.succeeded) == ("r1723", "restore", None)


def test_a_transfer_list_with_a_running_backup_parses_whole() -> None:
    items = [Transfer.model_validate(t) for t in CORPUS["transfers-running-2020/01-get-transfers"].body]
    by_name = {t.name: t for t in items}
    assert by_name["b1721"].succeeded is None and not by_name["b1721"].finished
    assert by_name["r1719"].succeeded is False and by_name["r1719"].status_text.startswith("Failed")
    assert by_name["a1714"].scheduled and by_name["a1714"].succeeded
    assert [t.kind for t in items].count("restore") == 4


def test_the_2018_list_names_backups_scheduled_backups_and_copies() -> None:
    items = [Transfer.model_validate(t) for t in CORPUS["transfers-2018/01-get-transfers"].body]
    assert [t.name for t in items] == [
        "a504",
        "a503",
        "a502",
        "a501",
        "a500",
        "a499",
        "a498",
        "c345",
        "c180",
        "b118",
        "b035",
        "b011",
        "b001",
    ]


def test_a_fork_names_its_source_by_bare_id_with_typed_rows() -> None:
    info = DatabaseInfo.model_validate(CORPUS["database-standard-fork-2020/01-get-database"].body)
    assert info.forked_from == "67bd5e78-287e-41f1-9bbf-6caf9e5b9130"
    assert info.forked_from_id == "67bd5e78-287e-41f1-9bbf-6caf9e5b9130"
    assert info.info_value("Forked From") == [] and info.info_value("Following") == []
    assert info.info_value("Tables") == ["48"] and info.info_value("Credentials") == ["1"]
    assert info.info_value("Maintenance window") == ["Sundays 22:30 to Mondays 02:30 UTC"]
    assert (info.plan_name, info.status, info.is_follower, info.waiting) == (
        "standard-0",
        "Available",
        False,
        False,
    )
    assert info.hot_standby is True and info.num_tables == 48
    assert "password" not in repr(info)


def test_hobby_databases_carry_their_plan_as_text() -> None:
    for name in ("database-hobby-2020/02-get-database", "database-hobby-basic-2018/01-get-database"):
        info = DatabaseInfo.model_validate(CORPUS[name].body)
        assert info.plan_name in ("Hobby-dev", "Hobby-basic")
        assert info.forked_from_id is None and info.standalone is False
        assert info.info_value("Tables")[0].isdigit()


def test_schedules_keep_the_fields_heroku_added() -> None:
    [schedule] = [
        TransferSchedule.model_validate(s) for s in CORPUS["schedules-2020/01-get-transfer-schedules"].body
    ]
    assert (schedule.name, schedule.hour, schedule.timezone) == ("DATABASE_URL", 0, "UTC")
    assert schedule.model_extra["retain_weeks"] == 1 and len(schedule.model_extra["days"]) == 7


def test_a_public_url_expires_an_hour_after_it_was_signed() -> None:
    exchange = CORPUS["public-url-2020/02-post-public-url"]
    url = PublicUrl.model_validate(exchange.body)
    assert url.expires_at == "2020-12-13 17:26:05 +0000"
    assert exchange.headers["Date"] == "Sun, 13 Dec 2020 16:26:05 GMT"
