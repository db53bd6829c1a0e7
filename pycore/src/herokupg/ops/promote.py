"""Make a database the app's primary (``DATABASE``), as ``heroku pg:promote`` does, and by default
unfollow it first so the new primary is writable.

Order (contract §4, CLI v11 pg/promote.js): wait until the follower has caught up, unfollow it
and wait until it is writable; keep an alias attachment for the old primary (so it stays
reachable); attach the database as DATABASE, which replaces the old DATABASE attachment in one
step (the app is never without a DATABASE); move the connection pooler; wait for the release
phase. Each step is skipped when already done, so a rerun continues where a failure stopped.

Only a follower of the current primary is promoted unless ``allow_non_follower``; the state is
read again right before the unfollow and before the attach (promote_checks), so that a promotion
that raced with another one stops instead of moving DATABASE a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from herokupg.errors import APIError, HerokuPgError, ValidationError
from herokupg.models import Attachment, DatabaseInfo
from herokupg.ops.base import Context, PlannedRequest, Result, require_confirmation
from herokupg.ops.fence import Fence, add_outcome
from herokupg.ops.info import POOLER_NAMESPACE, behind_by_commits
from herokupg.ops.promote_checks import PromotionGuard, refuse_non_follower
from herokupg.ops.replication_common import PRIMARY, describe_attachment
from herokupg.resolve import ResolvedDatabase, resolve_database

POOLER = "DATABASE_CONNECTION_POOL"


def _attach_body(addon: str, app: str, name: str | None, namespace: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "addon": {"name": addon},
        "app": {"name": app},
        "confirm": app,
        "namespace": namespace,
    }
    if name is not None:
        body["name"] = name
    return body


def _attach(
    ctx: Context, result: Result, app: str, addon: str, name: str | None, namespace: str | None, why: str
) -> Attachment | None:
    request = PlannedRequest("POST", "/addon-attachments", _attach_body(addon, app, name, namespace), why)
    return ctx.write(
        result,
        request,
        lambda: ctx.api.create_attachment(addon, app, name=name, namespace=namespace, confirm=app),
    )


def _state(current: Attachment | None, info: DatabaseInfo | None) -> dict[str, Any]:
    return {"database": current.addon.name if current else None, "following": bool(info and info.following)}


def promote(
    ctx: Context,
    app: str,
    database: str,
    *,
    confirm: str | None,
    unfollow: bool = True,
    max_lag: int = 0,
    allow_non_follower: bool = False,
    fence: bool = False,
) -> Result:
    """Make ``database`` the DATABASE of ``app``; unfollow it first unless ``unfollow`` is False.

    ``database`` must follow the app's DATABASE unless ``allow_non_follower`` (or the app has none).
    With ``fence``, the old primary is made read-only before the unfollow (ops/fence.py).
    """
    require_confirmation(app, confirm, f"Promoting {database} changes the DATABASE_URL of {app}:")
    if max_lag < 0:
        raise ValidationError(f"max_lag must be 0 or more commits, got {max_lag}.")
    if fence and not unfollow:
        raise ValidationError(
            "fence: true needs unfollow: true. A database that keeps following the old primary receives "
            "everything written there, and fencing would only leave the app with no writable database."
        )
    target = resolve_database(ctx.reads, app, database)
    info = ctx.reads.database(target.addon_id)
    if info is None:
        raise ValidationError(f"{target.addon_name} is still provisioning; it can't be promoted yet.")
    attachments = ctx.reads.list_attachments(app)
    current = next((a for a in attachments if a.name == PRIMARY), None)
    namespace = target.attachment.namespace or None
    promoted = current is not None and current.addon.id == target.addon_id and current.namespace == namespace

    result = Result(before=_state(current, info))
    after_following = bool(info.following) and not unfollow
    result.after = {"database": target.addon_name, "following": after_following}

    old = current if not promoted else None
    primary_url = _url_of(ctx, old) if old is not None else None
    if old is not None and not allow_non_follower:
        refuse_non_follower(ctx, app, target, info, old, primary_url)
    step = _Switch(ctx, result, app, target, info, old, attachments, max_lag, promoted)
    step.guard = PromotionGuard(ctx, app, target, old, primary_url)
    step.unfollowing = bool(info.following) and unfollow
    if fence and old is not None:
        target_url = info.resource_url or ""
        _fenced(step, Fence(ctx, app, old.addon.name, primary_url or "", target.addon_name, target_url))
    else:
        step.run()
    if after_following:
        result.warnings.append(
            f"{target.addon_name} is the DATABASE of {app} but still a read-only follower "
            f"(unfollow: false); unfollow it (heroku pg:unfollow) to make it writable."
        )
    if ctx.check_mode and result.changed:
        result.data["database"] = None
    else:  # the old primary's database was not read: the config vars name its URL (Following)
        result.data["database"] = describe_attachment(ctx, app, PRIMARY, ctx.reads.config_vars(app))
    result.data.setdefault("previous", None)
    return result


@dataclass
class _Switch:
    """The changing part of a promotion: unfollow, then attach as DATABASE (each step when needed)."""

    ctx: Context
    result: Result
    app: str
    target: ResolvedDatabase
    info: DatabaseInfo
    old: Attachment | None  # DATABASE before, unless the target already is it
    attachments: list[Attachment]
    max_lag: int
    promoted: bool  # the target already is the DATABASE
    unfollowing: bool = False
    guard: PromotionGuard | None = None
    fence: Fence | None = None

    def run(self) -> None:
        ctx, result, app, target = self.ctx, self.result, self.app, self.target
        if self.unfollowing:
            _unfollow(ctx, result, target, self.info, self.max_lag, self.guard if self.old else None)
        if self.promoted:
            return
        namespace = target.attachment.namespace or None
        _ensure_ready(ctx, target)
        alias = _keep_alias(ctx, result, app, self.old, self.attachments)
        if self.fence is not None and not ctx.check_mode:
            self.fence.release_target()
        if not ctx.check_mode and self.guard is not None:
            kept_following = bool(self.info.following) and not self.unfollowing
            self.guard.before_attach(unfollowed=self.unfollowing, following=kept_following)
        why = f"Attach {target.addon_name} as DATABASE"
        _attach(ctx, result, app, target.addon_name, PRIMARY, namespace, why)
        _move_pooler(ctx, result, app, target, self.old, self.attachments)
        if not ctx.check_mode:
            _wait_release_phase(ctx, result, app)
        result.data["previous"] = {"addon": self.old.addon.name if self.old else None, "alias": alias}


def _fenced(step: _Switch, wall: Fence) -> None:
    """Run the switch behind a write fence on the old primary (planned only, in check mode)."""
    ctx = step.ctx
    if ctx.check_mode:
        step.run()
        step.result.data["fence"] = {**wall.report(), "read_only": True}  # what the real run does
        return
    try:
        wall.apply()
        if step.unfollowing:
            wall.wait_replayed()
        step.fence = wall
        step.run()
    except HerokuPgError as exc:
        # Nothing written through the API yet means the follower was not unfollowed.
        add_outcome(exc, wall.outcome(unfollow_sent=ctx.wrote))
        raise
    except BaseException:
        wall.outcome(unfollow_sent=ctx.wrote)
        raise
    finally:
        wall.close()
        step.result.data["fence"] = wall.report()


def _url_of(ctx: Context, attachment: Attachment) -> str | None:
    """The database URL of an attachment's add-on, as the Data API reports it (not the config var:
    another promotion may move DATABASE_URL meanwhile, the add-on's own URL stays)."""
    info = ctx.reads.database(attachment.addon.id)
    return info.resource_url if info is not None else None


