"""Ensure followers (read-only replicas) of a leader database: one by attachment name, or a count.

A follower is a ``heroku-postgresql`` add-on created with config ``{follow: <leader>}``. Existing
followers are found by attachment name, or by what they follow (count mode), so a rerun after a
wait timeout or a lost connection picks them up instead of creating a second add-on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from herokupg.errors import ValidationError
from herokupg.models import Addon, Attachment, DatabaseInfo
from herokupg.ops.base import Context, Result
from herokupg.ops.info import addon_names, describe, url_names
from herokupg.ops.replication_common import (
    Readiness,
    attachment_named,
    check_attachment_name,
    check_confirm,
    check_plan,
    check_source_tier,
    create_addon,
    delete_addon,
    follows,
    name_taken_advice,
    reference,
    resolved_from,
    wait_gone,
    wait_ready,
)
from herokupg.resolve import ResolvedDatabase, is_postgres, resolve_database

State = Literal["present", "absent"]
NEW = "(new follower)"


@dataclass
class Follower:
    attachment: Attachment
    info: DatabaseInfo | None  # None while provisioning

    @property
    def addon(self) -> Addon:
        return self.attachment.addon

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.info.created_at if self.info and self.info.created_at else "", self.addon.name)


def _validate(name: str | None, count: int | None, state: str, max_lag: int, plan: str | None) -> None:
    if (name is None) == (count is None):
        raise ValidationError("Give exactly one of name (one follower) or count (that many followers).")
    if state not in ("present", "absent"):
        raise ValidationError(f"state must be present or absent, got {state!r}.")
    if count is not None and count < 0:
        raise ValidationError(f"count must be 0 or more, got {count}.")
    if count is not None and state == "absent":
        raise ValidationError("state=absent goes with name; use count: 0 to remove every follower.")
    if max_lag < 0:
        raise ValidationError(f"max_lag must be 0 or more commits, got {max_lag}.")
    if name is not None:
        check_attachment_name(name, "Follower attachment")
    if plan is not None:
        check_plan(plan, "Follow")


def _default_attachments(attachments: list[Attachment]) -> dict[str, Attachment]:
    """One attachment per Postgres add-on (the default-credential one), by add-on id."""
    by_addon: dict[str, Attachment] = {}
    for att in attachments:
        current = by_addon.get(att.addon.id)
        if is_postgres(att.plan_name) and (current is None or (current.namespace and not att.namespace)):
            by_addon[att.addon.id] = att
    return by_addon


def _billed_to(addon: Addon, app: str) -> bool:
    return addon.app is None or app in (addon.app.name, addon.app.id)


def _followers(
    ctx: Context, app: str, attachments: list[Attachment], leader: ResolvedDatabase, leader_url: str | None
) -> tuple[list[Follower], list[Follower]]:
    """(followers of the leader billed to ``app``, Postgres add-ons still provisioning)."""
    found: list[Follower] = []
    pending: list[Follower] = []
    for addon_id, att in _default_attachments(attachments).items():
        if addon_id == leader.addon_id or not _billed_to(att.addon, app):
            continue
        info = ctx.reads.database(addon_id)
        if info is None:
            pending.append(Follower(att, None))
        elif follows(info, leader_url):
            found.append(Follower(att, info))
    return found, pending


def _settle_pending(ctx: Context, app: str, pending: list[Follower]) -> None:
    """Count mode can't tell what a provisioning add-on follows: wait until it is provisioned."""
    if not pending:
        return
    names = ", ".join(p.addon.name for p in pending)
    if not ctx.wait.enabled:
        raise ValidationError(
            f"{names} on {app} is still provisioning, so whether it follows the leader is unknown; "
            "run again with wait: true (or once it is provisioned)."
        )
    for item in pending:
        probe_goal = Readiness(app, item.addon.name)

        def probe(goal: Readiness = probe_goal) -> tuple[bool, str]:
            state = ctx.api.get_addon(goal.app, goal.addon).state or "provisioning"
            return state != "provisioning", state

        ctx.wait_until(probe, resource=f"{item.addon.name} on {app}", goal="finish provisioning")


