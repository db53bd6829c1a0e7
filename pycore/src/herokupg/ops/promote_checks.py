"""What promote checks so that it never makes a split brain.

Before anything: the target must follow the app's current primary (``DATABASE``), unless the
caller allows another database explicitly. Then, because another promotion of the same app may run
at the same time (Heroku has no lock for this), the state is read again right before the unfollow
and right before DATABASE is attached: DATABASE must still be the database read at the start and
the target must still follow it (or, once unfollowed by this run, follow nothing). Otherwise the
promotion stops with an error that names the database the other promotion made the primary.
"""

from __future__ import annotations

from dataclasses import dataclass

from herokupg.errors import ConflictError, ValidationError
from herokupg.models import Attachment, DatabaseInfo
from herokupg.ops.base import Context
from herokupg.ops.replication_common import PRIMARY, attachment_named, follows
from herokupg.resolve import ResolvedDatabase, name_for_url

CONFLICT = "promotion_conflict"


def _named(addon: str, attachments: list[Attachment], addon_id: str) -> str:
    names = sorted({a.name for a in attachments if a.addon.id == addon_id})
    return f"{addon} ({', '.join(names)})" if names else addon


def _following(info: DatabaseInfo, config_vars: dict[str, str]) -> str:
    if not info.following:
        return "it follows nothing"
    return f"it follows {name_for_url(config_vars, info.following) or 'a database of another app'}"


def refuse_non_follower(
    ctx: Context,
    app: str,
    target: ResolvedDatabase,
    info: DatabaseInfo,
    primary: Attachment,
    primary_url: str | None,
) -> None:
    """A target that does not follow DATABASE would drop the primary's data: refuse it, explaining."""
    if primary_url and follows(info, primary_url):
        return
    reason = _following(info, ctx.reads.config_vars(app))
    raise ValidationError(
        f"Refusing to promote {target.attachment.name} ({target.addon_name}) on {app}: it is not a follower "
        f"of the current primary {primary.addon.name} (DATABASE) - {reason}. Promoting it would point "
        f"DATABASE_URL at a database that does not hold what {primary.addon.name} holds. Nothing was "
        "changed. If that is what you want (a fork, a database filled with pg:copy, or a follower whose "
        "failover was interrupted after its unfollow), set allow_non_follower: true."
    )


@dataclass
class PromotionGuard:
    """The state read at the start of a promotion, checked again before each step that commits it."""

    ctx: Context
    app: str
    target: ResolvedDatabase
    primary: Attachment | None  # DATABASE at the start (None: the app had none)
    primary_url: str | None  # its database URL, to tell what the target follows

    def before_unfollow(self) -> None:
        """DATABASE unchanged and the target still follows it; else nothing was changed by this run."""
        self._same_primary(unfollowed=False)
        info = self.ctx.reads.database(self.target.addon_id)
        if info is not None and self.primary_url and follows(info, self.primary_url):
            return
        assert self.primary is not None
        raise ConflictError(
            f"{self._target()} no longer follows {self.primary.addon.name}, the DATABASE of {self.app}: "
            "another promotion (or heroku pg:unfollow) unfollowed it while this one ran. Nothing was "
            f"changed by this run. If an earlier failover of {self.app} to it was interrupted after its "
            "unfollow, run again with allow_non_follower: true to finish that one.",
            error_id=CONFLICT,
        )

    def before_attach(self, *, unfollowed: bool, following: bool) -> None:
        """DATABASE unchanged; a target kept following (``following``) still follows it."""
        self._same_primary(unfollowed=unfollowed)
        if not following or self.primary is None:
            return
        info = self.ctx.reads.database(self.target.addon_id)
        if info is None or not self.primary_url or not follows(info, self.primary_url):
            raise ConflictError(
                f"{self._target()} stopped following {self.primary.addon.name} while this promotion ran "
                f"(another promotion or heroku pg:unfollow). It was not attached as DATABASE of {self.app}.",
                error_id=CONFLICT,
            )

    def _target(self) -> str:
        return f"{self.target.attachment.name} ({self.target.addon_name})"

    def _same_primary(self, *, unfollowed: bool) -> None:
        self.ctx.reads.forget()  # the point is to see what another promotion did meanwhile
        attachments = self.ctx.reads.list_attachments(self.app)
        now = attachment_named(attachments, PRIMARY)
        before = self.primary
        if (now and now.addon.id) == (before and before.addon.id):
            return
        was = before.addon.name if before else "missing"
        if now is None:
            changed = f"DATABASE of {self.app} was {was} at the start and has been removed since"
        else:
            changed = (
                f"DATABASE of {self.app} was {was} at the start and is now "
                f"{_named(now.addon.name, attachments, now.addon.id)}: another promotion made it the primary"
            )
        if unfollowed:
            outcome = (
                f"{self._target()} was unfollowed by this run and was not attached as DATABASE: it is a "
                f"standalone copy of {was} that took no writes from the app; destroy it, or keep it as a "
                "spare (it cannot follow again)."
            )
        else:
            outcome = f"Nothing was changed by this run: {self._target()} still follows {was}."
        raise ConflictError(
            f"Stopped promoting {self._target()}: {changed} while this promotion ran. {outcome} "
            "Check which database should be the primary before running again.",
            error_id=CONFLICT,
        )
