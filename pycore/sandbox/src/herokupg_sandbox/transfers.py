"""PGBackups: captures, restores, public URLs, cancel/delete and retention.

Transfers are numbered per app (the database's billing app) and named by the CLI from their
types: ``pg_dump -> gof3r`` is a backup (``a###`` when scheduled, ``b###`` otherwise),
``gof3r|htcat -> pg_restore`` a restore (``r###``). Dumps are files under ``<state>/backups``;
``to_url`` names that storage location and restores accept it, a signed public URL, or any
http(s) URL the sandbox can read.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from herokupg_sandbox import provider
from herokupg_sandbox.bodies import RestoreCreate, parse
from herokupg_sandbox.engine import EngineError, TransferResult
from herokupg_sandbox.http import HerokuHTTPError, bad_request, json_response, not_found, paginate, read_json
from herokupg_sandbox.private import open_private, private_dir, private_file, write_private
from herokupg_sandbox.state import Addon, App, Schedule, Transfer, new_id, transfer_time

if TYPE_CHECKING:
    from herokupg_sandbox.server import Sandbox

BACKUP_DIR = "backups"
SECRET_FILE = "public_url_secret"
MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Retention:
    manual: int
    daily: int
    weekly: int
    monthly: int


# Dev Center's retention limits, by tier (one table, used for num_keep and expiry).
RETENTION = {
    "essential": Retention(manual=5, daily=7, weekly=0, monthly=0),
    "legacy": Retention(manual=5, daily=7, weekly=0, monthly=0),
    "standard": Retention(manual=25, daily=7, weekly=1, monthly=0),
    "premium": Retention(manual=50, daily=7, weekly=8, monthly=12),
    "private": Retention(manual=50, daily=7, weekly=8, monthly=12),
    "shield": Retention(manual=50, daily=7, weekly=8, monthly=12),
}

# Jobs of a blocking engine still running in this process (lost on restart -> the transfer fails).
_running: weakref.WeakKeyDictionary[Sandbox, set[str]] = weakref.WeakKeyDictionary()
_INTERRUPTED = "The transfer was interrupted before it finished."


def retention(addon: Addon) -> Retention:
    return RETENTION[provider.tier(addon.plan_suffix).name]


def backup_dir(sb: Sandbox) -> Path:
    """Where dumps are kept: whole databases, so the owner's alone (files 0600 too)."""
    return private_dir(sb.store.state_dir / BACKUP_DIR)


def delete_dump_files(sb: Sandbox) -> int:
    """Remove every file under the backup dir (dumps, partial downloads); returns how many."""
    root = sb.store.state_dir / BACKUP_DIR
    if not root.is_dir():
        return 0
    removed = 0
    for path in sorted(root.rglob("*"), reverse=True):  # files before their directories
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def is_backup(t: Transfer) -> bool:
    return t.from_type == "pg_dump" and t.to_type == "gof3r"


def transfer_name(t: Transfer) -> str:
    if t.options.get("pgbackups_name"):
        return f"o{t.options['pgbackups_name']}"
    if t.from_type == "pg_dump":
        prefix = "c" if t.to_type == "pg_restore" else ("a" if t.schedule_uuid else "b")
    else:
        prefix = "r" if t.to_type == "pg_restore" else "b"
    return f"{prefix}{t.num:03d}"


def render(sb: Sandbox, t: Transfer, *, verbose: bool = False) -> dict[str, Any]:
    addon = sb.store.state.addons.get(t.addon_id)
    keep = retention(addon) if addon else RETENTION["standard"]
    body: dict[str, Any] = {
        "uuid": t.uuid,
        "num": t.num,
        "from_name": t.from_name,
        "from_type": t.from_type,
        "from_url": t.from_url,
        "to_name": t.to_name,
        "to_type": t.to_type,
        "to_url": t.to_url,
        "options": t.options,
        "succeeded": t.succeeded,
        "warnings": t.warnings,
        "processed_bytes": t.processed_bytes,
        "source_bytes": t.source_bytes,
        "num_keep": keep.daily if t.schedule_uuid else keep.manual,
        "created_at": transfer_time(t.created_at),
        "started_at": transfer_time(t.started_at),
        "finished_at": transfer_time(t.finished_at),
        "canceled_at": transfer_time(t.canceled_at),
        "deleted_at": transfer_time(t.deleted_at),
        "purged_at": transfer_time(t.purged_at),
        "updated_at": transfer_time(t.updated_at),
    }
    if t.schedule_uuid:
        body["schedule"] = {"uuid": t.schedule_uuid}
    if verbose:
        body["logs"] = list(t.logs)
    return body