def _unfollow(
    ctx: Context,
    result: Result,
    target: ResolvedDatabase,
    info: DatabaseInfo,
    max_lag: int,
    guard: PromotionGuard | None,
) -> None:
    """Wait until caught up (so no committed data is lost), unfollow, and wait until writable."""
    addon = target.addon_name

    def caught_up() -> tuple[bool, str]:
        now = ctx.reads.database(target.addon_id)
        if now is None or not now.following:
            return True, "not following"
        lag = behind_by_commits(now)
        if lag is None or lag > max_lag:
            return (
                False,
                f"following: {lag if lag is not None else 'unknown'} commits behind (max_lag {max_lag})",
            )
        return True, f"following: {lag} commits behind"

    if not ctx.check_mode:
        if ctx.wait.enabled:
            ctx.wait_until(caught_up, resource=f"{addon} on {target.app}", goal="catch up with its leader")
        else:
            done, status = caught_up()
            if not done:  # unfollowing now would drop the commits it has not replayed yet
                raise ValidationError(
                    f"{addon} is {status}; run with wait: true to wait until it has caught up. "
                    "Nothing was changed."
                )
        if guard is not None:
            guard.before_unfollow()
    request = PlannedRequest(
        "PUT",
        f"/client/v11/databases/{target.addon_id}/unfollow",
        None,
        f"Unfollow {addon} (make it writable)",
    )
    ctx.write(result, request, lambda: ctx.api.unfollow(target.addon_id))
    if ctx.check_mode:
        return

    def writable() -> tuple[bool, str]:
        now = ctx.reads.database(target.addon_id)
        if now is None or now.following:
            return False, "following"
        status = ctx.api.wait_status(target.addon_id)
        if status.error:
            raise APIError(f"{addon} failed to unfollow: {status.message}", error_id="unfollow_failed")
        return not status.waiting, status.message or "unfollowing"

    # Always waited for, even with wait: false: attaching a read-only DATABASE is what unfollow avoids.
    ctx.wait_until(writable, resource=f"{addon} on {target.app}", goal="stop following and become writable")


