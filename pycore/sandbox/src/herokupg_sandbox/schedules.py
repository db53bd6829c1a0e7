"""Daily backup schedules (`pg:backups:schedule`) and the scheduled captures they fire.

One schedule per database (POST again replaces it). ``GET .../transfer-schedules`` answers the
schedules of every database billed to the same app, which is what `pg:backups:schedules` and
`pg:backups:unschedule` expect from the one "arbitrary" database they ask. A schedule fires once
per local day, when the sandbox clock reaches its hour in its time zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from herokupg_sandbox import provider, transfers
from herokupg_sandbox.bodies import ScheduleCreate, parse
from herokupg_sandbox.http import bad_request, json_response, not_found, read_json
from herokupg_sandbox.state import Addon, Schedule, new_id, transfer_time

if TYPE_CHECKING:
    from herokupg_sandbox.server import Sandbox


def _zone(name: str) -> ZoneInfo:
    if not name.strip() or ".." in name or name.startswith("/"):
        raise bad_request(f"Invalid timezone {name!r}: use an IANA name such as America/New_York or UTC.")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_request(
            f"Invalid timezone {name!r}: use an IANA name such as America/New_York or UTC."
        ) from None


def _local_day(ts: float, zone: str) -> tuple[int, str]:
    moment = datetime.fromtimestamp(ts, ZoneInfo(zone))
    return moment.hour, moment.date().isoformat()


_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def render(sb: Sandbox, s: Schedule, *, deleted_at: float | None = None) -> dict[str, Any]:
    """A schedule as Heroku's transfer service answers it (every day; retention by tier)."""
    addon = sb.store.state.addons.get(s.addon_id)
    keep = transfers.retention(addon) if addon else transfers.RETENTION["standard"]
    return {
        "uuid": s.uuid, "name": s.name, "hour": s.hour, "days": list(_DAYS), "timezone": s.timezone,
        "created_at": transfer_time(s.created_at), "updated_at": transfer_time(s.updated_at or s.created_at),
        "deleted_at": transfer_time(deleted_at), "retain_weeks": keep.weekly, "retain_months": keep.monthly,
    }


def _siblings(sb: Sandbox, addon: Addon) -> set[str]:
    """Databases billed to the same app as ``addon``."""
    return {a.id for a in sb.store.state.addons.values() if a.app_id == addon.app_id and provider.is_pg(a)}


def tick(sb: Sandbox, now: float) -> bool:
    """Fire due schedules (lock held)."""
    changed = False
    for s in list(sb.store.state.schedules.values()):
        addon = sb.store.state.addons.get(s.addon_id)
        if addon is None or not provider.is_available(addon):
            continue
        hour, day = _local_day(now, s.timezone)
        if hour < s.hour or s.last_run == day:
            continue
        s.last_run = day
        t = transfers.create_backup(sb, addon, s)
        transfers.launch(sb, t)
        changed = True
    return changed


def routes(sb: Sandbox) -> list[BaseRoute]:
    async def list_schedules(request: Request) -> Response:
        with sb.store.lock:
            addon = transfers.database(sb, request.path_params["db"], ready=False)
            ids = _siblings(sb, addon)
            items = [s for s in sb.store.state.schedules.values() if s.addon_id in ids]
            items.sort(key=lambda s: s.created_at)
            return json_response([render(sb, s) for s in items])

    async def create(request: Request) -> Response:
        body = parse(ScheduleCreate, await read_json(request, required=True), status=400)
        hour, zone = body.hour, _zone(body.timezone)
        with sb.store.lock:
            addon = transfers.database(sb, request.path_params["db"])
            name = body.schedule_name or f"{provider.attachment_name(sb, addon) or addon.name}_URL"
            now = sb.store.now()
            schedule = next((s for s in sb.store.state.schedules.values() if s.addon_id == addon.id), None)
            if schedule is None:
                schedule = Schedule(new_id(), addon.id, name, hour, zone.key, created_at=now)
                sb.store.state.schedules[schedule.uuid] = schedule
            schedule.name, schedule.hour, schedule.timezone = name, hour, zone.key
            schedule.updated_at = now
            # Today's slot counts only if it is still ahead: scheduling at 14:00 for 06:00 waits a day.
            local_hour, day = _local_day(now, zone.key)
            schedule.last_run = day if local_hour >= hour else None
            sb.store.save()
            return json_response(render(sb, schedule), status=201)

    async def delete(request: Request) -> Response:
        with sb.store.lock:
            addon = transfers.database(sb, request.path_params["db"], ready=False)
            schedule = sb.store.state.schedules.get(request.path_params["uuid"])
            if schedule is None or schedule.addon_id not in _siblings(sb, addon):
                raise not_found("transfer_schedule", "Couldn't find that schedule.")
            del sb.store.state.schedules[schedule.uuid]
            sb.store.save()
            return json_response(render(sb, schedule, deleted_at=sb.store.now()))

    path = "/client/v11/databases/{db}/transfer-schedules"
    return [
        Route(path, list_schedules, methods=["GET"]),
        Route(path, create, methods=["POST"]),
        Route(path + "/{uuid}", delete, methods=["DELETE"]),
    ]