def _log(t: Transfer, now: float, message: str, level: str = "info") -> None:
    t.logs.append({"created_at": transfer_time(now) or "", "level": level, "message": message})
    t.updated_at = now


# -- signed public URLs ---------------------------------------------------------------------
def _secret(sb: Sandbox) -> bytes:
    path = sb.store.state_dir / SECRET_FILE
    if not path.exists():
        write_private(path, secrets.token_hex(32))
    return path.read_text().strip().encode()


def _signature(sb: Sandbox, transfer_uuid: str, expires: int) -> str:
    return hmac.new(_secret(sb), f"{transfer_uuid}:{expires}".encode(), hashlib.sha256).hexdigest()


def public_url(sb: Sandbox, t: Transfer, app: App) -> tuple[str, float]:
    expires = int(sb.store.now() + sb.store.state.settings.public_url_ttl)
    sig = _signature(sb, t.uuid, expires)
    file = f"{app.name}-{transfer_name(t)}.dump"
    return f"{sb.base_url}/_sandbox/public/backups/{t.uuid}/{file}?expires={expires}&signature={sig}", expires


_EXPIRES = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


def check_signature(sb: Sandbox, transfer_uuid: str, expires: str, signature: str) -> str | None:
    """None when valid, else why not (never echoing the signature). Values of any other shape
    (non-ASCII, too long, not decimal) are simply wrong, never an error."""
    well_formed = _EXPIRES.fullmatch(expires) is not None and _SIGNATURE.fullmatch(signature) is not None
    valid = well_formed and hmac.compare_digest(_signature(sb, transfer_uuid, int(expires)), signature)
    if not valid:
        return "Request signature does not match."
    if int(expires) < sb.store.now():
        return "Request has expired."
    return None


def artifact_path(sb: Sandbox, t: Transfer) -> Path | None:
    if not t.artifact or t.deleted_at is not None:
        return None
    path = backup_dir(sb) / t.artifact
    return path if path.exists() else None


# -- creating and running transfers -----------------------------------------------------------
def _new_transfer(sb: Sandbox, addon: Addon, **fields: Any) -> Transfer:
    app = sb.store.state.apps[addon.app_id]
    app.transfer_seq += 1
    now = sb.store.now()
    t = Transfer(
        uuid=new_id(),
        num=app.transfer_seq,
        app_id=app.id,
        addon_id=addon.id,
        created_at=now,
        updated_at=now,
        started_at=now,
        ready_at=now + sb.store.state.settings.transfer_delay,
        fail_reason=_INTERRUPTED,
        **fields,
    )
    sb.store.state.transfers[t.uuid] = t
    # Marked running from birth, so the ticker can't finish it before its job starts.
    _running.setdefault(sb, set()).add(t.uuid)
    return t


def _fault(sb: Sandbox, path: str) -> bool:
    from herokupg_sandbox import faults

    return faults.consume(sb, "transfer_failure", path, "POST") is not None


