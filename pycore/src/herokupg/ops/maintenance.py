"""maintenance:on/off as desired state: an app's maintenance mode, set only when it differs.

Heroku keeps the flag on the app (``GET /apps/{app}`` -> ``maintenance``) and takes a change as
``PATCH /apps/{app}`` with ``{"maintenance": true|false}``, which is what ``heroku maintenance:on``
and ``maintenance:off`` send. The flag is read first, so a rerun sends nothing, and the answer of
the PATCH is the state reported afterwards. In maintenance mode Heroku's router answers web
requests with a maintenance page; worker and one-off dynos keep running.
"""

from __future__ import annotations

from herokupg.ops.base import Context, PlannedRequest, Result


def _word(enabled: bool) -> str:
    return "on" if enabled else "off"


def ensure_maintenance(ctx: Context, app: str, *, enabled: bool) -> Result:
    """Make the maintenance mode of ``app`` ``enabled``; ``before`` and ``after`` hold the flag."""
    before = ctx.api.get_app(app).maintenance
    result = Result(before={"maintenance": before}, after={"maintenance": before})
    now = before
    if before == enabled:
        msg = f"Maintenance mode of {app} is already {_word(enabled)}: nothing to change."
    else:
        request = PlannedRequest(
            "PATCH",
            f"/apps/{app}",
            {"maintenance": enabled},
            f"Turn maintenance mode {_word(enabled)}",
        )
        updated = ctx.write(result, request, lambda: ctx.api.update_app(app, maintenance=enabled))
        now = enabled if updated is None else updated.maintenance
        result.after = {"maintenance": now}
        verb = "Would turn" if ctx.check_mode else "Turned"
        msg = f"{verb} maintenance mode of {app} {_word(enabled)} (it was {_word(before)})."
    result.data = {"maintenance": now, "previous": before, "msg": msg}
    return result
