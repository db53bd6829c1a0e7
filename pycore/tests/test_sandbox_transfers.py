"""PGBackups on the sandbox: capture, numbering, info, delete, public URLs, restore, failures, retention."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from herokupg_sandbox.threaded import RunningSandbox
from sandbox_helpers import (
    advance,
    assert_error,
    create_app,
    create_db,
    data,
    set_settings,
    state,
    write,
)

T = "/client/v11/apps/{app}/transfers"


def capture(c: httpx.Client, addon_id: str) -> dict[str, Any]:
    r = c.post(f"/client/v11/databases/{addon_id}/backups")
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def transfers(c: httpx.Client, app: str) -> list[dict[str, Any]]:
    r = c.get(T.format(app=app))
    assert r.status_code == 200, r.text
    body: list[dict[str, Any]] = r.json()
    return body


def restore(c: httpx.Client, addon_id: str, url: str) -> dict[str, Any]:
    r = c.post(f"/client/v11/databases/{addon_id}/restores", json={"backup_url": url})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_numbering_is_per_app_and_backups_have_cli_shapes(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "one")
        create_app(c, "two")
        db1 = create_db(c, "one")
        db2 = create_db(c, "two")
        write(c, db1["id"], "t", {"v": 1})
        first, second = capture(c, db1["id"]), capture(c, db1["id"])
        other = capture(c, db2["id"])
        assert (first["num"], second["num"], other["num"]) == (1, 2, 1)
        assert first["from_type"] == "pg_dump" and first["to_type"] == "gof3r" and "schedule" not in first
        assert first["from_name"] == "DATABASE" and first["succeeded"] is True
        assert first["finished_at"].endswith(" +0000") and len(first["finished_at"]) == 25
        assert first["processed_bytes"] > 0 and first["source_bytes"] > first["processed_bytes"]
        assert "logs" not in first
        assert {t["num"] for t in transfers(c, "one")} == {1, 2}
        assert [t["uuid"] for t in transfers(c, "two")] == [other["uuid"]]

        by_num = c.get(T.format(app="one") + "/2").json()
        by_uuid = c.get(T.format(app="one") + f"/{second['uuid']}?verbose=true").json()
        assert by_num["uuid"] == second["uuid"] and "logs" not in by_num
        assert any("Transfer completed" in line["message"] for line in by_uuid["logs"])
        assert_error(c.get(T.format(app="two") + "/2"), 404, "not_found")


def test_capture_is_refused_while_provisioning(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "slow")
        set_settings(c, provision_delay=60)
        db = create_db(c, "slow")
        before = state(c)
        r = c.post(f"/client/v11/databases/{db['id']}/backups")
        assert r.status_code == 404 and r.json()["error"].endswith("is not yet provisioned.")
        assert state(c) == before


def test_delete_and_public_urls(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "pub")
        db = create_db(c, "pub")
        write(c, db["id"], "t", {"v": 1})
        backup = capture(c, db["id"])
        r = c.post(T.format(app="pub") + "/1/actions/public-url")
        assert r.status_code == 200, r.text
        url, expires_at = r.json()["url"], r.json()["expires_at"]
        assert expires_at.endswith("+0000")
        with httpx.Client() as anonymous:  # no token: the signature is the credential
            dump = anonymous.get(url)
            assert dump.status_code == 200
            assert int(dump.headers["content-length"]) == backup["processed_bytes"] == len(dump.content)
            parts = urlsplit(url)
            query = parse_qs(parts.query)
            forged = url.replace(query["signature"][0], "0" * 64)
            assert_error(anonymous.get(forged), 403, "forbidden", "signature")
            expires = query["expires"][0]
            longer = url.replace(f"expires={expires}", f"expires={int(expires) + 999}")
            assert anonymous.get(longer).status_code == 403
            advance(c, 3601)  # a public URL lasts an hour
            assert_error(anonymous.get(url), 403, "forbidden", "expired")

        before = state(c)
        assert_error(c.delete(T.format(app="pub") + "/9"), 404, "not_found")
        assert state(c) == before
        r = c.delete(T.format(app="pub") + "/1")
        assert r.status_code == 200 and r.json()["deleted_at"]
        assert transfers(c, "pub") == []
        assert_error(c.get(T.format(app="pub") + "/1"), 410, "gone")  # as Heroku's transfer service
        fresh = c.post(T.format(app="pub") + "/1/actions/public-url")
        assert fresh.status_code == 410


def test_restore_from_same_app_other_app_and_url(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "src")
        create_app(c, "dst")
        source = create_db(c, "src")
        target = create_db(c, "dst")
        write(c, source["id"], "users", {"id": 1})
        backup = capture(c, source["id"])
        write(c, source["id"], "users", {"id": 2})

        same = restore(c, source["id"], backup["to_url"])  # same app, by to_url
        assert same["succeeded"] is True and same["num"] == 2
        assert same["from_type"] != "pg_dump" and same["to_type"] == "pg_restore"
        assert same["from_name"] == "b001" and same["to_name"] == "DATABASE"
        assert data(c, source["id"])["tables"] == {"users": [{"id": 1}]}

        cross = restore(c, target["id"], backup["to_url"])  # other app: numbered under dst
        assert cross["num"] == 1 and data(c, target["id"])["tables"] == {"users": [{"id": 1}]}
        assert [t["num"] for t in transfers(c, "dst")] == [1]

        write(c, source["id"], "users", {"id": 3})
        second = capture(c, source["id"])
        url = c.post(T.format(app="src") + f"/{second['num']}/actions/public-url").json()["url"]
        via_url = restore(c, target["id"], url)
        assert via_url["succeeded"] is True and "signature" not in via_url["from_url"]
        assert data(c, target["id"])["tables"] == {"users": [{"id": 1}, {"id": 3}]}

        listed = {t["uuid"]: t for t in transfers(c, "dst")}
        assert listed[via_url["uuid"]]["to_type"] == "pg_restore"


def test_failed_transfers_keep_logs_and_change_no_data(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "bad")
        db = create_db(c, "bad")
        write(c, db["id"], "t", {"v": 1})
        r = c.post("/_sandbox/faults", json={"kind": "transfer_failure", "path": "/backups$", "remaining": 1})
        assert r.status_code == 201
        failed = capture(c, db["id"])
        assert failed["succeeded"] is False and failed["finished_at"]
        logs = c.get(T.format(app="bad") + f"/{failed['num']}?verbose=true").json()["logs"]
        assert any("injected transfer_failure" in line["message"] for line in logs)
        assert c.post(T.format(app="bad") + f"/{failed['num']}/actions/public-url").status_code == 422

        garbage = restore(c, db["id"], "http://127.0.0.1:9/nothing-listens-here.dump")
        assert garbage["succeeded"] is False
        logs = c.get(T.format(app="bad") + f"/{garbage['num']}?verbose=true").json()["logs"]
        assert any("download failed" in line["message"] for line in logs)
        assert data(c, db["id"])["tables"] == {"t": [{"v": 1}]}

        before = state(c)
        assert_error(c.post(f"/client/v11/databases/{db['id']}/restores", json={"backup_url": "file:///etc/x"}),
                     400, "bad_request", "http(s)")
        assert_error(c.post(f"/client/v11/databases/{db['id']}/restores", json={}), 400, "bad_request")
        assert state(c) == before


def test_running_transfer_can_be_canceled(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "cx")
        db = create_db(c, "cx")
        set_settings(c, transfer_delay=300)
        running = capture(c, db["id"])
        assert running["finished_at"] is None and running["started_at"]
        before = state(c)
        assert_error(c.delete(T.format(app="cx") + "/1"), 422, "invalid_params", "still running")
        assert state(c) == before
        r = c.post(T.format(app="cx") + f"/{running['uuid']}/actions/cancel")
        assert r.status_code == 201 and list(r.json()) == ["canceled_at"], r.text
        advance(c, 301)
        final = c.get(T.format(app="cx") + "/1").json()
        assert final["succeeded"] is False and final["canceled_at"]
        again = c.post(T.format(app="cx") + "/1/actions/cancel")
        assert_error(again, 422, "invalid_params", "already finished")


def test_26th_manual_backup_on_standard_expires_the_oldest(sandbox: RunningSandbox) -> None:
    with sandbox.http() as c:
        create_app(c, "keep")
        db = create_db(c, "keep", "standard-0")
        for _ in range(25):
            capture(c, db["id"])
        assert len(transfers(c, "keep")) == 25
        first_path = sandbox.state_dir / "backups"
        files = set(first_path.iterdir())
        assert len(files) == 25
        latest = capture(c, db["id"])
        assert latest["num"] == 26 and latest["num_keep"] == 25
        nums = sorted(t["num"] for t in transfers(c, "keep"))
        assert nums == list(range(2, 27))
        assert_error(c.get(T.format(app="keep") + "/1"), 410, "gone")
        assert len(list(first_path.iterdir())) == 25
