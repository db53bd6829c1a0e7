"""Helpers shared by the follower, fork and promote operations.

Reading a database the way the operations need it, naming checks, the provisioning / readiness
probe used while waiting, and an add-on create that is never blindly repeated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from herokupg.errors import (
    APIError,
    ConfirmationRequiredError,
    ConflictError,
    ConnectionFailedError,
    NotFoundError,
    ValidationError,
)
from herokupg.models import Addon, Attachment, DatabaseInfo
from herokupg.ops.base import Context, PlannedRequest, Result
from herokupg.ops.info import addon_names, behind_by_commits, describe
from herokupg.resolve import (
    ResolvedDatabase,
    is_essential_tier,
    is_postgres,
    resolve_database,
    same_database,
)

ATTACHMENT_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
PRIMARY = "DATABASE"


def check_attachment_name(name: str, what: str) -> str:
    """``HEROKU_POSTGRESQL_PINK`` style names only; DATABASE is the primary's (promote moves it)."""
    if not ATTACHMENT_NAME.match(name):
        raise ValidationError(
            f"{what} name {name!r} is invalid: use upper-case letters, digits and underscores, "
            "starting with a letter (e.g. REPORTING)."
        )
    if name.endswith("_URL"):
        raise ValidationError(f"{what} name {name!r} must not end in _URL: the config var adds it.")
    if name == PRIMARY:
        raise ValidationError(
            f"{what} name cannot be {PRIMARY}: that is the primary's attachment "
            "(use heroku_pg_promote to make a database the primary)."
        )
    return name


def name_taken_advice(state: str) -> str:
    """What to do when the attachment name asked for holds another database than the one managed."""
    if state == "absent":
        return "nothing was destroyed (to destroy it, use heroku_pg_database with state: absent)."
    return "pick another name, or destroy it with heroku_pg_database (state: absent)."


def check_plan(plan: str, verb: str) -> str:
    """A ``heroku-postgresql`` plan, production tier (Essential can't follow, fork or roll back)."""
    full = plan if ":" in plan else f"heroku-postgresql:{plan}"
    if not is_postgres(full):
        raise ValidationError(f"plan {plan!r} is not a Heroku Postgres plan (heroku-postgresql:<tier>).")
    if is_essential_tier(full):
        raise ValidationError(
            f"{verb} is only available on Standard, Premium, Private and Shield tier databases, "
            f"not on {full}."
        )
    return full


def check_source_tier(source: ResolvedDatabase, verb: str) -> None:
    if is_essential_tier(source.plan):
        raise ValidationError(
            f"{source.addon_name} ({source.config_var}) is on {source.plan}: {verb} is only available "
            "for Standard, Premium, Private and Shield tier databases."
        )


def reference(source: ResolvedDatabase, app: str) -> str:
    """How the create request names the source: its config var, or its add-on name across apps."""
    return source.config_var if source.app == app else source.addon_name


def follows(info: DatabaseInfo, leader_url: str | None) -> bool:
    """Whether ``info`` (a database) follows the database whose URL is ``leader_url``."""
    if not info.following or not leader_url:
        return False
    return same_database(info.following, leader_url)


def attachment_named(attachments: list[Attachment], name: str) -> Attachment | None:
    return next((a for a in attachments if a.name == name), None)


def resolved_from(app: str, attachment: Attachment, attachments: list[Attachment]) -> ResolvedDatabase:
    names = tuple(a.name for a in attachments if a.addon.id == attachment.addon.id)
    return ResolvedDatabase(
        app=app,
        attachment=attachment,
        addon=attachment.addon,
        config_var=f"{attachment.name}_URL",
        attachment_names=names,
    )


def describe_attachment(
    ctx: Context, app: str, name: str, url_names: Mapping[str, str]
) -> dict[str, Any] | None:
    """One database described like heroku_pg_info, by attachment name (None if not attached)."""
    try:
        db = resolve_database(ctx.reads, app, name)
    except NotFoundError:
        return None
    ids = addon_names(ctx.reads.list_attachments(app))
    return describe(db, ctx.reads.database(db.addon_id), url_names, ids)


@dataclass
class Readiness:
    """What "ready" means for a new database while waiting for it."""

    app: str
    addon: str  # add-on name
    max_lag: int | None = None  # a follower: commits it may be behind; None for a fork


def probe_ready(ctx: Context, goal: Readiness) -> Callable[[], tuple[bool, str]]:
    """A wait probe: provisioned (add-on), known to the Data API, not waiting, and caught up."""

    def probe() -> tuple[bool, str]:
        addon = ctx.api.get_addon(goal.app, goal.addon)
        if addon.state == "deprovisioned":
            # It stays attached in that state, so a rerun adopts it and fails the same way: say what to do.
            raise APIError(
                f"{addon.name} could not be created: {addon.provision_message or 'state deprovisioned'}. "
                f"It stays on {goal.app} as a failed add-on: destroy it "
                f"(heroku addons:destroy {addon.name} -a {goal.app}), then run again to create a new one.",
                error_id="addon_error",
            )
        if addon.state != "provisioned":
            return False, addon.state or "provisioning"
        info = ctx.reads.database(addon.id)
        if info is None:
            return False, "provisioned; waiting for the database"
        status = ctx.api.wait_status(addon.id)
        if status.error:
            raise APIError(f"{addon.name} failed: {status.message}", error_id="addon_error")
        lag = behind_by_commits(info) if info.following else None
        if goal.max_lag is not None and info.following:
            if lag is None:
                return False, status.message or "following: lag not reported yet"
            if lag > goal.max_lag:
                return False, f"following: {lag} commits behind (max_lag {goal.max_lag})"
            return True, f"following: {lag} commits behind"
        if status.waiting:
            return False, status.message or "waiting"
        return True, status.message or "available"

    return probe


