"""Daily backup schedules (``pg:backups:schedule`` / ``unschedule``), idempotent on hour and timezone.

The Data API lists the schedules of every database billed to the same app; a database's own
schedule is the one named after one of its attachments (``DATABASE_URL``), as the CLI matches it.
"""

from __future__ import annotations

from typing import Any, Literal

from herokupg.errors import ValidationError
from herokupg.models import TransferSchedule
from herokupg.ops.base import Context, PlannedRequest, Result
from herokupg.resolve import DEFAULT_IDENTIFIER, ResolvedDatabase, resolve_database
from herokupg.schedule_time import ScheduleTime, parse_schedule_time


def _describe(
    schedule: TransferSchedule | None, fallback: ScheduleTime | None = None
) -> dict[str, Any] | None:
    if schedule is not None:
        at = ScheduleTime(schedule.hour, schedule.timezone)
        return {"name": schedule.name, "uuid": schedule.uuid, "hour": at.hour, "timezone": at.timezone,
                "at": str(at)}
    if fallback is not None:
        return {"name": None, "uuid": None, "hour": fallback.hour, "timezone": fallback.timezone,
                "at": str(fallback)}
    return None


def _diff(schedule: TransferSchedule | None) -> dict[str, Any]:
    return {"hour": schedule.hour, "timezone": schedule.timezone} if schedule else {}


def own_schedule(schedules: list[TransferSchedule], db: ResolvedDatabase) -> TransferSchedule | None:
    names = {f"{name}_URL".upper() for name in db.names}
    return next((s for s in schedules if s.name.upper() in names), None)


def ensure_schedule(
    ctx: Context,
    app: str,
    database: str | None = None,
    *,
    state: Literal["present", "absent"] = "present",
    at: str | None = None,
) -> Result:
    if state not in ("present", "absent"):
        raise ValidationError(f"state must be present or absent, got {state!r}.")
    wanted: ScheduleTime | None = None
    if state == "present":
        if not at:
            raise ValidationError("A schedule needs `at`, such as '02:00 UTC' or '6:00 America/New_York'.")
        wanted = parse_schedule_time(at)  # before any request: bad input changes nothing
    db = resolve_database(ctx.reads, app, database or DEFAULT_IDENTIFIER)
    result = Result()
    if wanted is not None and ctx.reads.database(db.addon_id) is None:
        raise ValidationError(f"{db.addon_name} is not yet provisioned; wait for it and run again.")
    current = own_schedule(ctx.api.schedules(db.addon_id), db)
    result.before = _diff(current)
    path = f"/client/v11/databases/{db.addon_id}/transfer-schedules"
    if wanted is None:
        result.after = {}
        if current is not None:
            planned = PlannedRequest("DELETE", f"{path}/{current.uuid}", None, f"unschedule {current.name}")
            ctx.write(result, planned, lambda: ctx.api.delete_schedule(db.addon_id, current.uuid))
        result.data["schedule"] = None
        return result
    result.after = {"hour": wanted.hour, "timezone": wanted.timezone}
    if current is not None and (current.hour, current.timezone) == (wanted.hour, wanted.timezone):
        result.data["schedule"] = _describe(current)
        return result
    name = f"{db.attachment.name}_URL"
    body = {"hour": wanted.hour_text, "timezone": wanted.timezone, "schedule_name": name}
    planned = PlannedRequest("POST", path, body, f"schedule daily backups of {db.addon_name} at {wanted}")
    created = ctx.write(
        result, planned, lambda: ctx.api.create_schedule(db.addon_id, wanted.hour, wanted.timezone, name)
    )
    if created is None and not ctx.check_mode:  # the API answered without the schedule: read it back
        created = own_schedule(ctx.api.schedules(db.addon_id), db)
    result.data["schedule"] = _describe(created, wanted)
    return result
