"""Ensure a Heroku Postgres database add-on: present under an attachment name with a plan, or destroyed.

Present: the add-on attached as ``name`` (``DATABASE`` for the primary) is found again by that
name, so a rerun never creates a second one; an existing database's plan and version are reported
and warned about, not changed (Heroku changes them by a copy or a follower changeover, not in
place). Absent: any Heroku Postgres add-on billed to the app - a primary, a former primary, a
follower, a fork - named by attachment name, add-on name or add-on id is destroyed, with
``confirm: <app>``; once it is gone, a rerun changes nothing and says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from herokupg.errors import NotFoundError, ValidationError
from herokupg.models import Addon, Attachment, DatabaseInfo
from herokupg.ops.base import Context, Result, require_confirmation
from herokupg.ops.replication_common import (
    PRIMARY,
    Readiness,
    attachment_named,
    check_attachment_name,
    create_addon,
    delete_addon,
    describe_attachment,
    wait_gone,
    wait_ready,
)
from herokupg.resolve import is_advanced, is_postgres

State = Literal["present", "absent"]
_VERSION = re.compile(r"^\d+$")
GONE = ("deprovisioning", "deprovisioned")


def full_plan(plan: str) -> str:
    """``heroku-postgresql:<plan>`` from a full or bare plan name; any classic tier, Essential included."""
    full = plan.strip() if ":" in plan else f"heroku-postgresql:{plan.strip()}"
    if not plan.strip() or not is_postgres(full):
        raise ValidationError(
            f"plan {plan!r} is not a Heroku Postgres plan: use heroku-postgresql:<plan>, e.g. standard-0."
        )
    if is_advanced(full):
        raise ValidationError(
            f"{full} is an Advanced-tier plan, which this collection does not manage (classic tiers only)."
        )
    return full


def _validate(
    state: str, name: str | None, addon: str | None, plan: str | None, version: str | None
) -> str | None:
    """The full plan (present), after checking every option before any request."""
    if state not in ("present", "absent"):
        raise ValidationError(f"state must be present or absent, got {state!r}.")
    if name is not None and name != PRIMARY:
        check_attachment_name(name, "Database attachment")
    if addon is not None and not addon.strip():
        raise ValidationError("addon must not be empty: give an add-on name or id.")
    if version is not None and not _VERSION.match(version):
        raise ValidationError(f"version must be a PostgreSQL major version such as 16, got {version!r}.")
    if state == "absent":
        if name is None and addon is None:
            raise ValidationError(
                "state=absent needs the database to destroy: name (its attachment name) or addon "
                "(its add-on name or id)."
            )
        return None
    if plan is None:
        raise ValidationError("plan is required with state=present, e.g. heroku-postgresql:standard-0.")
    return full_plan(plan)


def _names_of(attachments: list[Attachment], addon: Addon) -> list[str]:
    return sorted({a.name for a in attachments if a.addon.id == addon.id})


def _billed_here(addon: Addon, app: str) -> bool:
    return addon.app is None or app in (addon.app.name, addon.app.id)


def _state(name: str | None, addon: Addon | None, plan: str | None) -> dict[str, Any]:
    return {"name": name, "addon": addon.name if addon else None, "plan": plan, "present": addon is not None}


def ensure_database(
    ctx: Context,
    app: str,
    *,
    name: str | None = None,
    addon: str | None = None,
    plan: str | None = None,
    version: str | None = None,
    state: State = "present",
    confirm: str | None = None,
    refuse_attached_as: Sequence[str] = (),
) -> Result:
    """Ensure the database attached as ``name`` (default DATABASE) exists with ``plan``, or that
    the add-on named by ``name`` or ``addon`` is destroyed (``confirm`` must be the app's name).
    ``refuse_attached_as`` guards a destroy: an add-on attached to ``app`` under one of these names
    (say DATABASE) is refused, checked on the attachments read right before the delete."""
    plan_full = _validate(state, name, addon, plan, version)
    if state == "absent":
        require_confirmation(app, confirm, f"Destroying {name or addon} of {app} (the add-on and its data)")
        return _absent(ctx, app, name, addon, tuple(refuse_attached_as))
    assert plan_full is not None
    return _present(ctx, app, name or PRIMARY, addon, plan_full, version, confirm)


# -- present ---------------------------------------------------------------------------------


def _present(
    ctx: Context, app: str, name: str, addon: str | None, plan: str, version: str | None, confirm: str | None
) -> Result:
    att = attachment_named(ctx.reads.list_attachments(app), name)
    ours: Addon | None = None
    info: DatabaseInfo | None = None
    if att is not None:
        if not is_postgres(att.plan_name):
            raise ValidationError(
                f"{name} on {app} is {att.addon.name} ({att.plan_name or 'unknown plan'}), not a Heroku "
                "Postgres database; pick another name."
            )
        if addon is not None and addon not in (att.addon.name, att.addon.id):
            raise ValidationError(f"{name} on {app} is {att.addon.name}, not {addon}; nothing was changed.")
        ours = att.addon
        info = ctx.reads.database(ours.id)
    elif addon is not None:
        _refuse_taken_addon_name(ctx, app, name, addon)

    result = Result(before=_state(name, ours, ours.plan_name if ours else None))
    result.after = _state(name, ours, ours.plan_name if ours else plan)
    if ours is None:
        ours = _create(ctx, result, app, name, addon, plan, version, confirm)
        result.after = {**result.after, "addon": ours.name if ours else addon, "present": True}
    else:
        _warn_unmanaged(result, name, ours, info, plan, version)

    if ours is not None:
        wait_ready(ctx, Readiness(app, ours.name), info)
    database = None if ours is None else describe_attachment(ctx, app, name, ctx.reads.config_vars(app))
    if ours is None:
        msg = f"Would create a {plan} database attached as {name} on {app}."
    elif result.changed:
        msg = f"Created {ours.name} ({plan}) attached as {name} on {app}."
    else:
        msg = f"{name} on {app} is {ours.name} ({ours.plan_name}): nothing to change."
    result.data = {"database": database, "msg": msg}
    return result


def _refuse_taken_addon_name(ctx: Context, app: str, name: str, addon: str) -> None:
    """An add-on called ``addon`` that is not attached as ``name``: creating it again would fail."""
    try:
        existing = ctx.api.get_addon(None, addon)
    except NotFoundError:
        return
    raise ValidationError(
        f"An add-on named {addon} already exists ({existing.plan_name or 'unknown plan'}) but is not "
        f"attached to {app} as {name}; pick another addon name, or name the attachment it has."
    )


def _warn_unmanaged(
    result: Result, name: str, ours: Addon, info: DatabaseInfo | None, plan: str, version: str | None
) -> None:
    if ours.plan_name and ours.plan_name != plan:
        result.warnings.append(
            f"{name} ({ours.name}) is on {ours.plan_name}, not {plan}; this module does not change the plan "
            "of an existing database (Heroku does that by a copy or a follower changeover)."
        )
    running = str(info.postgres_version).split(".")[0] if info and info.postgres_version else None
    if version is not None and running is not None and running != version:
        result.warnings.append(
            f"{name} ({ours.name}) runs PostgreSQL {running}, not {version}; this module does not upgrade "
            "an existing database (heroku pg:upgrade does)."
        )


def _create(
    ctx: Context,
    result: Result,
    app: str,
    name: str,
    addon: str | None,
    plan: str,
    version: str | None,
    confirm: str | None,
) -> Addon | None:
    def find_created() -> Addon | None:
        found = attachment_named(ctx.reads.list_attachments(app), name)
        return found.addon if found else None

    config: dict[str, str | bool] = {"version": version} if version else {}
    what = f"Create a {plan} database{f' (PostgreSQL {version})' if version else ''} attached as {name}"

    return create_addon(
        ctx, result, app, plan, config, name, what, find_created, addon_name=addon, confirm=confirm
    )


# -- absent ----------------------------------------------------------------------------------


def _absent(
    ctx: Context, app: str, name: str | None, addon: str | None, refused: tuple[str, ...]
) -> Result:
    attachments = ctx.reads.list_attachments(app)
    found = _find(ctx, app, attachments, name, addon)
    label = name or addon
    if found is None:
        result = Result(before=_state(name, None, None), after=_state(name, None, None))
        where = f"attached as {name}" if name else f"named {addon}"
        result.data = {"database": None, "msg": f"No add-on {where} on {app}: nothing to destroy."}
        return result
    if not is_postgres(found.plan_name):
        raise ValidationError(
            f"{label} on {app} is {found.name} ({found.plan_name or 'unknown plan'}), not a Heroku Postgres "
            "database; this module destroys only those. Nothing was destroyed."
        )
    if not _billed_here(found, app):
        billing = found.app.name if found.app else "another app"
        raise ValidationError(
            f"{found.name} is billed to {billing} and only attached to {app}: destroying it would take it "
            f"from {billing} too. Destroy it with app: {billing}, or detach it "
            f"(heroku addons:detach {label} -a {app}). Nothing was destroyed."
        )
    names = _names_of(attachments, found)
    guarded = [n for n in names if n in refused]
    if guarded:
        raise ValidationError(
            f"{found.name} is attached to {app} as {', '.join(guarded)}: refusing to destroy it "
            f"(refuse_attached_as). Nothing was destroyed."
        )
    result = Result(before={**_state(name, found, found.plan_name), "attachments": names})
    result.after = {**_state(name, None, None), "attachments": []}
    shown = f"{found.name} ({found.plan_name}{'; attached as ' + ', '.join(names) if names else ''})"
    if found.state in GONE:
        wait_gone(ctx, app, found.name)
        result.data = {"database": None, "msg": f"{shown} is already being destroyed: nothing to do."}
        return result
    delete_addon(ctx, result, app, found, f"Destroy {found.name} ({label})")
    wait_gone(ctx, app, found.name)
    verb = "Would destroy" if ctx.check_mode else "Destroyed"
    result.data = {"database": None, "msg": f"{verb} {shown} of {app}."}
    return result


def _find(
    ctx: Context, app: str, attachments: list[Attachment], name: str | None, addon: str | None
) -> Addon | None:
    """The add-on to destroy, or None when it is gone. By attachment name, else by add-on name or id
    (attached to the app, else billed to it and unattached)."""
    if name is not None:
        att = attachment_named(attachments, name)
        if att is None:
            return None
        if addon is not None and addon not in (att.addon.name, att.addon.id):
            raise ValidationError(f"{name} on {app} is {att.addon.name}, not {addon}; nothing was destroyed.")
        return _current(ctx, app, att.addon)
    assert addon is not None
    attached = next((a.addon for a in attachments if addon in (a.addon.name, a.addon.id)), None)
    if attached is not None:
        return _current(ctx, app, attached)
    try:
        return ctx.api.get_addon(app, addon)
    except NotFoundError:
        return None


def _current(ctx: Context, app: str, addon: Addon) -> Addon | None:
    """The add-on as the API shows it now (an attachment carries no state); None once it is gone."""
    try:
        return ctx.api.get_addon(app, addon.id)
    except NotFoundError:
        return None