def create_backup(sb: Sandbox, addon: Addon, schedule: Schedule | None = None) -> Transfer:
    """Record a capture of ``addon`` (under the lock); the caller then calls ``start``."""
    name = provider.attachment_name(sb, addon, addon.app_id) or addon.name
    t = _new_transfer(
        sb,
        addon,
        from_name=name,
        from_type="pg_dump",
        from_url=provider.public_url(addon),
        to_name="BACKUP",
        to_type="gof3r",
        to_url=None,
        schedule_uuid=schedule.uuid if schedule else None,
    )
    t.to_url = f"{sb.base_url}/_sandbox/storage/backups/{t.uuid}/{transfer_name(t)}.dump"
    _log(t, t.created_at, f"Starting {'scheduled ' if schedule else ''}backup of {name} ({addon.name})")
    if _fault(sb, f"/client/v11/databases/{addon.id}/backups"):
        t.fail_reason = "pg_dump: error: connection to server lost (injected transfer_failure fault)"
    return t


def create_restore(sb: Sandbox, addon: Addon, backup_url: str) -> Transfer:
    local = _local_backup(sb, backup_url)
    parts = urlsplit(backup_url)
    t = _new_transfer(
        sb,
        addon,
        from_name=transfer_name(local) if local else Path(parts.path).name or parts.hostname,
        from_type="gof3r" if local else "htcat",
        # No credentials in records: neither the userinfo's password nor the query's signature.
        from_url=parts._replace(netloc=parts.netloc.rpartition("@")[2], query="", fragment="").geturl(),
        to_name=provider.attachment_name(sb, addon, addon.app_id) or addon.name,
        to_type="pg_restore",
        to_url=provider.public_url(addon),
    )
    _log(t, t.created_at, f"Starting restore of {t.from_name} to {t.to_name} ({addon.name})")
    if _fault(sb, f"/client/v11/databases/{addon.id}/restores"):
        t.fail_reason = "pg_restore: error: connection to server lost (injected transfer_failure fault)"
    return t


_STORAGE = re.compile(r"^/_sandbox/(storage|public)/backups/(?P<uuid>[0-9a-f-]{36})/[^/]+$")


def _local_backup(sb: Sandbox, url: str) -> Transfer | None:
    """The sandbox backup a URL names (storage location or public URL), if it is one of ours."""
    parts = urlsplit(url)
    match = _STORAGE.match(parts.path)
    if not match or parts.netloc != urlsplit(sb.base_url).netloc:
        return None
    return sb.store.state.transfers.get(match["uuid"])


def _fetch(sb: Sandbox, t: Transfer, url: str) -> Path:
    """Get the dump a restore reads: a local file for our own backups, else an HTTP download."""
    local = _local_backup(sb, url)
    if local is not None:
        parts = urlsplit(url)
        if parts.path.startswith("/_sandbox/public/"):
            query = parse_qs(parts.query)
            problem = check_signature(
                sb, local.uuid, query.get("expires", [""])[0], query.get("signature", [""])[0]
            )
            if problem:
                raise EngineError(f"download failed: 403 Forbidden ({problem})")
        path = artifact_path(sb, local)
        if path is None or not local.succeeded:
            raise EngineError(f"download failed: backup {transfer_name(local)} is not available")
        return path
    target = backup_dir(sb) / f"{t.uuid}.download"
    try:
        with httpx.stream("GET", url, timeout=60, follow_redirects=True) as response:
            if response.status_code != 200:
                raise EngineError(f"download failed: HTTP {response.status_code}")
            size = 0
            with os.fdopen(open_private(target, os.O_WRONLY | os.O_TRUNC), "wb") as out:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_DOWNLOAD_BYTES:
                        raise EngineError("download failed: file too large")
                    out.write(chunk)
    except httpx.HTTPError as exc:
        raise EngineError(f"download failed: {type(exc).__name__}") from None
    return target