def _follower_names(followers: list[Follower]) -> list[str]:
    return sorted(f.attachment.name for f in followers)


def ensure_follower(
    ctx: Context,
    app: str,
    *,
    name: str | None = None,
    count: int | None = None,
    leader: str = "DATABASE_URL",
    state: State = "present",
    plan: str | None = None,
    max_lag: int = 0,
    confirm: str | None = None,
) -> Result:
    """Ensure the follower ``name`` of ``leader`` is present/absent, or exactly ``count`` followers.

    ``confirm`` (the app name) answers Heroku when it asks to confirm a new add-on (423).
    """
    _validate(name, count, state, max_lag, plan)
    check_confirm(app, confirm)
    leader_db = resolve_database(ctx.reads, app, leader)
    leader_info = ctx.reads.database(leader_db.addon_id)
    if leader_info is None:
        raise ValidationError(f"The leader {leader_db.addon_name} is still provisioning; wait for it first.")
    if state == "present":
        if leader_info.following:
            raise ValidationError(
                f"{leader_db.addon_name} ({leader_db.config_var}) is itself a follower, and followers can't "
                "be chained: follow its leader instead."
            )
        check_source_tier(leader_db, "follow")
    plan_full = check_plan(plan or leader_db.plan, "Follow") if state == "present" else leader_db.plan

    attachments = ctx.reads.list_attachments(app)
    existing, pending = _followers(ctx, app, attachments, leader_db, leader_info.resource_url)
    result = Result()
    leader_name = leader_db.config_var.removesuffix("_URL")
    result.before = {"leader": leader_name, "followers": _follower_names(existing)}
    ctx_args = (ctx, app, leader_db, plan_full, result, confirm)
    if name is not None:
        keep = _ensure_named(*ctx_args, attachments, existing, name, state, plan)
    else:
        assert count is not None
        _settle_pending(ctx, app, pending)
        if pending:
            attachments = ctx.reads.list_attachments(app)
            existing, _ = _followers(ctx, app, attachments, leader_db, leader_info.resource_url)
            result.before["followers"] = _follower_names(existing)
        keep = _ensure_count(*ctx_args, attachments, existing, count, leader_info.resource_url)

    known = {f.addon.name: f.info for f in existing}
    for addon_name in keep:
        wait_ready(ctx, Readiness(app, addon_name, max_lag), known.get(addon_name))
    result.data = _report(ctx, app, leader_db, leader_info, name, keep, result)
    if name is not None and state == "present" and keep and result.data["follower"] is None:
        if ctx.wait.enabled and not ctx.check_mode:  # an adopted add-on turned out to be something else
            raise ValidationError(
                f"{name} on {app} is not a follower of {result.data['leader']}; {name_taken_advice(state)}"
            )
    return result


def _ensure_named(
    ctx: Context,
    app: str,
    leader: ResolvedDatabase,
    plan: str,
    result: Result,
    confirm: str | None,
    attachments: list[Attachment],
    existing: list[Follower],
    name: str,
    state: str,
    plan_option: str | None,
) -> list[str]:
    """The add-on names to wait for."""
    att = attachment_named(attachments, name)
    ours = next((f for f in existing if f.addon.id == att.addon.id), None) if att else None
    leader_name = leader.config_var.removesuffix("_URL")
    if att is not None and ours is None:
        info = ctx.reads.database(att.addon.id) if is_postgres(att.plan_name) else None
        if is_postgres(att.plan_name) and info is None and state == "present":
            ours = Follower(att, None)  # a rerun after a timeout: still provisioning; verified once ready
        else:
            raise ValidationError(
                f"{name} on {app} is {att.addon.name} ({att.plan_name or 'unknown plan'}), which is not a "
                f"follower of {leader_name}; {name_taken_advice(state)}"
            )
    names = _follower_names(existing)
    if state == "absent":
        result.after = {"leader": leader_name, "followers": [n for n in names if n != name]}
        if ours is not None:
            delete_addon(ctx, result, app, ours.addon, f"Destroy follower {name} ({ours.addon.name})")
            wait_gone(ctx, app, ours.addon.name)
        return []
    result.after = {"leader": leader_name, "followers": sorted({*names, name})}
    if ours is not None:
        if plan_option is not None and ours.addon.plan_name and ours.addon.plan_name != plan:
            result.warnings.append(
                f"{name} is on {ours.addon.plan_name}, not {plan}; changing a follower's plan is not managed."
            )
        return [ours.addon.name]

    def find_created() -> Addon | None:
        found = attachment_named(ctx.reads.list_attachments(app), name)
        return found.addon if found and found.addon.id != leader.addon_id else None

    created = create_addon(
        ctx,
        result,
        app,
        plan,
        {"follow": reference(leader, app)},
        name,
        f"Create a {plan} follower of {leader_name} attached as {name}",
        find_created,
        confirm=confirm,
    )
    return [created.name] if created else []


