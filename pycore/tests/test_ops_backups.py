"""capture_backup / delete_backup against the real sandbox: check mode predicts, real changes,
max_age makes reruns unchanged, failures carry logs, downloads are atomic and checked."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from backup_helpers import context, transfers
from herokupg_sandbox.threaded import RunningSandbox, seed_app, seed_database

from herokupg.download import DownloadError
from herokupg.errors import (
    ConfirmationRequiredError,
    OperationTimeoutError,
    TransferFailedError,
    ValidationError,
)
from herokupg.ops.backups import BackupRequest, capture_backup, delete_backup
from herokupg.ops.base import Context, WaitOptions


@pytest.fixture
def shop(sandbox: RunningSandbox) -> RunningSandbox:
    seed_app(sandbox, "shop")
    seed_database(sandbox, "shop")
    return sandbox


def test_check_mode_predicts_a_capture_and_sends_nothing(shop: RunningSandbox) -> None:
    result = capture_backup(context(shop, check_mode=True), BackupRequest("shop", max_age="24h"))
    assert result.changed
    assert [(r.method, r.path.endswith("/backups")) for r in result.requests] == [("POST", True)]
    assert result.data["backup"] is None
    assert result.before == {"backups": []}
    assert transfers(shop) == []


def test_capture_then_max_age_reruns_are_unchanged(shop: RunningSandbox) -> None:
    first = capture_backup(context(shop), BackupRequest("shop", max_age="24h"))
    assert first.changed
    [record] = transfers(shop)
    assert record["succeeded"] and record["finished_at"] is not None
    assert first.data["backup"]["name"] == "b001"
    assert first.data["backup"]["state"] == "completed"
    assert first.after == {"backups": ["b001"]}

    for check_mode in (True, False):
        again = capture_backup(context(shop, check_mode=check_mode), BackupRequest("shop", max_age="24h"))
        assert not again.changed
        assert again.requests == []
        assert again.data["backup"]["name"] == "b001"
    assert len(transfers(shop)) == 1


def test_an_old_backup_does_not_satisfy_max_age(shop: RunningSandbox) -> None:
    capture_backup(context(shop), BackupRequest("shop"))
    later = datetime.now(UTC) + timedelta(days=2)
    checked = capture_backup(context(shop, check_mode=True), BackupRequest("shop", max_age="1d", now=later))
    assert checked.changed and len(transfers(shop)) == 1
    done = capture_backup(context(shop), BackupRequest("shop", max_age="1d", now=later))
    assert done.changed and done.data["backup"]["name"] == "b002"
    assert [t["num"] for t in transfers(shop)] == [1, 2]


def test_without_max_age_every_run_captures(shop: RunningSandbox) -> None:
    capture_backup(context(shop), BackupRequest("shop"))
    second = capture_backup(context(shop), BackupRequest("shop"))
    assert second.changed and second.data["backup"]["name"] == "b002"
    assert len(transfers(shop)) == 2


def test_max_age_is_per_database(shop: RunningSandbox) -> None:
    seed_database(shop, "shop", attachment="REPORTING")
    capture_backup(context(shop), BackupRequest("shop", max_age="1h"))
    other = capture_backup(context(shop), BackupRequest("shop", "REPORTING", max_age="1h"))
    assert other.changed and other.data["backup"]["database"] == "REPORTING"
    again = capture_backup(context(shop), BackupRequest("shop", "REPORTING_URL", max_age="1h"))
    assert not again.changed
    assert len(transfers(shop)) == 2


@pytest.mark.parametrize("bad", ["0", "-1h", "1y", "soon", "", "24 hours"])
def test_bad_max_age_fails_before_any_request(shop: RunningSandbox, bad: str) -> None:
    with pytest.raises(ValidationError, match="max_age"):
        capture_backup(context(shop), BackupRequest("shop", max_age=bad))
    assert transfers(shop) == []


def test_a_failed_capture_fails_with_its_logs(shop: RunningSandbox) -> None:
    shop.admin("POST", "faults", json={"kind": "transfer_failure", "path": "/backups$", "remaining": 1})
    with pytest.raises(TransferFailedError) as info:
        capture_backup(context(shop), BackupRequest("shop", max_age="1h"))
    assert info.value.transfer == "b001"
    assert any("injected transfer_failure" in line for line in info.value.logs)
    assert "b001" in info.value.message and "injected" in info.value.message
    [record] = transfers(shop)
    assert record["finished_at"] is not None and not record["succeeded"]
    # A failed backup is no reason to skip: the rerun captures again and succeeds.
    rerun = capture_backup(context(shop), BackupRequest("shop", max_age="1h"))
    assert rerun.changed and rerun.data["backup"]["name"] == "b002"


def test_a_running_backup_is_waited_for_not_captured_twice(shop: RunningSandbox) -> None:
    shop.admin("PATCH", "settings", json={"transfer_delay": 3600})
    no_wait = context(shop)
    no_wait = Context(api=no_wait.api, wait=WaitOptions(enabled=False))
    started = capture_backup(no_wait, BackupRequest("shop", max_age="1h"))
    assert started.changed and started.data["backup"]["state"] == "running"

    short = Context(api=no_wait.api, wait=WaitOptions(timeout=0.2, poll_interval=0.05, first_interval=0.01))
    with pytest.raises(OperationTimeoutError) as info:
        capture_backup(short, BackupRequest("shop", max_age="1h"))
    assert "b001" in info.value.resource and (info.value.last_status or "").startswith("Running")
    assert len(transfers(shop)) == 1

    shop.admin("POST", "clock/advance", json={"seconds": 3601})
    done = capture_backup(context(shop), BackupRequest("shop", max_age="2h"))
    assert not done.changed and done.data["backup"]["state"] == "completed"
    assert len(transfers(shop)) == 1


def test_signed_url_is_masked_unless_revealed(shop: RunningSandbox) -> None:
    masked = capture_backup(context(shop), BackupRequest("shop", url=True))
    assert masked.data["url"] == "********" and masked.data["url_expires_at"]
    shown = capture_backup(context(shop), BackupRequest("shop", backup_id="b001", url=True, reveal=True))
    assert not shown.changed
    url = shown.data["url"]
    assert url.startswith(shop.url) and "signature=" in url
    body = httpx.get(url).content  # no auth header: the signature is the credential
    assert len(body) == transfers(shop)[0]["processed_bytes"]


def test_check_mode_url_of_a_backup_to_be_captured_is_null(shop: RunningSandbox) -> None:
    result = capture_backup(context(shop, check_mode=True), BackupRequest("shop", url=True))
    assert result.changed and result.data["url"] is None


def test_download_is_atomic_checked_and_idempotent(shop: RunningSandbox, tmp_path: Path) -> None:
    tmp_path = tmp_path / "downloads"
    tmp_path.mkdir()
    dest = tmp_path / "shop.dump"
    planned = capture_backup(context(shop, check_mode=True), BackupRequest("shop", dest=str(dest)))
    assert planned.changed and not dest.exists()
    assert [r.method for r in planned.requests] == ["POST", "GET"]

    got = capture_backup(context(shop), BackupRequest("shop", max_age="1h", dest=str(dest)))
    record = transfers(shop)[0]
    artifact = shop.state_dir / "backups" / record["artifact"]
    assert dest.read_bytes() == artifact.read_bytes()
    download = got.data["download"]
    assert download["size"] == record["processed_bytes"] == dest.stat().st_size
    # The memory engine's dump is not a pg_dump archive: say so rather than pretend.
    assert download["validated"] is False and "not a pg_dump" in download["validation"]
    # no temp file left behind; the stamp says which backup the file is
    assert sorted(p.name for p in tmp_path.iterdir()) == [".shop.dump.herokupg.json", "shop.dump"]

    for check_mode in (True, False):
        again = capture_backup(
            context(shop, check_mode=check_mode), BackupRequest("shop", max_age="1h", dest=str(dest))
        )
        assert not again.changed and again.requests == []

    into_dir = BackupRequest("shop", backup_id="b001", dest=str(tmp_path), force_download=True)
    forced = capture_backup(context(shop), into_dir)
    assert forced.changed and (tmp_path / "b001.dump").read_bytes() == artifact.read_bytes()


def test_download_into_a_missing_directory_fails_first(shop: RunningSandbox, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        capture_backup(context(shop), BackupRequest("shop", dest=str(tmp_path / "nope" / "x.dump")))
    assert transfers(shop) == []


def test_delete_needs_confirmation_and_is_idempotent(shop: RunningSandbox) -> None:
    capture_backup(context(shop), BackupRequest("shop"))
    for confirm in (None, "other"):
        with pytest.raises(ConfirmationRequiredError, match="confirm: shop"):
            delete_backup(context(shop), "shop", "b001", confirm)
    with pytest.raises(ValidationError, match="Invalid backup id"):
        delete_backup(context(shop), "shop", "x001", "shop")
    assert len(transfers(shop)) == 1

    checked = delete_backup(context(shop, check_mode=True), "shop", "b001", "shop")
    assert checked.changed and checked.after == {"backups": []} and checked.before == {"backups": ["b001"]}
    assert len(transfers(shop)) == 1

    deleted = delete_backup(context(shop), "shop", "b001", "shop")
    assert deleted.changed and [r.method for r in deleted.requests] == ["DELETE"]
    assert transfers(shop) == [] and transfers(shop, live=False)[0]["deleted_at"] is not None

    for check_mode in (True, False):
        again = delete_backup(context(shop, check_mode=check_mode), "shop", "b001", "shop")
        assert not again.changed and again.data["backup"] is None


def test_unknown_backup_id_fails(shop: RunningSandbox) -> None:
    with pytest.raises(Exception, match="b042 not found"):
        capture_backup(context(shop), BackupRequest("shop", backup_id="b042", url=True))
    with pytest.raises(ValidationError, match="cannot be used with id"):
        capture_backup(context(shop), BackupRequest("shop", backup_id="b001", max_age="1h"))


@pytest.mark.skipif(shutil.which("pg_restore") is None, reason="needs pg_restore")
def test_a_corrupt_pg_dump_archive_is_rejected_and_not_kept(shop: RunningSandbox, tmp_path: Path) -> None:
    capture_backup(context(shop), BackupRequest("shop"))
    record = transfers(shop)[0]
    artifact = shop.state_dir / "backups" / record["artifact"]
    # Same size as recorded, pg_dump's magic bytes, garbage after: only pg_restore can tell.
    artifact.write_bytes(b"PGDMP" + b"\0" * (record["processed_bytes"] - 5))
    dest = tmp_path / "out" / "b001.dump"
    dest.parent.mkdir()
    with pytest.raises(DownloadError, match="not a readable archive"):
        capture_backup(context(shop), BackupRequest("shop", backup_id="b001", dest=str(dest)))
    assert list(dest.parent.iterdir()) == []
