"""``pg:backups`` as data: an app's backups, restores and copies, filtered, newest first."""

from __future__ import annotations

from typing import Literal

from herokupg.errors import ValidationError
from herokupg.ops.base import Context, Result
from herokupg.ops.transfers_common import DatabaseMatcher, describe_transfer, sort_newest_first
from herokupg.resolve import resolve_database

KindFilter = Literal["backup", "restore", "copy", "all"]
KINDS = ("backup", "restore", "copy", "all")


def backup_info(
    ctx: Context,
    app: str,
    *,
    database: str | None = None,
    kind: KindFilter = "all",
    succeeded: bool | None = None,
    latest: bool = False,
) -> Result:
    """Read-only. With ``database``, the transfers of its billing app that read from or wrote to it."""
    if kind not in KINDS:
        raise ValidationError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}.")
    owner = app
    matcher: DatabaseMatcher | None = None
    if database:
        db = resolve_database(ctx.reads, app, database)
        owner = db.billing_app or app
        matcher = DatabaseMatcher.of(db, ctx.reads.config_vars(db.app).get(db.config_var))
    selected = [
        t
        for t in sort_newest_first(ctx.reads.list_transfers(owner))
        if (kind == "all" or t.kind == kind)
        and (succeeded is None or t.succeeded == succeeded)
        and (matcher is None or matcher.involved_in(t))
    ]
    if latest:
        selected = selected[:1]
    described = [describe_transfer(t, owner) for t in selected]
    return Result(changed=False, data={"app": owner, "transfers": described})
