"""Backup schedules: create, update, list, delete, bad input, and scheduled captures on the clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from herokupg_sandbox.threaded import RunningSandbox
from sandbox_helpers import advance, assert_error, assert_html_404, create_app, create_db, state

S = "/client/v11/databases/{db}/transfer-schedules"


def sandbox_now(c: httpx.Client) -> datetime:
    return datetime.fromtimestamp(c.get("/_sandbox/clock").json()["epoch"], UTC)


def schedules(c: httpx.Client, db: str) -> list[dict[str, Any]]:
    r = c.get(S.format(db=db))
    assert r.status_code == 200, r.text
    body: list[dict[str, Any]] = r.json()
    return body


def test_create_update_list_delete(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "sch")
        main = create_db(c, "sch")
        other = create_db(c, "sch", attach_as="HEROKU_POSTGRESQL_PINK")
        r = c.post(S.format(db=main["id"]),
                   json={"hour": "06", "timezone": "America/New_York", "schedule_name": "DATABASE_URL"})
        assert r.status_code == 201, r.text
        created = r.json()
        assert (created["name"], created["hour"], created["timezone"]) == (
            "DATABASE_URL", 6, "America/New_York"
        )
        assert len(created["days"]) == 7 and created["days"][0] == "Monday"
        assert created["deleted_at"] is None and created["created_at"].endswith(" +0000")
        update = {"hour": 22, "timezone": "UTC", "schedule_name": "DATABASE_URL"}
        r = c.post(S.format(db=main["id"]), json=update)
        assert r.status_code == 201 and r.json()["uuid"] == created["uuid"]  # one per database: updated
        c.post(S.format(db=other["id"]),
               json={"hour": 3, "timezone": "Europe/Paris", "schedule_name": "HEROKU_POSTGRESQL_PINK_URL"})
        # any database of the app lists every schedule of the app (what pg:backups:schedules reads)
        listed = schedules(c, other["id"])
        assert [(s["name"], s["hour"], s["timezone"]) for s in listed] == [
            ("DATABASE_URL", 22, "UTC"), ("HEROKU_POSTGRESQL_PINK_URL", 3, "Europe/Paris")
        ]
        r = c.delete(S.format(db=main["id"]) + f"/{created['uuid']}")
        assert r.status_code == 200 and r.json()["deleted_at"], r.text
        assert [s["name"] for s in schedules(c, main["id"])] == ["HEROKU_POSTGRESQL_PINK_URL"]
        before = state(c)
        assert_error(c.delete(S.format(db=main["id"]) + f"/{created['uuid']}"), 404, "not_found")
        assert state(c) == before


def test_bad_input_is_a_400_and_changes_nothing(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "sbad")
        db = create_db(c, "sbad")
        before = state(c)
        for body, fragment in [
            ({"hour": "24", "timezone": "UTC"}, "hour: Input should be less than or equal to 23"),
            ({"hour": "6am", "timezone": "UTC"}, "hour: Input should be a valid integer (got str)"),
            ({"hour": True, "timezone": "UTC"}, "hour: Input should be a valid integer (got bool)"),
            ({"hour": 6, "timezone": 7}, "timezone: Input should be a valid string (got int)"),
            ({"hour": 6, "timezone": "Mars/Olympus_Mons"}, "Invalid timezone"),
            ({"hour": 6, "timezone": "../../etc/passwd"}, "Invalid timezone"),
        ]:
            assert_error(c.post(S.format(db=db["id"]), json=body), 400, "bad_request", fragment)
        assert_html_404(c.post(S.format(db="00000000-0000-0000-0000-000000000000"), json={"hour": 1}))
        assert state(c) == before


def test_scheduled_capture_fires_once_per_local_day(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "auto")
        db = create_db(c, "auto")
        now = sandbox_now(c)
        hour = (now.hour + 1) % 24
        r = c.post(S.format(db=db["id"]), json={"hour": f"{hour:02d}", "timezone": "UTC",
                                                 "schedule_name": "DATABASE_URL"})
        assert r.status_code == 201
        schedule_uuid = r.json()["uuid"]
        assert c.get("/client/v11/apps/auto/transfers").json() == []
        to_next_hour = 3600 - (now.minute * 60 + now.second) + 5
        advance(c, to_next_hour)
        fired = c.get("/client/v11/apps/auto/transfers").json()
        assert len(fired) == 1
        assert fired[0]["schedule"] == {"uuid": schedule_uuid} and fired[0]["succeeded"] is True
        assert fired[0]["from_type"] == "pg_dump" and fired[0]["to_type"] == "gof3r"  # named a001 by the CLI
        advance(c, 1800)
        assert len(c.get("/client/v11/apps/auto/transfers").json()) == 1  # once per day
        advance(c, 86400)
        assert sorted(t["num"] for t in c.get("/client/v11/apps/auto/transfers").json()) == [1, 2]


def test_scheduled_retention_keeps_daily_and_weekly_on_standard(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "ret")
        db = create_db(c, "ret", "standard-0")
        now = sandbox_now(c)
        c.post(S.format(db=db["id"]), json={"hour": (now.hour + 1) % 24, "timezone": "UTC",
                                             "schedule_name": "DATABASE_URL"})
        advance(c, 3600 - (now.minute * 60 + now.second) + 5)
        for _ in range(20):
            advance(c, 86400)
        kept = c.get("/client/v11/apps/ret/transfers").json()
        # 21 daily captures: the newest 7 daily plus the newest of one older week survive
        assert len(kept) == 8
        nums = sorted(t["num"] for t in kept)
        assert nums[1:] == list(range(15, 22))
        assert nums[0] < 15
