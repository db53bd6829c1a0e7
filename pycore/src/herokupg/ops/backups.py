"""Capture (``pg:backups:capture``), delete, sign (``pg:backups:url``) and download backups.

Capturing is an action, so it always changes something, unless ``max_age`` says a recent enough
successful backup of the database is as good: then that one is used (and a backup of the database
still running is waited for rather than started twice, so a rerun after a timeout goes on waiting).

Runs with ``max_age`` started together must not each capture: on one machine they take turns
(ops/locks.py) from looking at the backups to starting the capture, so the next one finds the
capture running and waits for it; a capture another machine started at the same moment is found
right after ours started, and the later of the two (by number) is cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from herokupg.download import BackupIdentity, Downloaded, already_there, download, target_path
from herokupg.errors import APIError, NotFoundError, ValidationError
from herokupg.models import DatabaseInfo, Transfer
from herokupg.ops.base import Context, PlannedRequest, Result, require_confirmation
from herokupg.ops.locks import turn
from herokupg.ops.transfers_common import (
    DatabaseMatcher,
    check_backup_id,
    describe_transfer,
    newest,
    parse_duration,
    parse_time,
    sort_newest_first,
    wait_for_transfer,
)
from herokupg.redact import MASK
from herokupg.resolve import DEFAULT_IDENTIFIER, ResolvedDatabase, resolve_database


@dataclass(frozen=True)
class BackupRequest:
    app: str
    database: str | None = None
    backup_id: str | None = None  # use this existing backup instead of capturing one
    max_age: str | None = None
    url: bool = False
    reveal: bool = False  # return the signed URL itself rather than a mask
    dest: str | None = None
    force_download: bool = False
    now: datetime | None = None  # the reference time for max_age (tests); default: the clock

    def validated(self) -> tuple[float | None, Path | None]:
        """Check every input before any request: (max_age seconds, download path)."""
        if self.backup_id is not None:
            check_backup_id(self.backup_id)
            if self.max_age is not None:
                raise ValidationError("max_age applies to capturing a backup; it cannot be used with id.")
        age = parse_duration(self.max_age) if self.max_age is not None else None
        # A captured (or reused) backup is the database's newest: "latest"; a named one keeps its name.
        default_name = f"{self.backup_id}.dump" if self.backup_id else "latest.dump"
        path = target_path(self.dest, default_name) if self.dest else None
        return age, path


def _names(transfers: list[Transfer]) -> list[str]:
    return [t.name for t in sort_newest_first(transfers)]


def _check_provisioned(ctx: Context, db: ResolvedDatabase, result: Result) -> DatabaseInfo:
    """As the CLI does before capturing: a 404 means the database is not provisioned yet."""
    info = ctx.reads.database(db.addon_id)
    if info is None:
        raise ValidationError(
            f"{db.addon_name} is not yet provisioned; wait for it (heroku_pg_info) and run again."
        )
    if "On" in "".join(info.info_value("Continuous Protection")):
        result.warnings.append(
            "Continuous protection is already enabled for this database. Logical backups of large "
            "databases are likely to fail."
        )
    return info


def _reusable(backups: list[Transfer], max_age: float, now: datetime) -> Transfer | None:
    """The newest backup started within ``max_age`` that succeeded or is still running."""
    cutoff = now - timedelta(seconds=max_age)
    recent = [
        t
        for t in backups
        if (t.succeeded or not t.finished)
        and (started := parse_time(t.started_at or t.created_at)) is not None
        and started > cutoff
    ]
    return newest(recent, "created_at")


def _deliver(
    ctx: Context, req: BackupRequest, app: str, target: Transfer | None, path: Path | None, result: Result
) -> None:
    """Add the signed URL and/or the download of ``target`` (None: captured in check mode)."""
    if not req.url and path is None:
        return
    signed = ctx.api.public_url(app, target.num) if target is not None and target.num is not None else None
    if req.url:
        result.data["url"] = (signed.url if req.reveal else MASK) if signed else None
        result.data["url_expires_at"] = signed.expires_at if signed else None
    if path is None:
        return
    expected = target.processed_bytes if target else None
    identity = None
    if target is not None and target.name:
        identity = BackupIdentity(app, target.name, target.uuid, target.processed_bytes or 0)
    kept = already_there(path, identity) if identity is not None and not req.force_download else None
    if kept is not None:
        result.data["download"] = kept.as_dict()
        return
    name = target.name if target else "the new backup"
    planned = PlannedRequest("GET", f"<signed URL of {name}>", None, f"download {name} to {path}")

    def fetch() -> Downloaded | None:
        if signed is None:
            return None
        return download(ctx.api.client, signed.url, path, expected_size=expected, identity=identity)

    got = ctx.write(result, planned, fetch)
    planned_only = Downloaded(str(path), expected or 0, False, "check mode: not downloaded")
    result.data["download"] = (got or planned_only).as_dict()


def _use_existing(ctx: Context, req: BackupRequest, path: Path | None) -> Result:
    """``id`` given: sign and/or download that backup of ``app``; nothing is captured."""
    assert req.backup_id is not None
    result = Result()
    transfers = ctx.reads.list_transfers(req.app)
    found = next((t for t in transfers if t.name == req.backup_id), None)
    if found is None or not found.is_backup:
        message = f"Backup {req.backup_id} not found for {req.app}"
        raise NotFoundError(message, status=404, error_id="not_found")
    found = wait_for_transfer(ctx, req.app, found, "Backup")
    result.data["backup"] = describe_transfer(found, req.app)
    _deliver(ctx, req, req.app, found if found.succeeded else None, path, result)
    return result


def capture_backup(ctx: Context, req: BackupRequest) -> Result:
    """``state: present``: make sure a (recent enough) backup of the database exists."""
    max_age, path = req.validated()
    if req.backup_id is not None:
        return _use_existing(ctx, req, path)
    result = Result()
    db = resolve_database(ctx.reads, req.app, req.database or DEFAULT_IDENTIFIER)
    billing = db.billing_app or req.app
    info = _check_provisioned(ctx, db, result)
    matcher = DatabaseMatcher.of(db, info.resource_url)
    now = req.now or datetime.now(UTC)
    if max_age is None:
        target = _capture(ctx, result, db, billing, matcher, None, now)
    else:
        with turn(ctx, f"{ctx.api.client.data_api_url}|{db.addon_id}", f"the backups of {db.addon_name}"):
            target = _capture(ctx, result, db, billing, matcher, max_age, now)
    if target is not None:
        target = wait_for_transfer(ctx, billing, target, "Backup")
    result.data["backup"] = describe_transfer(target, billing) if target else None
    _deliver(ctx, req, billing, target if target is not None and target.succeeded else None, path, result)
    return result


def _capture(
    ctx: Context,
    result: Result,
    db: ResolvedDatabase,
    billing: str,
    matcher: DatabaseMatcher,
    max_age: float | None,
    now: datetime,
) -> Transfer | None:
    """A fresh backup to use (running or done), else a capture started now (None in check mode)."""
    backups = [t for t in ctx.reads.list_transfers(billing) if t.is_backup and matcher.source_of(t)]
    result.before = {"backups": _names(backups)}
    fresh = _reusable(backups, max_age, now) if max_age is not None else None
    if fresh is not None:
        result.after = result.before
        return fresh
    planned = PlannedRequest("POST", f"/client/v11/databases/{db.addon_id}/backups", None,
                             f"capture a backup of {db.attachment.name} ({db.addon_name})")
    captured = ctx.write(result, planned, lambda: ctx.api.capture(db.addon_id))
    result.after = {"backups": [captured.name if captured else "(new backup)", *result.before["backups"]]}
    if captured is None or max_age is None:
        return captured
    return _settle(ctx, result, billing, matcher, {t.uuid for t in backups}, captured, max_age, now)


def _settle(
    ctx: Context,
    result: Result,
    app: str,
    matcher: DatabaseMatcher,
    seen: set[str | None],
    ours: Transfer,
    max_age: float,
    now: datetime,
) -> Transfer:
    """Another controller may have captured the same database at the same moment: the earlier
    capture (lower number) is the one both use; ours, if later, is cancelled."""
    ctx.reads.forget()
    others = [
        t
        for t in ctx.reads.list_transfers(app)
        if t.is_backup and matcher.source_of(t) and t.uuid not in seen and t.uuid != ours.uuid
        and (t.num or 0) < (ours.num or 0)
    ]
    earlier = _reusable(others, max_age, now)
    if earlier is None or ours.uuid is None:
        return ours
    uuid = ours.uuid
    request = PlannedRequest("POST", f"/client/v11/apps/{app}/transfers/{uuid}/actions/cancel", None,
                             f"cancel {ours.name}: {earlier.name} of the same database started first")
    try:
        ctx.write(result, request, lambda: ctx.api.cancel_transfer(app, uuid))
    except APIError as exc:
        if exc.status is None or not 400 <= exc.status < 500:
            raise
        result.warnings.append(
            f"{earlier.name} and {ours.name} of the same database were started at the same time (another "
            f"run elsewhere); {ours.name} could not be cancelled ({exc.message}) and is used."
        )
        return ours
    result.warnings.append(
        f"{earlier.name} of the same database was started at the same time as {ours.name} (another run "
        f"elsewhere): {ours.name} was cancelled and {earlier.name} is used."
    )
    before = result.before["backups"] if result.before else []
    result.after = {"backups": [*_names([ours, earlier]), *before]}
    return earlier


def delete_backup(ctx: Context, app: str, backup_id: str | None, confirm: str | None) -> Result:
    """``state: absent``: delete backup ``backup_id`` of ``app``; already gone is unchanged."""
    if not backup_id:
        raise ValidationError("Deleting a backup needs its id (for example b001).")
    check_backup_id(backup_id)
    require_confirmation(app, confirm, f"Deleting backup {backup_id} of {app}")
    result = Result()
    backups = [t for t in ctx.reads.list_transfers(app) if t.is_backup]
    result.before = {"backups": _names(backups)}
    found = next((t for t in backups if t.name == backup_id), None)
    if found is None:
        result.after = result.before
        result.data["backup"] = None
        return result
    if not found.finished or found.num is None:
        raise ValidationError(f"Backup {backup_id} of {app} is still running; it cannot be deleted yet.")
    num = found.num
    planned = PlannedRequest("DELETE", f"/client/v11/apps/{app}/transfers/{num}", None, f"delete {backup_id}")
    ctx.write(result, planned, lambda: ctx.api.delete_transfer(app, num))
    result.after = {"backups": [n for n in result.before["backups"] if n != backup_id]}
    result.data["backup"] = describe_transfer(found, app)
    return result