def _ensure_ready(ctx: Context, target: ResolvedDatabase) -> None:
    """pg:promote refuses a database that is not ready (wait_status waiting); wait for it if allowed."""
    status = ctx.api.wait_status(target.addon_id)
    if not status.waiting:
        return
    if not ctx.wait.enabled:
        raise ValidationError(
            f"{target.addon_name} cannot be promoted while in state: {status.message}. "
            "Run with wait: true (or heroku pg:wait) first. Nothing was changed."
        )
    if ctx.check_mode:  # the real run would wait here
        return

    def ready() -> tuple[bool, str]:
        now = ctx.api.wait_status(target.addon_id)
        return not now.waiting, now.message or "waiting"

    ctx.wait_until(ready, resource=f"{target.addon_name} on {target.app}", goal="become available")


def _keep_alias(
    ctx: Context, result: Result, app: str, current: Attachment | None, attachments: list[Attachment]
) -> str | None:
    """The old primary's other attachment name, creating one (server-named) when it has none."""
    if current is None:
        return None
    same = [
        a
        for a in attachments
        if a.addon.id == current.addon.id and a.namespace == current.namespace and a.name != PRIMARY
    ]
    if same:
        return same[0].name
    why = f"Keep an alias attachment for the old primary {current.addon.name}"
    created = _attach(ctx, result, app, current.addon.name, None, current.namespace, why)
    return created.name if created else None


def _move_pooler(
    ctx: Context,
    result: Result,
    app: str,
    target: ResolvedDatabase,
    current: Attachment | None,
    attachments: list[Attachment],
) -> None:
    if current is None:
        return
    pooler = next(
        (
            a
            for a in attachments
            if a.name == POOLER and a.namespace == POOLER_NAMESPACE and a.addon.id == current.addon.id
        ),
        None,
    )
    if pooler is not None:
        why = f"Reattach the connection pooler to {target.addon_name}"
        _attach(ctx, result, app, target.addon_name, POOLER, POOLER_NAMESPACE, why)


def _wait_release_phase(ctx: Context, result: Result, app: str) -> None:
    """With a release phase, the new DATABASE_URL is live once the "Attach DATABASE" release succeeds."""
    if not ctx.wait.enabled or not any(p.type == "release" for p in ctx.api.formation(app)):
        return
    releases = ctx.api.releases(app, "version ..; max=5, order=desc")
    attach = next((r for r in releases if r.description and "Attach DATABASE" in r.description), None)
    if attach is None:
        result.warnings.append(
            f"Unable to check the release phase of {app}: no Attach DATABASE release found."
        )
        return

    def finished() -> tuple[bool, str]:
        status = ctx.api.release(app, attach.id).status or "pending"
        return status != "pending", status

    status = ctx.wait_until(
        finished, resource=f"release v{attach.version} of {app}", goal="finish its release phase"
    )
    if status == "failed":  # the attachment is done; like the CLI, report rather than undo
        result.warnings.append(
            f"The release phase of v{attach.version} ({attach.description}) failed on {app}; check its logs."
        )