def _ensure_count(
    ctx: Context,
    app: str,
    leader: ResolvedDatabase,
    plan: str,
    result: Result,
    confirm: str | None,
    attachments: list[Attachment],
    existing: list[Follower],
    count: int,
    leader_url: str | None,
) -> list[str]:
    leader_name = leader.config_var.removesuffix("_URL")
    newest_first = sorted(existing, key=lambda f: f.sort_key, reverse=True)
    extras = newest_first[: max(0, len(existing) - count)]
    kept = [f for f in existing if f not in extras]
    for extra in extras:
        delete_addon(ctx, result, app, extra.addon, f"Destroy extra follower {extra.attachment.name}")
    for extra in extras:
        wait_gone(ctx, app, extra.addon.name)
    keep = [f.addon.name for f in kept]
    created_names: list[str] = []
    known = {f.addon.id for f in existing}
    for _ in range(count - len(existing)):

        def find_created() -> Addon | None:
            now, _pending = _followers(ctx, app, ctx.reads.list_attachments(app), leader, leader_url)
            fresh = [f.addon for f in now + _pending if f.addon.id not in known]
            return fresh[0] if fresh else None

        created = create_addon(
            ctx,
            result,
            app,
            plan,
            {"follow": reference(leader, app)},
            None,
            f"Create a {plan} follower of {leader_name}",
            find_created,
            confirm=confirm,
        )
        if created is not None:
            known.add(created.id)
            keep.append(created.name)
            attached = [cv.removesuffix("_URL") for cv in created.config_vars]
            created_names.append(attached[0] if attached else created.name)
        else:
            created_names.append(NEW)
    result.after = {
        "leader": leader_name,
        "followers": sorted(f.attachment.name for f in kept) + created_names,
    }
    return keep


def _report(
    ctx: Context,
    app: str,
    leader: ResolvedDatabase,
    leader_info: DatabaseInfo,
    name: str | None,
    keep: list[str],
    result: Result,
) -> dict[str, Any]:
    """The leader's followers on the app now (described like heroku_pg_info), and the named one."""
    attachments = ctx.reads.list_attachments(app)
    found, pending = _followers(ctx, app, attachments, leader, leader_info.resource_url)
    pending = [p for p in pending if p.addon.name in keep]  # ours, still provisioning
    names = url_names(attachments, [leader_info, *(f.info for f in found)])
    described = [
        describe(resolved_from(app, f.attachment, attachments), f.info, names, addon_names(attachments))
        for f in sorted(found + pending, key=lambda f: f.attachment.name)
    ]
    data: dict[str, Any] = {"leader": leader.config_var.removesuffix("_URL"), "followers": described}
    if name is not None:
        follower = next((d for d in described if name in d["attachments"]), None)
        data["follower"] = follower
        data["lag"] = follower.get("behind_by") if follower else None
    if not ctx.check_mode:
        result.after = {"leader": data["leader"], "followers": sorted(_attachment_names(found + pending))}
    return data


def _attachment_names(followers: list[Follower]) -> list[str]:
    return [f.attachment.name for f in followers]