def _job(sb: Sandbox, t: Transfer, backup_url: str | None) -> None:
    """Run a transfer: fetch its input (never under the lock: the URL may be served by this
    very sandbox), then the engine work (inline under the lock, or without it when the engine
    is blocking), then record the outcome under the lock."""
    running = _running.setdefault(sb, set())
    with sb.store.lock:
        addon = sb.store.state.addons.get(t.addon_id)
        if t.fail_reason != _INTERRUPTED or addon is None:
            running.discard(t.uuid)
            return  # an injected fault: nothing to run
        now = sb.store.now()
    result: TransferResult | None = None
    error: EngineError | None = None
    dump: Path | None = None
    try:
        if backup_url is not None:
            dump = _fetch(sb, t, backup_url)
        if sb.engine.blocking:
            result = _engine_work(sb, addon, t, dump, now)
    except EngineError as exc:
        error = exc
    with sb.store.lock:
        try:
            if not sb.engine.blocking and error is None:
                result = _engine_work(sb, addon, t, dump, now)
        except EngineError as exc:
            error = exc
        finally:
            running.discard(t.uuid)
            if dump is not None and dump.name.endswith(".download"):
                dump.unlink(missing_ok=True)
        _record(sb, t, result, error)
        sb.store.save()


def _engine_work(sb: Sandbox, addon: Addon, t: Transfer, dump: Path | None, now: float) -> TransferResult:
    if dump is None:
        return sb.engine.capture(addon, t, backup_dir(sb), now)
    return sb.engine.restore(addon, t, dump, now)


def _record(sb: Sandbox, t: Transfer, result: TransferResult | None, error: EngineError | None) -> None:
    done = sb.store.now()
    for line in (error.logs if error else result.logs if result else []):
        _log(t, done, line, "error" if error else "info")
    if t.canceled_at is not None:
        if result and result.artifact:
            (backup_dir(sb) / result.artifact).unlink(missing_ok=True)
        return
    if result is not None:
        t.processed_bytes, t.source_bytes = result.processed_bytes, result.source_bytes
        t.artifact = result.artifact
        if result.artifact:
            private_file(backup_dir(sb) / result.artifact)
        t.fail_reason = None
    else:
        t.fail_reason = str(error) if error else _INTERRUPTED


def launch(sb: Sandbox, t: Transfer) -> None:
    """Start a capture: inline for the memory engine (finished before this returns), else a thread."""
    if sb.engine.blocking:
        threading.Thread(target=_job, args=(sb, t, None), name="sandbox-transfer", daemon=True).start()
    else:
        _job(sb, t, None)


async def start_restore(sb: Sandbox, t: Transfer, backup_url: str) -> None:
    """Start a restore; the download runs off the event loop (the URL may be ours)."""
    if sb.engine.blocking:
        threading.Thread(target=_job, args=(sb, t, backup_url), name="sandbox-transfer", daemon=True).start()
    else:
        await run_in_threadpool(_job, sb, t, backup_url)


def tick(sb: Sandbox, now: float) -> bool:
    """Finish transfers whose work is done and whose simulated duration is over (lock held)."""
    changed = False
    running = _running.get(sb, set())
    for t in list(sb.store.state.transfers.values()):
        if t.finished_at is not None or t.uuid in running or now < t.ready_at:
            continue
        t.finished_at = max(now, t.created_at)
        t.succeeded = t.fail_reason is None
        if t.fail_reason:
            _log(t, now, t.fail_reason, "error")
            _log(t, now, "Transfer failed", "error")
        else:
            _log(t, now, "Transfer completed")
        t.updated_at = now
        changed = True
        if t.succeeded and is_backup(t):
            expire_old_backups(sb, t.addon_id, now)
    return changed


# -- retention --------------------------------------------------------------------------------
def _expire(sb: Sandbox, t: Transfer, now: float) -> None:
    t.deleted_at = t.updated_at = now  # the dump goes at once; purged_at stays null, as Heroku shows
    if t.artifact:
        (backup_dir(sb) / t.artifact).unlink(missing_ok=True)


