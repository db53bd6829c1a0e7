"""Ensure a fork (a writable copy) of a source database, optionally rolled back to a point in time.

A fork is a ``heroku-postgresql`` add-on created with config ``{fork: <source>}`` (``fast``
adds ``fast: true``), a rollback with ``{rollback: <source>, to|by: ...}`` (contract §3). It is
found again by its attachment name, so a rerun never creates a second copy.
"""

from __future__ import annotations

from typing import Literal

from herokupg.errors import ValidationError
from herokupg.models import Addon, DatabaseInfo
from herokupg.ops.base import Context, Result
from herokupg.ops.info import url_names
from herokupg.ops.replication_common import (
    Readiness,
    attachment_named,
    check_attachment_name,
    check_confirm,
    check_plan,
    check_source_tier,
    create_addon,
    delete_addon,
    describe_attachment,
    name_taken_advice,
    reference,
    wait_gone,
    wait_ready,
)
from herokupg.resolve import ResolvedDatabase, is_postgres, resolve_database, same_database

State = Literal["present", "absent"]


def _validate(name: str, state: str, fast: bool, to: str | None, by: str | None, plan: str | None) -> None:
    check_attachment_name(name, "Fork attachment")
    if state not in ("present", "absent"):
        raise ValidationError(f"state must be present or absent, got {state!r}.")
    if to is not None and by is not None:
        raise ValidationError("to and by are mutually exclusive: roll back to a time, or by an interval.")
    for key, value in (("to", to), ("by", by)):
        if value is not None and not value.strip():
            raise ValidationError(f"{key} must not be empty.")
    if fast and (to is not None or by is not None):
        raise ValidationError("fast applies to a fork, not to a rollback (to/by).")
    if plan is not None:
        check_plan(plan, "Fork")


def _forked_from(info: DatabaseInfo, source: ResolvedDatabase, source_info: DatabaseInfo) -> bool:
    """Whether ``info`` is a fork (or rollback) of ``source``: Heroku names the source by add-on id
    (``forked_from``); a Forked From row or URL is compared by database."""
    source_id = info.forked_from_id
    if source_id is not None:
        return source_id == source.addon_id
    ref = info.forked_from
    values = info.info_value("Forked From") or ([ref] if isinstance(ref, str) else [])
    url = source_info.resource_url
    return bool(url) and any(same_database(v, url or "") for v in values)


def fork_config(
    source: ResolvedDatabase, app: str, fast: bool, to: str | None, by: str | None
) -> dict[str, str | bool]:
    ref = reference(source, app)
    if to is not None:
        return {"rollback": ref, "to": to}
    if by is not None:
        return {"rollback": ref, "by": by}
    return {"fork": ref, "fast": True} if fast else {"fork": ref}


def ensure_fork(
    ctx: Context,
    app: str,
    *,
    name: str,
    source: str = "DATABASE_URL",
    state: State = "present",
    fast: bool = False,
    to: str | None = None,
    by: str | None = None,
    plan: str | None = None,
    confirm: str | None = None,
) -> Result:
    """Ensure the fork attached as ``name`` of ``source`` is present (and available) or absent.

    ``confirm`` (the app name) answers Heroku when it asks to confirm a new add-on (423).
    """
    _validate(name, state, fast, to, by, plan)
    check_confirm(app, confirm)
    source_db = resolve_database(ctx.reads, app, source)
    source_info = ctx.reads.database(source_db.addon_id)
    if source_info is None:
        raise ValidationError(f"The source {source_db.addon_name} is still provisioning; wait for it first.")
    source_name = source_db.config_var.removesuffix("_URL")
    verb = "roll back" if to or by else "fork"
    if state == "present":
        check_source_tier(source_db, verb)
    plan_full = (
        check_plan(plan or source_db.plan, "Rollback" if to or by else "Fork") if state == "present" else ""
    )

    att = attachment_named(ctx.reads.list_attachments(app), name)
    ours: Addon | None = None
    info: DatabaseInfo | None = None
    if att is not None:
        info = ctx.reads.database(att.addon.id) if is_postgres(att.plan_name) else None
        pending = is_postgres(att.plan_name) and info is None and state == "present"
        if pending or (info is not None and _forked_from(info, source_db, source_info)):
            ours = att.addon  # pending: a rerun after a timeout; checked once it is ready
        else:
            raise ValidationError(
                f"{name} on {app} is {att.addon.name} ({att.plan_name or 'unknown plan'}), which is not a "
                f"fork of {source_name}; {name_taken_advice(state)}"
            )

    result = Result(before={"name": name, "present": ours is not None, "source": source_name})
    result.after = {"name": name, "present": state == "present", "source": source_name}
    if state == "absent":
        if ours is not None:
            delete_addon(ctx, result, app, ours, f"Destroy fork {name} ({ours.name})")
            wait_gone(ctx, app, ours.name)
        result.data = {"fork": None, "source": source_name}
        return result

    if ours is None:

        def find_created() -> Addon | None:
            found = attachment_named(ctx.reads.list_attachments(app), name)
            return found.addon if found else None

        config = fork_config(source_db, app, fast, to, by)
        what = f"rollback of {source_name} ({to or by})" if to or by else f"fork of {source_name}"
        ours = create_addon(
            ctx,
            result,
            app,
            plan_full,
            config,
            name,
            f"Create a {plan_full} {what} attached as {name}",
            find_created,
            confirm=confirm,
        )
    elif plan is not None and ours.plan_name and ours.plan_name != plan_full:
        result.warnings.append(
            f"{name} is on {ours.plan_name}, not {plan_full}; a fork's plan is not managed."
        )

    if ours is not None:
        wait_ready(ctx, Readiness(app, ours.name), info)
    names = url_names(ctx.reads.list_attachments(app), [source_info])  # names the source: Forked From
    fork = None if ctx.check_mode and ours is None else describe_attachment(ctx, app, name, names)
    if fork is not None and fork.get("provisioned") and fork.get("forked_from") is None:
        raise ValidationError(
            f"{name} on {app} is not a fork of {source_name}; {name_taken_advice(state)}"
        )
    result.data = {"fork": fork, "source": source_name}
    return result
