"""Platform-side state changes shared by the route modules (and usable by the data side):
lookups that raise Heroku's 404s, releases, attach/detach, config vars, add-on and app removal.
Every function here expects the caller to hold ``sb.store.lock`` and to save afterwards."""

from __future__ import annotations

from typing import TYPE_CHECKING

from herokupg_sandbox import naming
from herokupg_sandbox.http import HerokuHTTPError, invalid_params, not_found
from herokupg_sandbox.state import Addon, App, Attachment, Release, Store, new_id

if TYPE_CHECKING:
    from herokupg_sandbox.server import Sandbox

RELEASE_PHASE = "release"


def get_app(store: Store, key: str) -> App:
    app = store.app(key)
    if app is None:
        raise not_found("app", "Couldn't find that app.")
    return app


def get_addon(store: Store, key: str) -> Addon:
    addon = store.addon(key)
    if addon is None:
        raise get_addon_not_found()
    return addon


def get_addon_not_found() -> HerokuHTTPError:
    # The CLI's add-on resolver checks `resource == "add_on"` before retrying without the app.
    return not_found("add_on", "Couldn't find that add on.")


def attachment_not_found() -> HerokuHTTPError:
    # The CLI's resolver checks `resource == "add_on attachment"` before falling back.
    return not_found("add_on attachment", "Couldn't find that add on attachment.")


def add_release(sb: Sandbox, app: App, description: str) -> Release:
    """Append a release. With a release-phase process in the formation it starts ``pending`` and
    finishes after ``settings.release_phase_delay`` (see tick_releases)."""
    store = sb.store
    versions = [r.version for r in store.state.releases.values() if r.app_id == app.id]
    now = store.now()
    has_phase = any(entry.get("type") == RELEASE_PHASE for entry in app.formation)
    release = Release(
        id=new_id(),
        app_id=app.id,
        version=max(versions, default=0) + 1,
        description=description,
        created_at=now,
        status="pending" if has_phase else "succeeded",
        ready_at=now + store.state.settings.release_phase_delay if has_phase else now,
    )
    store.state.releases[release.id] = release
    app.updated_at = now
    return release


def tick_releases(sb: Sandbox) -> None:
    """Finish pending release phases whose time has come (``release_failure`` faults fail them)."""
    from herokupg_sandbox import faults

    store = sb.store
    with store.lock:
        now = store.now()
        due = [r for r in store.state.releases.values() if r.status == "pending" and r.ready_at <= now]
        for release in due:
            failed = faults.consume(sb, "release_failure", release.description) is not None
            release.status = "failed" if failed else "succeeded"
        if due:
            store.save()


def releases_of(store: Store, app: App) -> list[Release]:
    return sorted((r for r in store.state.releases.values() if r.app_id == app.id), key=lambda r: r.version)


def config_vars(sb: Sandbox, app: App) -> dict[str, str]:
    """User-set vars plus ``<ATTACHMENT>_URL`` for each attached, provisioned database."""
    from herokupg_sandbox import provider

    result = dict(app.config_vars)
    for att in sb.store.attachments_of_app(app.id):
        addon = sb.store.state.addons.get(att.addon_id)
        if addon is None:
            continue
        url = provider.database_url(sb, addon)
        if url is not None:
            result[f"{att.name}_URL"] = url
    return result


def attachment_config_var_names(store: Store, app: App) -> set[str]:
    return {f"{att.name}_URL" for att in store.attachments_of_app(app.id)}


def default_attachment_name(store: Store, app: App) -> str:
    """DATABASE when the app has none, else a free HEROKU_POSTGRESQL_<COLOR>."""
    used = {att.name for att in store.attachments_of_app(app.id)}
    return "DATABASE" if "DATABASE" not in used else naming.color_attachment_name(used)


def attach(sb: Sandbox, app: App, addon: Addon, name: str, namespace: str | None) -> Attachment:
    now = sb.store.now()
    att = Attachment(
        id=new_id(), name=name, app_id=app.id, addon_id=addon.id, created_at=now, updated_at=now,
        namespace=namespace,
    )
    sb.store.state.attachments[att.id] = att
    add_release(sb, app, f"Attach {name} (@ref:{addon.name})")
    return att


def detach(sb: Sandbox, att: Attachment) -> None:
    store = sb.store
    store.state.attachments.pop(att.id, None)
    app = store.state.apps.get(att.app_id)
    addon = store.state.addons.get(att.addon_id)
    if app is not None:
        add_release(sb, app, f"Detach {att.name} (@ref:{addon.name if addon else att.addon_id})")


def destroy_addon(sb: Sandbox, addon: Addon) -> None:
    """Detach everywhere, let the data side drop the database, forget the add-on and its schedules
    (backups stay: they belong to the app, as on Heroku)."""
    from herokupg_sandbox import provider

    store = sb.store
    for att in store.attachments_of_addon(addon.id):
        detach(sb, att)
    provider.destroy_database(sb, addon)
    addon.state = "deprovisioned"
    addon.updated_at = store.now()
    store.state.addons.pop(addon.id, None)
    for key in [k for k, s in store.state.schedules.items() if s.addon_id == addon.id]:
        del store.state.schedules[key]


def destroy_app(sb: Sandbox, app: App) -> None:
    store = sb.store
    state = store.state
    for addon in [a for a in state.addons.values() if a.app_id == app.id]:
        destroy_addon(sb, addon)
    for att in store.attachments_of_app(app.id):
        state.attachments.pop(att.id, None)
    for table in (state.releases, state.transfers, state.log_sessions):
        for key in [k for k, record in table.items() if record.app_id == app.id]:
            del table[key]
    del state.apps[app.id]


def confirmation_required(app: App, message: str) -> HerokuHTTPError:
    return HerokuHTTPError(
        423, "confirmation_required", f"{message} To proceed, pass confirm: {app.name}.",
        headers={"X-Confirmation-Required": app.name},
    )


def attach_named(
    sb: Sandbox, app: App, addon: Addon, name: str, namespace: str | None, confirm: str | None
) -> Attachment:
    """Attach ``addon`` to ``app`` as ``name``. An attachment of that name already on the app is
    replaced (how pg:promote moves DATABASE), which needs ``confirm`` equal to the app name;
    re-attaching the same add-on and namespace under the same name returns the existing one."""
    existing = next((a for a in sb.store.attachments_of_app(app.id) if a.name == name), None)
    if existing is not None and existing.addon_id == addon.id and existing.namespace == namespace:
        return existing
    if existing is not None and confirm != app.name:
        holder = sb.store.state.addons.get(existing.addon_id)
        raise confirmation_required(
            app, f"{name} is already attached to {app.name} ({holder.name if holder else existing.addon_id}) "
            f"and attaching {addon.name} as {name} replaces it.",
        )
    att = attach(sb, app, addon, name, namespace)
    if existing is not None:
        detach(sb, existing)
    return att


def attachment_name(value: str) -> str:
    name = value.upper().removesuffix("_URL")
    if not naming.ATTACHMENT_NAME.match(name):
        raise invalid_params(
            f"Invalid attachment name {value!r}: it must start with a letter and contain only letters, "
            "digits and underscores."
        )
    return name


def resolve_args(key: str, app: str | None, service: str | None) -> tuple[str, str | None, str | None]:
    """(identifier, app, addon_service) of a resolver body; ``app::name`` names the app inline."""
    if "::" in key:
        app, _, key = key.partition("::")
    return key, app or None, service or None
