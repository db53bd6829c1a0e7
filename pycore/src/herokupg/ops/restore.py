"""``pg:backups:restore``: load a backup (by name, another app's, the latest, or a URL) into a database.

A restore is an action, reported changed every time, unless ``once`` is set and the newest
successful restore into that database came from the same backup. With ``once``, a restore from the
same backup still running is waited for instead of started again (a rerun after a timeout).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from herokupg.errors import NotFoundError, ValidationError
from herokupg.models import Transfer
from herokupg.ops.base import Context, PlannedRequest, Result, require_confirmation
from herokupg.ops.transfers_common import (
    DatabaseMatcher,
    bare_url,
    check_backup_id,
    describe_transfer,
    newest,
    wait_for_transfer,
)
from herokupg.redact import redact
from herokupg.resolve import DEFAULT_IDENTIFIER, resolve_database

LATEST = "latest"
_URL = re.compile(r"^https?://", re.I)


@dataclass(frozen=True)
class BackupSpec:
    """What the user named: ``url``, or a backup ``name`` (or ``latest``) of ``app``."""

    app: str
    name: str | None = None
    url: str | None = None

    @property
    def label(self) -> str:
        if self.url is not None:
            return redact(bare_url(self.url))
        return f"{self.app}::{self.name}"


@dataclass(frozen=True)
class Source:
    spec: BackupSpec
    url: str  # the backup_url sent to the API
    backup: Transfer | None  # None for a URL


def dropbox_url(url: str) -> str:
    """The CLI makes Dropbox share links download directly (``dl=1``)."""
    if re.match(r"^https?://www\.dropbox\.com", url) and not url.endswith("dl=1"):
        if url.endswith("dl=0"):
            return url.replace("dl=0", "dl=1")
        return url + ("&dl=1" if "?" in url else "?dl=1")
    return url


def parse_backup_spec(app: str, backup: str | None) -> BackupSpec:
    """Validate ``backup`` before any request: ``latest``, ``b001``, ``otherapp::b005``, or a URL."""
    text = (backup or LATEST).strip()
    if _URL.match(text):
        return BackupSpec(app, url=dropbox_url(text))
    other, sep, name = text.rpartition("::")
    if sep and not other:
        raise ValidationError(f"Invalid backup {text!r}: expected otherapp::b001.")
    if name != LATEST:
        check_backup_id(name)
    return BackupSpec(other or app, name=name)


def find_source(ctx: Context, spec: BackupSpec) -> Source:
    """The backup a spec names; like the CLI, it must be a backup that succeeded."""
    if spec.url is not None:
        return Source(spec, spec.url, None)
    backups = [t for t in ctx.reads.list_transfers(spec.app) if t.is_backup]
    if spec.name == LATEST:
        found = newest([t for t in backups if t.succeeded], "finished_at")
        if found is None:
            message = f"No backups for {spec.app}. Capture one with heroku_pg_backup."
            raise NotFoundError(message, status=404, error_id="not_found")
    else:
        found = next((t for t in backups if t.name == spec.name), None)
        if found is None:
            message = f"Backup {spec.name} not found for {spec.app}"
            raise NotFoundError(message, status=404, error_id="not_found")
        if not found.succeeded:
            raise ValidationError(f"Backup {spec.name} for {spec.app} did not complete successfully")
    if not found.to_url:
        raise ValidationError(f"Backup {found.name} of {spec.app} has no stored dump (to_url) to restore.")
    return Source(spec, found.to_url, found)


def _same_source(t: Transfer, source: Source) -> bool:
    if t.from_url:
        return bare_url(t.from_url) == bare_url(source.url)
    return source.backup is not None and t.from_name == source.backup.name


def _summary(t: Transfer | None) -> dict[str, Any]:
    return {"latest_restore": {"name": t.name, "from": t.from_name} if t else None}


def restore_backup(
    ctx: Context,
    app: str,
    database: str | None = None,
    *,
    backup: str | None = None,
    confirm: str | None = None,
    once: bool = False,
    extensions: list[str] | None = None,
) -> Result:
    spec = parse_backup_spec(app, backup)
    target_name = database or DEFAULT_IDENTIFIER
    require_confirmation(app, confirm, f"Restoring into {target_name} of {app} replaces all of its data and")
    db = resolve_database(ctx.reads, app, target_name)
    source = find_source(ctx, spec)
    billing = db.billing_app or app
    matcher = DatabaseMatcher.of(db, ctx.reads.config_vars(db.app).get(db.config_var))
    restores = [t for t in ctx.reads.list_transfers(billing) if t.kind == "restore" and matcher.target_of(t)]
    last = newest([t for t in restores if t.succeeded], "finished_at")
    result = Result(before=_summary(last))
    result.data["source"] = spec.label
    result.data["source_backup"] = source.backup.name if source.backup else None
    running = newest([t for t in restores if not t.finished and _same_source(t, source)], "created_at")
    if once and running is not None:
        result.warnings.append(f"Restore {running.name} from {spec.label} is already running; waiting.")
        restore: Transfer | None = running
    elif once and last is not None and _same_source(last, source):
        restore = last
    else:
        body: dict[str, Any] = {"backup_url": "<backup URL>"}
        if extensions:
            body["extensions"] = sorted({e.strip().lower() for e in extensions if e.strip()})
        planned = PlannedRequest(
            "POST", f"/client/v11/databases/{db.addon_id}/restores", body,
            f"restore {spec.label} into {db.attachment.name} ({db.addon_name})",
        )
        restore = ctx.write(
            result, planned, lambda: ctx.api.restore(db.addon_id, source.url, extensions=extensions)
        )
    if restore is not None:
        restore = wait_for_transfer(ctx, billing, restore, "Restore")
    planned_restore = {"latest_restore": {"name": "(new restore)", "from": spec.label}}
    result.after = _summary(restore) if restore else planned_restore
    result.data["restore"] = describe_transfer(restore, billing) if restore else None
    return result