def ready_now(info: DatabaseInfo | None, goal: Readiness) -> bool:
    """Whether a database answer already shows what waiting for ``goal`` would wait for."""
    if info is None or (info.status or "").lower() != "available":
        return False
    if goal.max_lag is not None and info.following:
        lag = behind_by_commits(info)
        return lag is not None and lag <= goal.max_lag
    return info.waiting is False


def wait_ready(ctx: Context, goal: Readiness, known: DatabaseInfo | None = None) -> str | None:
    """Wait until ``goal`` is ready, unless ``known`` (the database as last read) already shows it."""
    if ctx.check_mode or not ctx.wait.enabled or ready_now(known, goal):
        return None
    probe = probe_ready(ctx, goal)
    return ctx.wait_until(probe, resource=f"{goal.addon} on {goal.app}", goal="become available")


def wait_gone(ctx: Context, app: str, addon: str) -> None:
    """After a delete: poll the add-on until the API no longer knows it (or calls it deprovisioned)."""
    if ctx.check_mode or not ctx.wait.enabled:
        return

    def probe() -> tuple[bool, str]:
        try:
            state = ctx.api.get_addon(app, addon).state
        except NotFoundError:
            return True, "deprovisioned"
        return state == "deprovisioned", state or "deprovisioning"

    ctx.wait_until(probe, resource=f"{addon} on {app}", goal="be destroyed")


def check_confirm(app: str, confirm: str | None) -> str | None:
    """``confirm`` for an add-on Heroku may ask to confirm (423): the app name, or nothing."""
    if confirm is not None and confirm != app:
        raise ValidationError(
            f"confirm must be the app name ({app}) to confirm a new billed add-on there, got {confirm!r}."
        )
    return confirm


def create_addon(
    ctx: Context,
    result: Result,
    app: str,
    plan: str,
    config: dict[str, str | bool],
    attachment: str | None,
    description: str,
    find_created: Callable[[], Addon | None],
    *,
    addon_name: str | None = None,
    confirm: str | None = None,
) -> Addon | None:
    """POST /apps/{app}/addons once. If the connection fails mid-request, re-read the state
    (``find_created``) instead of sending it again: a second POST would make a second database.
    ``addon_name`` names the new add-on (else Heroku does).

    The first POST goes without ``confirm``, so that it never overrides anything. When Heroku asks
    for a confirmation (423, e.g. an app in a Private Space or Shield), the add-on is used if another
    run has just attached the same name (as a rerun would find it); else the POST is repeated with
    ``confirm``, as the CLI does once the user confirms, or the error says to set it.
    """

    def attempt(confirmed: str | None) -> Addon | None:
        body: dict[str, Any] = {
            "plan": {"name": plan},
            "attachment": {"name": attachment} if attachment else {},
            "config": dict(config),
        }
        if confirmed is not None:
            body["confirm"] = confirmed
        if addon_name is not None:
            body["name"] = addon_name
        request = PlannedRequest("POST", f"/apps/{app}/addons", body, description)
        return ctx.write(result, request, lambda: post(confirmed))

    def post(confirmed: str | None) -> Addon:
        try:
            return ctx.api.create_addon(
                app, plan, config=config, attachment_name=attachment, name=addon_name, confirm=confirmed
            )
        except ConnectionFailedError as exc:
            found = find_created()
            if found is not None:
                result.warnings.append(
                    f"The connection failed while creating the add-on ({exc.message}); "
                    f"it was created as {found.name} and is used as is."
                )
                return found
            raise ConnectionFailedError(
                f"The connection failed while creating the add-on on {app} and no new add-on is there "
                f"now ({exc.message}). Nothing was created twice; run again to retry.",
                may_have_applied=exc.may_have_applied,
                request_id=exc.request_id,
                method="POST",
                url=exc.url,
            ) from None

    try:
        return attempt(None)
    except (ConfirmationRequiredError, ConflictError) as exc:
        # Refused (4xx): this request created nothing, so it is not reported as sent.
        result.requests.pop()
        result.changed = bool(result.requests)
        ctx.reads.forget()
        found = find_created()
        if found is not None:  # another run created it meanwhile: use it, never a second one
            where = f"{attachment} on {app}" if attachment else f"a new add-on on {app}"
            result.warnings.append(
                f"{where} was created by another run while this one was creating it (Heroku answered "
                f"{exc.status} {exc.error_id}); this run uses {found.name} instead of a second, billed "
                "add-on."
            )
            return found
        if not isinstance(exc, ConfirmationRequiredError):
            raise
        if confirm is None:
            raise ConfirmationRequiredError(
                f"Heroku asks for a confirmation before creating {plan} on {app}: {exc.message} "
                f"Set confirm: {app} to create it. Nothing was created.",
                status=exc.status,
                error_id=exc.error_id,
                request_id=exc.request_id,
            ) from None
    return attempt(confirm)


def delete_addon(ctx: Context, result: Result, app: str, addon: Addon, description: str) -> None:
    request = PlannedRequest("DELETE", f"/apps/{app}/addons/{addon.name}", None, description)
    ctx.write(result, request, lambda: ctx.api.delete_addon(app, addon.name))