def expire_old_backups(sb: Sandbox, addon_id: str, now: float) -> list[Transfer]:
    addon = sb.store.state.addons.get(addon_id)
    if addon is None:
        return []
    keep = retention(addon)
    live = sorted(
        (t for t in sb.store.state.transfers.values()
         if t.addon_id == addon_id and is_backup(t) and t.succeeded and t.deleted_at is None),
        key=lambda t: (t.created_at, t.num),
        reverse=True,
    )
    manual = [t for t in live if not t.schedule_uuid]
    expired = manual[keep.manual:]
    scheduled = [t for t in live if t.schedule_uuid]
    kept = set(id(t) for t in scheduled[: keep.daily])
    for count, bucket in ((keep.weekly, _week), (keep.monthly, _month)):
        seen: list[str] = []
        for t in scheduled[keep.daily:]:
            if id(t) in kept or len(seen) >= count:
                continue
            key = bucket(t.created_at)
            if key not in seen:
                seen.append(key)
                kept.add(id(t))
    expired += [t for t in scheduled if id(t) not in kept]
    for t in expired:
        _expire(sb, t, now)
    return expired


def _week(ts: float) -> str:
    year, week, _ = datetime.fromtimestamp(ts, UTC).isocalendar()
    return f"{year}-W{week}"


