"""restore_backup against the real sandbox: confirmation first, check mode predicts, `once` makes
reruns unchanged, other apps' backups and URLs work, failures carry the logs."""

from __future__ import annotations

import pytest
from backup_helpers import context, transfers
from herokupg_sandbox.threaded import RunningSandbox, seed_app, seed_database

from herokupg.errors import ConfirmationRequiredError, NotFoundError, TransferFailedError, ValidationError
from herokupg.ops.backups import BackupRequest, capture_backup
from herokupg.ops.restore import restore_backup


@pytest.fixture
def shop(sandbox: RunningSandbox) -> RunningSandbox:
    seed_app(sandbox, "shop")
    seed_database(sandbox, "shop")
    capture_backup(context(sandbox), BackupRequest("shop"))
    return sandbox


def restores(sb: RunningSandbox) -> list[dict[str, object]]:
    return [t for t in transfers(sb) if t["to_type"] == "pg_restore"]


@pytest.mark.parametrize("confirm", [None, "", "other"])
def test_confirmation_is_required_and_checked_first(shop: RunningSandbox, confirm: str | None) -> None:
    with pytest.raises(ConfirmationRequiredError, match="confirm: shop"):
        restore_backup(context(shop), "shop", backup="b001", confirm=confirm)
    assert restores(shop) == []


def test_check_mode_then_real_then_once(shop: RunningSandbox) -> None:
    checked = restore_backup(context(shop, check_mode=True), "shop", confirm="shop")
    assert checked.changed and checked.data["restore"] is None and checked.data["source_backup"] == "b001"
    assert [(r.method, r.path.endswith("/restores")) for r in checked.requests] == [("POST", True)]
    assert restores(shop) == []

    done = restore_backup(context(shop), "shop", confirm="shop", once=True)
    assert done.changed and done.data["restore"]["name"] == "r002" and done.data["restore"]["succeeded"]
    [record] = restores(shop)
    backup = transfers(shop)[0]
    assert record["succeeded"] and record["from_url"] == backup["to_url"]
    assert done.before == {"latest_restore": None}
    assert done.after == {"latest_restore": {"name": "r002", "from": "b001"}}

    for check_mode in (True, False):
        ctx = context(shop, check_mode=check_mode)
        again = restore_backup(ctx, "shop", backup="b001", confirm="shop", once=True)
        assert not again.changed and again.requests == []
    assert len(restores(shop)) == 1

    # Without `once` a restore is an action: it runs again.
    forced = restore_backup(context(shop), "shop", backup="b001", confirm="shop")
    assert forced.changed and len(restores(shop)) == 2


def test_once_restores_a_newer_latest_backup(shop: RunningSandbox) -> None:
    restore_backup(context(shop), "shop", confirm="shop", once=True)
    capture_backup(context(shop), BackupRequest("shop"))  # b003 is now the latest
    checked = restore_backup(context(shop, check_mode=True), "shop", confirm="shop", once=True)
    assert checked.changed and checked.data["source_backup"] == "b003"
    done = restore_backup(context(shop), "shop", confirm="shop", once=True)
    assert done.changed and done.data["restore"]["source"] == "b003"
    assert len(restores(shop)) == 2


def test_restore_from_another_apps_backup_and_from_a_url(shop: RunningSandbox) -> None:
    seed_app(shop, "staging")
    seed_database(shop, "staging")
    done = restore_backup(context(shop), "staging", backup="shop::b001", confirm="staging", once=True)
    assert done.changed and done.data["source"] == "shop::b001"
    [backup] = [t for t in transfers(shop) if t["to_type"] == "gof3r"]
    [restore] = restores(shop)
    assert restore["succeeded"] and restore["from_url"] == backup["to_url"]
    assert restore["app_id"] != backup["app_id"]  # numbered under the target's app

    # From a URL: a signed URL of that backup (the sandbox serves it). `once` compares the URL
    # without its signature, so a freshly signed URL of the same file is the same source.
    def signed_url() -> str:
        signed = capture_backup(context(shop), BackupRequest("shop", backup_id="b001", url=True, reveal=True))
        url: str = signed.data["url"]
        return url

    by_url = restore_backup(context(shop), "staging", backup=signed_url(), confirm="staging", once=True)
    assert by_url.changed and by_url.data["restore"]["succeeded"]
    assert "signature" not in by_url.data["source"] and by_url.data["source_backup"] is None
    shop.admin("POST", "clock/advance", json={"seconds": 5})  # a different expiry, so a different URL
    again = restore_backup(context(shop), "staging", backup=signed_url(), confirm="staging", once=True)
    assert not again.changed
    assert len(restores(shop)) == 2


def test_a_failed_restore_fails_with_its_logs(shop: RunningSandbox) -> None:
    shop.admin("POST", "faults", json={"kind": "transfer_failure", "path": "/restores$", "remaining": 1})
    with pytest.raises(TransferFailedError) as info:
        restore_backup(context(shop), "shop", confirm="shop", once=True)
    assert info.value.transfer == "r002" and any("pg_restore" in line for line in info.value.logs)
    [record] = restores(shop)
    assert not record["succeeded"] and record["finished_at"] is not None
    # A failed restore does not count for `once`.
    rerun = restore_backup(context(shop), "shop", confirm="shop", once=True)
    assert rerun.changed and rerun.data["restore"]["succeeded"]


def test_bad_backup_names(shop: RunningSandbox) -> None:
    for bad in ("x001", "b", "::b001", "shop::nope"):
        with pytest.raises(ValidationError):
            restore_backup(context(shop), "shop", backup=bad, confirm="shop")
    with pytest.raises(NotFoundError, match="b099 not found"):
        restore_backup(context(shop), "shop", backup="b099", confirm="shop")
    shop.admin("POST", "faults", json={"kind": "transfer_failure", "path": "/backups$", "remaining": 1})
    with pytest.raises(TransferFailedError):
        capture_backup(context(shop), BackupRequest("shop"))
    with pytest.raises(ValidationError, match="did not complete"):
        restore_backup(context(shop), "shop", backup="b002", confirm="shop")
    assert restores(shop) == []


def test_latest_without_backups(sandbox: RunningSandbox) -> None:
    seed_app(sandbox, "empty")
    seed_database(sandbox, "empty")
    with pytest.raises(NotFoundError, match="No backups for empty"):
        restore_backup(context(sandbox), "empty", confirm="empty")
