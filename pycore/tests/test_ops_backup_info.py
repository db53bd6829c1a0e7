"""backup_info against the real sandbox: names, kinds, filters, per-database selection, no URLs."""

from __future__ import annotations

import json

import pytest
from backup_helpers import context, transfers
from herokupg_sandbox.threaded import RunningSandbox, seed_app, seed_database

from herokupg.errors import ValidationError
from herokupg.ops.backup_info import backup_info
from herokupg.ops.backups import BackupRequest, capture_backup
from herokupg.ops.restore import restore_backup


@pytest.fixture
def busy(sandbox: RunningSandbox) -> RunningSandbox:
    """shop: b001 (DATABASE), b002 (REPORTING), b003 failed (DATABASE), r004 (b001 -> REPORTING)."""
    seed_app(sandbox, "shop")
    seed_database(sandbox, "shop")
    seed_database(sandbox, "shop", attachment="REPORTING")
    ctx = context(sandbox)
    capture_backup(ctx, BackupRequest("shop"))
    capture_backup(ctx, BackupRequest("shop", "REPORTING"))
    sandbox.admin("POST", "faults", json={"kind": "transfer_failure", "path": "/backups$", "remaining": 1})
    with pytest.raises(Exception, match="b003"):
        capture_backup(ctx, BackupRequest("shop"))
    restore_backup(ctx, "shop", "REPORTING", backup="b001", confirm="shop")
    return sandbox


def names(result_data: dict[str, list[dict[str, object]]]) -> list[object]:
    return [t["name"] for t in result_data["transfers"]]


def test_lists_everything_newest_first(busy: RunningSandbox) -> None:
    result = backup_info(context(busy), "shop")
    assert not result.changed and result.requests == []
    assert names(result.data) == ["r004", "b003", "b002", "b001"]
    assert len(transfers(busy)) == 4
    by_name = {t["name"]: t for t in result.data["transfers"]}
    assert by_name["r004"]["kind"] == "restore" and by_name["r004"]["database"] == "REPORTING"
    assert by_name["r004"]["source"] == "b001"
    assert by_name["b003"]["state"] == "failed" and by_name["b003"]["status"].startswith("Failed")
    assert by_name["b001"]["succeeded"] and by_name["b001"]["size"].endswith("B")
    assert "postgres://" not in json.dumps(result.data) and "/_sandbox/" not in json.dumps(result.data)


def test_filters(busy: RunningSandbox) -> None:
    ctx = context(busy)
    assert names(backup_info(ctx, "shop", kind="backup").data) == ["b003", "b002", "b001"]
    assert names(backup_info(ctx, "shop", kind="restore").data) == ["r004"]
    assert names(backup_info(ctx, "shop", kind="copy").data) == []
    assert names(backup_info(ctx, "shop", kind="backup", succeeded=True).data) == ["b002", "b001"]
    assert names(backup_info(ctx, "shop", succeeded=False).data) == ["b003"]
    assert names(backup_info(ctx, "shop", kind="backup", succeeded=True, latest=True).data) == ["b002"]


def test_database_filter(busy: RunningSandbox) -> None:
    ctx = context(busy)
    assert names(backup_info(ctx, "shop", database="DATABASE_URL").data) == ["b003", "b001"]
    assert names(backup_info(ctx, "shop", database="REPORTING").data) == ["r004", "b002"]
    latest = backup_info(ctx, "shop", database="DATABASE", kind="backup", succeeded=True, latest=True)
    assert names(latest.data) == ["b001"]


def test_bad_kind_and_unknown_database(busy: RunningSandbox) -> None:
    with pytest.raises(ValidationError):
        backup_info(context(busy), "shop", kind="dump")  # type: ignore[arg-type]
    with pytest.raises(Exception, match="NOPE"):
        backup_info(context(busy), "shop", database="NOPE")
