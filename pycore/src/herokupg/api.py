"""Typed wrappers of the Platform API and Data API endpoints used for Heroku Postgres.

One method per endpoint, sending the headers the Heroku CLI v11 sends (contract §0/§1) and
returning :mod:`herokupg.models` objects. No logic beyond request shaping lives here: resolution
is in :mod:`herokupg.resolve`, idempotency and waiting in the operations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from herokupg.client import HerokuClient
from herokupg.errors import UnexpectedResponseError
from herokupg.models import (
    Addon,
    App,
    Attachment,
    DatabaseInfo,
    Formation,
    LogSession,
    PGSettings,
    PublicUrl,
    RateLimit,
    Release,
    Transfer,
    TransferSchedule,
    WaitStatus,
    parse,
    parse_list,
    parse_settings,
    register_url_secret,
)

SDK_ACCEPT = "application/vnd.heroku+json; version=3.sdk"
# Attachment list/resolve: include each attachment's add-on plan and config var names.
ATTACHMENT_INCLUSION = {"Accept-Inclusion": "addon:plan,config_vars"}
# Add-on list/resolve/poll: expand the service and plan objects.
ADDON_EXPANSION = {"Accept-Expansion": "addon_service,plan"}
PLAN_EXPANSION = {"Accept-Expansion": "plan"}


def _seg(value: str | int) -> str:
    """One URL path segment, escaped (names are usually safe; ids from users may not be)."""
    return quote(str(value), safe="")


def _db(addon_id: str, *rest: str) -> str:
    """A Data API database path: ``/client/v11/databases/{id}[/rest...]``."""
    return "/".join(("/client/v11/databases", _seg(addon_id), *rest))


def _list(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else []


class HerokuAPI:
    """The Heroku endpoints herokupg uses, on top of one :class:`HerokuClient`."""

    def __init__(self, client: HerokuClient) -> None:
        self.client = client

    # -- apps -----------------------------------------------------------------------------

    def get_app(self, app: str) -> App:
        # 3.sdk exposes `generation` (cedar/fir), which decides the log-session body.
        return parse(App, self.client.get(f"/apps/{_seg(app)}", accept=SDK_ACCEPT))

    def update_app(self, app: str, *, maintenance: bool) -> App:
        """``PATCH /apps/{app}`` with ``{"maintenance": ...}``, as ``heroku maintenance:on/off`` sends it.
        Setting a flag to a value may be repeated, so it is retried like a read."""
        raw = self.client.patch(f"/apps/{_seg(app)}", json={"maintenance": maintenance}, idempotent=True)
        return parse(App, raw)

    def config_vars(self, app: str) -> dict[str, str]:
        raw = self.client.get(f"/apps/{_seg(app)}/config-vars") or {}
        if not isinstance(raw, dict):
            problem = f"(the whole body): expected an object (got {type(raw).__name__})"
            raise UnexpectedResponseError("ConfigVars", [problem], request_id=self.client.last_request_id)
        config = {str(k): str(v) for k, v in raw.items() if v is not None}
        for value in config.values():
            if value.startswith(("postgres://", "postgresql://")):
                register_url_secret(value)
        return config

    # -- add-ons --------------------------------------------------------------------------

    def list_addons(self, app: str) -> list[Addon]:
        raw = self.client.get_all(f"/apps/{_seg(app)}/addons", accept=SDK_ACCEPT, headers=ADDON_EXPANSION)
        return parse_list(Addon, raw)

    def get_addon(self, app: str | None, name: str) -> Addon:
        """``GET /apps/{app}/addons/{name}`` (the provisioning poll), or ``GET /addons/{name}``."""
        if app is None:
            return parse(Addon, self.client.get(f"/addons/{_seg(name)}"))
        path = f"/apps/{_seg(app)}/addons/{_seg(name)}"
        return parse(Addon, self.client.get(path, headers=ADDON_EXPANSION))

    def create_addon(
        self,
        app: str,
        plan: str,
        *,
        config: Mapping[str, str | bool] | None = None,
        attachment_name: str | None = None,
        name: str | None = None,
        confirm: str | None = None,
    ) -> Addon:
        """``POST /apps/{app}/addons``; ``config`` is the provider config (``{"follow": "DATABASE_URL"}``)."""
        body: dict[str, Any] = {
            "plan": {"name": plan},
            "attachment": {"name": attachment_name} if attachment_name else {},
            "config": dict(config or {}),
        }
        if confirm is not None:
            body["confirm"] = confirm
        if name is not None:
            body["name"] = name
        headers = {**PLAN_EXPANSION, "x-heroku-legacy-provider-messages": "true"}
        raw = self.client.post(f"/apps/{_seg(app)}/addons", json=body, headers=headers, idempotent=False)
        return parse(Addon, raw)

    def delete_addon(self, app: str, addon: str, *, force: bool = False) -> Addon:
        path = f"/apps/{_seg(app)}/addons/{_seg(addon)}"
        return parse(Addon, self.client.delete(path, json={"force": force}, headers=PLAN_EXPANSION))

    def resolve_addon(self, app: str, name: str) -> list[Addon]:
        """``POST /actions/addons/resolve``; ``otherapp::name`` overrides the app, as in the CLI."""
        app_part, sep, addon_part = name.partition("::")
        if sep and app_part and addon_part:
            app, name = app_part, addon_part
        raw = self.client.post(
            "/actions/addons/resolve",
            json={"addon": name, "app": app},
            accept=SDK_ACCEPT,
            headers=ADDON_EXPANSION,
            idempotent=True,  # a lookup, safe to repeat
        )
        return parse_list(Addon, _list(raw))

    # -- attachments ----------------------------------------------------------------------

    def list_attachments(self, app: str) -> list[Attachment]:
        raw = self.client.get_all(
            f"/apps/{_seg(app)}/addon-attachments", accept=SDK_ACCEPT, headers=ATTACHMENT_INCLUSION
        )
        return parse_list(Attachment, raw)

    def addon_attachments(self, addon: str) -> list[Attachment]:
        raw = self.client.get_all(f"/addons/{_seg(addon)}/addon-attachments")
        return parse_list(Attachment, raw)

    def resolve_attachment(self, app: str, ident: str) -> list[Attachment]:
        """``POST /actions/addon-attachments/resolve``; like the pg resolver, no service filter is sent."""
        raw = self.client.post(
            "/actions/addon-attachments/resolve",
            json={"addon_attachment": ident, "app": app},
            accept=SDK_ACCEPT,
            headers=ATTACHMENT_INCLUSION,
            idempotent=True,
        )
        return parse_list(Attachment, _list(raw))

    def create_attachment(
        self,
        addon: str,
        app: str,
        *,
        name: str | None = None,
        namespace: str | None = None,
        confirm: str | None = None,
    ) -> Attachment:
        """``POST /addon-attachments``. Without ``name`` the API picks one (``HEROKU_POSTGRESQL_<COLOR>``)."""
        # namespace is always sent (null for the default credential), as pg:promote does.
        body: dict[str, Any] = {"addon": {"name": addon}, "app": {"name": app}, "namespace": namespace}
        if name is not None:
            body["name"] = name
        if confirm is not None:
            body["confirm"] = confirm
        return parse(Attachment, self.client.post("/addon-attachments", json=body, idempotent=False))

    def delete_attachment(self, attachment_id: str) -> Attachment:
        return parse(Attachment, self.client.delete(f"/addon-attachments/{_seg(attachment_id)}"))

    # -- databases (Data API) -------------------------------------------------------------

    def database(self, addon_id: str) -> DatabaseInfo:
        """``GET /client/v11/databases/{id}``; NotFoundError while the database is provisioning."""
        return parse(DatabaseInfo, self.client.get(_db(addon_id), api="data"))

    def wait_status(self, addon_id: str) -> WaitStatus:
        raw = self.client.get(_db(addon_id, "wait_status"), api="data")
        return parse(WaitStatus, raw)

    def unfollow(self, addon_id: str) -> None:
        self.client.put(_db(addon_id, "unfollow"), api="data")

    def settings(self, addon: str) -> PGSettings:
        return parse_settings(self.client.get(f"/postgres/v0/databases/{_seg(addon)}/config", api="data"))

    def update_settings(self, addon: str, values: Mapping[str, Any]) -> PGSettings:
        raw = self.client.patch(f"/postgres/v0/databases/{_seg(addon)}/config", api="data", json=dict(values))
        return parse_settings(raw)

    # -- transfers: backups, restores, copies ----------------------------------------------

    def list_transfers(self, app: str) -> list[Transfer]:
        raw = self.client.get_all(f"/client/v11/apps/{_seg(app)}/transfers", api="data")
        return parse_list(Transfer, raw)

    def transfer(self, app: str, num_or_uuid: int | str, verbose: bool = False) -> Transfer:
        """One transfer by ``num`` or ``uuid``; ``logs`` are only present with ``verbose``."""
        path = f"/client/v11/apps/{_seg(app)}/transfers/{_seg(num_or_uuid)}"
        raw = self.client.get(path, api="data", params={"verbose": "true"} if verbose else None)
        return parse(Transfer, raw)

    def capture(self, addon_id: str) -> Transfer:
        raw = self.client.post(_db(addon_id, "backups"), api="data", idempotent=False)
        return parse(Transfer, raw)

    def restore(self, addon_id: str, backup_url: str, *, extensions: list[str] | None = None) -> Transfer:
        body: dict[str, Any] = {"backup_url": backup_url}
        if extensions:
            body["extensions"] = sorted({e.strip().lower() for e in extensions if e.strip()})
        raw = self.client.post(_db(addon_id, "restores"), api="data", json=body, idempotent=False)
        return parse(Transfer, raw)

    def delete_transfer(self, app: str, num: int) -> None:
        self.client.delete(f"/client/v11/apps/{_seg(app)}/transfers/{_seg(num)}", api="data")

    def public_url(self, app: str, num: int) -> PublicUrl:
        """A signed download URL of a backup, and when it expires."""
        path = f"/client/v11/apps/{_seg(app)}/transfers/{_seg(num)}/actions/public-url"
        return parse(PublicUrl, self.client.post(path, api="data", idempotent=True))

    def cancel_transfer(self, app: str, uuid: str) -> Transfer | None:
        path = f"/client/v11/apps/{_seg(app)}/transfers/{_seg(uuid)}/actions/cancel"
        raw = self.client.post(path, api="data", idempotent=True)
        return parse(Transfer, raw) if isinstance(raw, dict) and "uuid" in raw else None

    # -- backup schedules ----------------------------------------------------------------

    def schedules(self, addon_id: str) -> list[TransferSchedule]:
        raw = self.client.get_all(_db(addon_id, "transfer-schedules"), api="data")
        return parse_list(TransferSchedule, raw)

    def create_schedule(self, addon_id: str, hour: int, timezone: str, name: str) -> TransferSchedule | None:
        """Schedule daily backups; ``name`` is the schedule name, ``<ATTACHMENT>_URL``."""
        body = {"hour": f"{hour:02d}", "timezone": timezone, "schedule_name": name}
        raw = self.client.post(_db(addon_id, "transfer-schedules"), api="data", json=body, idempotent=False)
        return parse(TransferSchedule, raw) if isinstance(raw, dict) and "uuid" in raw else None

    def delete_schedule(self, addon_id: str, uuid: str) -> None:
        self.client.delete(_db(addon_id, "transfer-schedules", _seg(uuid)), api="data")

    # -- logs, releases, formation, account -------------------------------------------------

    def create_log_session(
        self,
        app: str,
        *,
        dyno: str | None = None,
        lines: int | None = None,
        tail: bool = False,
        source: str | None = None,
    ) -> LogSession:
        """``POST /apps/{app}/log-sessions`` with the Cedar body (``dyno``, as the CLI sends)."""
        body: dict[str, Any] = {"tail": tail}
        if dyno is not None:
            body["dyno"] = dyno
        if lines is not None:
            body["lines"] = lines
        if source is not None:
            body["source"] = source
        path = f"/apps/{_seg(app)}/log-sessions"
        raw = self.client.post(path, json=body, accept=SDK_ACCEPT, idempotent=True)
        return parse(LogSession, raw)

    def releases(self, app: str, range: str | None = None) -> list[Release]:
        """All releases, or only the page ``range`` selects (e.g. ``version ..; max=5, order=desc``)."""
        path = f"/apps/{_seg(app)}/releases"
        if range is None:
            raw = self.client.get_all(path)
        else:
            # One page only, like the CLI's `partial: true`: do not follow Next-Range.
            raw = _list(self.client.request("GET", path, headers={"Range": range}).body)
        return parse_list(Release, raw)

    def release(self, app: str, release_id: str) -> Release:
        return parse(Release, self.client.get(f"/apps/{_seg(app)}/releases/{_seg(release_id)}"))

    def formation(self, app: str) -> list[Formation]:
        raw = self.client.get_all(f"/apps/{_seg(app)}/formation")
        return parse_list(Formation, raw)

    def rate_limits(self) -> RateLimit:
        return parse(RateLimit, self.client.get("/account/rate-limits"))
