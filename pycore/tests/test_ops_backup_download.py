"""Downloads are identified by the backup, not by the file's size: ``latest.dump`` in a directory
``dest`` is always the newest backup's bytes, even when a new backup has the old one's size (a
quiet database), and a file is kept only when it is that very backup (name, transfer id, size and
SHA-256 recorded next to it when it was downloaded)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from backup_helpers import context, transfers
from herokupg_sandbox.threaded import RunningSandbox, seed_app, seed_database

from herokupg.ops.backups import BackupRequest, capture_backup


@pytest.fixture
def shop(sandbox: RunningSandbox) -> RunningSandbox:
    seed_app(sandbox, "shop")
    addon = seed_database(sandbox, "shop")
    sandbox.admin("POST", f"databases/{addon['id']}/writes", json={"table": "t", "rows": ["x"]})
    return sandbox


def artifact(sandbox: RunningSandbox, name: str) -> bytes:
    record = next(t for t in transfers(sandbox) if t["num"] == int(name[1:]))
    return (sandbox.state_dir / "backups" / record["artifact"]).read_bytes()


def restore_b001(sandbox: RunningSandbox) -> None:
    """Load b001 back (as r002): the same tables, one commit more, so the next dump (b003) has
    b001's size and other bytes."""
    addon = next(a for a in sandbox.admin("GET", "state")["addons"].values())
    signed = sandbox.admin("GET", "state")  # the stored dump's location, as a restore names it
    location = next(t["to_url"] for t in signed["transfers"].values() if t["num"] == 1)
    with sandbox.http() as http:
        response = http.post(f"/client/v11/databases/{addon['id']}/restores", json={"backup_url": location})
        assert response.status_code == 201, response.text


def test_latest_is_the_newest_backup_even_at_the_same_size(shop: RunningSandbox, tmp_path: Path) -> None:
    folder = tmp_path / "nightly"
    folder.mkdir()
    latest = folder / "latest.dump"
    first = capture_backup(context(shop), BackupRequest("shop", dest=str(folder)))
    assert first.data["download"]["path"] == str(latest)
    assert latest.read_bytes() == artifact(shop, "b001")

    restore_b001(shop)
    second = capture_backup(context(shop), BackupRequest("shop", dest=str(folder)))
    assert second.data["backup"]["name"] == "b003"
    assert len(artifact(shop, "b003")) == len(artifact(shop, "b001"))  # the case that was kept before
    assert artifact(shop, "b003") != artifact(shop, "b001")
    assert latest.read_bytes() == artifact(shop, "b003")
    assert second.data["download"]["backup"] == "b003"
    assert second.data["download"]["sha256"] == hashlib.sha256(artifact(shop, "b003")).hexdigest()
    assert sorted(p.name for p in folder.iterdir()) == [".latest.dump.herokupg.json", "latest.dump"]
    recorded = json.loads((folder / ".latest.dump.herokupg.json").read_text())
    assert recorded["backup"] == "b003" and recorded["size"] == len(artifact(shop, "b003"))


def test_the_same_backup_is_kept_and_a_changed_file_is_not(shop: RunningSandbox, tmp_path: Path) -> None:
    dest = tmp_path / "shop.dump"
    capture_backup(context(shop), BackupRequest("shop", max_age="1h", dest=str(dest)))
    for check_mode in (True, False):
        request = BackupRequest("shop", max_age="1h", dest=str(dest))
        again = capture_backup(context(shop, check_mode=check_mode), request)
        assert not again.changed and again.requests == []
        assert "kept" in again.data["download"]["validation"]

    dest.write_bytes(bytes(reversed(dest.read_bytes())))  # same size, other bytes
    request = BackupRequest("shop", max_age="1h", dest=str(dest))
    planned = capture_backup(context(shop, check_mode=True), request)
    assert planned.changed and [r.method for r in planned.requests] == ["GET"]
    fixed = capture_backup(context(shop), request)
    assert fixed.changed and dest.read_bytes() == artifact(shop, "b001")


def test_a_named_backup_goes_to_its_own_file(shop: RunningSandbox, tmp_path: Path) -> None:
    capture_backup(context(shop), BackupRequest("shop", dest=str(tmp_path)))
    restore_b001(shop)
    capture_backup(context(shop), BackupRequest("shop", dest=str(tmp_path)))
    old = capture_backup(context(shop), BackupRequest("shop", backup_id="b001", dest=str(tmp_path)))
    assert old.data["download"]["path"] == str(tmp_path / "b001.dump")
    assert (tmp_path / "b001.dump").read_bytes() == artifact(shop, "b001")
    assert (tmp_path / "latest.dump").read_bytes() == artifact(shop, "b003")  # still the newest