def _month(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m")


# -- routes -----------------------------------------------------------------------------------
def _app(sb: Sandbox, request: Request) -> App:
    app = sb.store.app(request.path_params["app"])
    if app is None:
        raise not_found("app")
    return app


def _find(sb: Sandbox, app: App, ident: str) -> Transfer:
    for t in sb.store.state.transfers.values():
        if t.app_id == app.id and (t.uuid == ident or str(t.num) == ident):
            if t.deleted_at is not None:  # Heroku's transfer service: 410 for a destroyed transfer
                raise HerokuHTTPError(
                    410, "gone", f"transfer {ident} of {app.name} destroyed at {transfer_time(t.deleted_at)}"
                )
            return t
    raise HerokuHTTPError(404, "not_found", "Couldn't find that transfer.", resource="transfer")


class DatabaseNotFound(HerokuHTTPError):
    """The Data API's 404 for a database id it does not know: an HTML page served as JSON
    (``<h1>Not Found</h1>``, ``X-Cascade: pass``), as recorded from Heroku."""

    def response(self) -> Response:
        headers = {"X-Cascade": "pass", **self.headers}
        return Response("<h1>Not Found</h1>", status_code=404, media_type="application/json", headers=headers)


class NotProvisioned(HerokuHTTPError):
    """404 for a database that exists but is not provisioned yet.

    No recording shows this answer. It is JSON without ``message`` because of what the CLI does
    with it: pg:info, capture, schedule and pg:wait only recognise "not yet provisioned" from a
    raw HTTP error with ``statusCode`` (an HTML body makes its JSON parser throw instead, and a
    body with a message becomes an APIError without a status).
    """

    def body(self) -> dict[str, Any]:
        return {"id": self.error_id, "resource": "database", "error": self.message}


def database(sb: Sandbox, ident: str, *, ready: bool = True) -> Addon:
    """The database a Data API path names (add-on id, or name); 404 while not provisioned."""
    addon = sb.store.state.addons.get(ident) or sb.store.addon(ident)
    if addon is None or not provider.is_pg(addon):
        raise DatabaseNotFound(404, "not_found", f"Couldn't find database {ident}.", resource="database")
    if ready and addon.state != "provisioned":
        if addon.state == "provisioning":
            raise NotProvisioned(404, "not_found", f"{addon.name} is not yet provisioned.")
        raise DatabaseNotFound(404, "not_found", f"Couldn't find database {ident}.", resource="database")
    return addon


def routes(sb: Sandbox) -> list[BaseRoute]:
    async def list_transfers(request: Request) -> Response:
        with sb.store.lock:
            app = _app(sb, request)
            items = [render(sb, t) for t in sb.store.state.transfers.values()
                     if t.app_id == app.id and t.deleted_at is None]
        return paginate(request, items, default_field="uuid", page_size=sb.store.state.settings.page_size)

    async def get_transfer(request: Request) -> Response:
        verbose = request.query_params.get("verbose", "").lower() in ("true", "1")
        with sb.store.lock:
            t = _find(sb, _app(sb, request), request.path_params["transfer"])
            return json_response(render(sb, t, verbose=verbose))

    async def delete_transfer(request: Request) -> Response:
        with sb.store.lock:
            t = _find(sb, _app(sb, request), request.path_params["transfer"])
            if not is_backup(t):
                raise bad_request(f"{transfer_name(t)} is not a backup; only backups can be deleted.",
                                  "invalid_params", 422)
            if t.finished_at is None:
                raise bad_request(f"Backup {transfer_name(t)} is still running; cancel it first.",
                                  "invalid_params", 422)
            _expire(sb, t, sb.store.now())
            sb.store.save()
            return json_response(render(sb, t))

    async def make_public_url(request: Request) -> Response:
        with sb.store.lock:
            app = _app(sb, request)
            t = _find(sb, app, request.path_params["transfer"])
            if not is_backup(t) or not t.succeeded or artifact_path(sb, t) is None:
                raise bad_request(f"{transfer_name(t)} is not a completed backup.", "invalid_params", 422)
            url, expires = public_url(sb, t, app)
        expires_at = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%d %H:%M:%S +0000")
        return json_response({"url": url, "expires_at": expires_at})

    async def cancel(request: Request) -> Response:
        with sb.store.lock:
            t = _find(sb, _app(sb, request), request.path_params["transfer"])
            if t.finished_at is not None:
                raise bad_request(f"{transfer_name(t)} has already finished.", "invalid_params", 422)
            now = sb.store.now()
            t.canceled_at = t.finished_at = now
            t.succeeded = False
            _log(t, now, "Transfer canceled by user", "warning")
            if t.artifact:
                (backup_dir(sb) / t.artifact).unlink(missing_ok=True)
                t.artifact = None
            sb.store.save()
            # Heroku's transfer service answers a cancel with when it was canceled, not the transfer.
            return json_response({"canceled_at": transfer_time(now)}, status=201)

    async def capture(request: Request) -> Response:
        with sb.store.lock:
            addon = database(sb, request.path_params["db"])
            t = create_backup(sb, addon)
            sb.store.save()
        launch(sb, t)
        provider.tick(sb)
        with sb.store.lock:
            return json_response(render(sb, t), status=201)

    async def restore(request: Request) -> Response:
        body = parse(RestoreCreate, await read_json(request, required=True), status=400)
        url = body.backup_url
        with sb.store.lock:
            addon = database(sb, request.path_params["db"])
            if addon.db and addon.db.leader_id:
                raise bad_request(
                    f"{addon.name} is a read-only follower; unfollow it before restoring into it.",
                    "invalid_params", 422,
                )
            t = create_restore(sb, addon, url)
            sb.store.save()
        await start_restore(sb, t, url)
        provider.tick(sb)
        with sb.store.lock:
            return json_response(render(sb, t), status=201)

    async def download(request: Request) -> Response:
        q = request.query_params
        with sb.store.lock:
            t = sb.store.state.transfers.get(request.path_params["uuid"])
            problem = check_signature(
                sb, request.path_params["uuid"], q.get("expires", ""), q.get("signature", "")
            )
            if problem:
                raise HerokuHTTPError(403, "forbidden", problem)
            path = artifact_path(sb, t) if t else None
            if path is None:
                raise not_found("backup", "That backup no longer exists.")
        return FileResponse(path, media_type="application/octet-stream")

    base = "/client/v11/apps/{app}/transfers"
    return [
        Route(base, list_transfers, methods=["GET"]),
        Route(base + "/{transfer}", get_transfer, methods=["GET"]),
        Route(base + "/{transfer}", delete_transfer, methods=["DELETE"]),
        Route(base + "/{transfer}/actions/public-url", make_public_url, methods=["POST"]),
        Route(base + "/{transfer}/actions/cancel", cancel, methods=["POST"]),
        Route("/client/v11/databases/{db}/backups", capture, methods=["POST"]),
        Route("/client/v11/databases/{db}/restores", restore, methods=["POST"]),
        Route("/_sandbox/public/backups/{uuid}/{file}", download, methods=["GET"]),
    ]

