"""Resolve a database identifier to an attachment exactly as the Heroku CLI's DatabaseResolver does.

Identifiers: ``DATABASE``, ``DATABASE_URL``, ``HEROKU_POSTGRESQL_GREEN[_URL]``, an add-on name,
or ``otherapp::NAME``. The attachment resolver decides (its own rules are applied to the app's
attachment list, which is read anyway, before asking it); only ``heroku-postgresql`` attachments
are kept; on a plain 404 the app's attachments and config vars are searched instead (contract §1,
heroku-cli-util ``utils/pg/databases.ts``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from herokupg.errors import ConflictError, NotFoundError
from herokupg.models import Addon, Attachment

DEFAULT_IDENTIFIER = "DATABASE_URL"


def addon_service() -> str:
    """The Postgres add-on service slug; the CLI lets two env vars override it."""
    env = os.environ
    return env.get("HEROKU_POSTGRESQL_ADDON_NAME") or env.get("HEROKU_DATA_SERVICE") or "heroku-postgresql"


# -- plan classification (heroku-cli-util utils/addons/helpers.ts, contract §9) ----------------


def _pg_suffix(plan: str) -> str | None:
    """``standard-0`` of ``heroku-postgresql:standard-0``; None for another service's plan."""
    service, sep, suffix = plan.partition(":")
    if not sep:
        return plan  # a bare suffix such as "standard-0"
    return suffix if service == addon_service() else None


def is_postgres(plan: str) -> bool:
    return _pg_suffix(plan) is not None


def is_advanced(plan: str) -> bool:
    suffix = _pg_suffix(plan)
    return suffix is not None and re.match(r"advanced|performance", suffix) is not None


def is_legacy(plan: str) -> bool:
    """Every non-Advanced Postgres plan (the tiers the ``pg:*`` commands manage)."""
    return is_postgres(plan) and not is_advanced(plan)


def is_essential(plan: str) -> bool:
    suffix = _pg_suffix(plan)
    return is_legacy(plan) and suffix is not None and suffix.startswith("essential")


def is_legacy_essential(plan: str) -> bool:
    """dev/basic/mini plans. ``hobby-dev`` does not match, as in the CLI."""
    suffix = _pg_suffix(plan)
    return is_legacy(plan) and suffix is not None and re.match(r"dev|basic|mini", suffix) is not None


def is_essential_tier(plan: str) -> bool:
    """The CLI's ``essentialPlan``: Essential or legacy Essential (no follow/fork/settings...)."""
    return is_essential(plan) or is_legacy_essential(plan)


# -- resolved database ------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedDatabase:
    app: str  # the app the identifier was resolved on
    attachment: Attachment
    addon: Addon
    config_var: str  # e.g. "DATABASE_URL"
    # Every attachment name of this add-on on the app, e.g. ("DATABASE", "HEROKU_POSTGRESQL_PINK").
    attachment_names: tuple[str, ...] = field(default=())

    @property
    def addon_id(self) -> str:
        return self.addon.id

    @property
    def addon_name(self) -> str:
        return self.addon.name

    @property
    def plan(self) -> str:
        return self.addon.plan_name

    @property
    def is_essential(self) -> bool:
        return is_essential_tier(self.plan)

    @property
    def names(self) -> tuple[str, ...]:
        return self.attachment_names or (self.attachment.name,)

    @property
    def billing_app(self) -> str | None:
        return self.addon.app.name if self.addon.app else None


def _url_config_var(attachment: Attachment) -> str:
    """The attachment's connection config var: ``<name>_URL`` if it has it, else its first ``*_URL``."""
    preferred = f"{attachment.name}_URL"
    if preferred in attachment.config_vars:
        return preferred
    return attachment.url_config_var or preferred


def _is_pg(attachment: Attachment) -> bool:
    return attachment.plan_name.split(":", 1)[0] == addon_service()


def _singularize(attachments: list[Attachment], namespace: str | None) -> list[Attachment]:
    if namespace:
        return [a for a in attachments if a.namespace == namespace]
    if len(attachments) > 1:
        # Not specific enough: keep the default credential's attachments only.
        return [a for a in attachments if a.namespace is None]
    return attachments


def _ambiguous(matches: list[Attachment]) -> ConflictError:
    names = ", ".join(m.name for m in matches)
    return ConflictError(
        f"Ambiguous identifier; multiple matching add-ons found: {names}.",
        status=422,
        error_id="multiple_matches",
    )


def _strip_url(name: str) -> str:
    return name[:-4] if name.endswith("_URL") else name


def _attachment_names(attachments: list[Attachment], addon_id: str) -> tuple[str, ...]:
    return tuple(a.name for a in attachments if a.addon.id == addon_id)


def _resolved(app: str, attachment: Attachment, names: tuple[str, ...]) -> ResolvedDatabase:
    return ResolvedDatabase(
        app=app,
        attachment=attachment,
        addon=attachment.addon,
        config_var=_url_config_var(attachment),
        attachment_names=names,
    )


class Lookups(Protocol):
    """The reads resolution sends: :class:`HerokuAPI` itself, or an operation's memo of it."""

    def resolve_attachment(self, app: str, ident: str) -> list[Attachment]: ...

    def list_attachments(self, app: str) -> list[Attachment]: ...

    def config_vars(self, app: str) -> dict[str, str]: ...


def _named(attachment: Attachment, identifier: str) -> bool:
    """The attachment resolver's own rules: attachment id, name or ``<name>_URL``, add-on id or name."""
    return identifier in (
        attachment.id,
        attachment.name,
        f"{attachment.name}_URL",
        attachment.addon.id,
        attachment.addon.name,
    )


def _singular(
    candidates: list[Attachment], identifier: str, app: str, namespace: str | None
) -> list[Attachment]:
    """The resolver's Postgres matches narrowed as the CLI does; NotFoundError when none is left."""
    matches = _singularize([a for a in candidates if _is_pg(a)], namespace)
    if not matches:
        where = f" in namespace {namespace!r}" if namespace else ""
        raise NotFoundError(
            f"Couldn't find that addon. No Heroku Postgres attachment matches {identifier!r} "
            f"on app {app!r}{where}.",
            status=404,
            error_id="not_found",
            resource="addon",
        )
    return matches


def _by_config_var(
    attachments: list[Attachment], config: dict[str, str], identifier: str
) -> list[Attachment]:
    """The CLI's fallback when the resolver knows no such name: attachments whose URL is ``identifier``'s."""
    target = identifier if identifier.endswith("_URL") else f"{identifier}_URL"
    pg = [a for a in attachments if _is_pg(a)]
    url = config.get(target)
    matches = [a for a in pg if url and url == config.get(a.url_config_var or "")]
    if not matches:
        options = ", ".join(_strip_url(a.url_config_var or a.name) for a in pg)
        raise NotFoundError(
            f"Unknown database: {_strip_url(identifier)}. Valid options are: {options}",
            status=404,
            error_id="not_found",
        )
    return matches


def resolve_database(
    api: Lookups, app: str, identifier: str = DEFAULT_IDENTIFIER, *, namespace: str | None = None
) -> ResolvedDatabase:
    """Resolve ``identifier`` on ``app`` to one Heroku Postgres attachment.

    The app's attachment list is read first: every attachment name of the database comes from it,
    and when the identifier matches there by the resolver's own rules, the resolver's answer is
    known without asking it. Any other identifier goes to the resolver, then (on its 404) to the
    config vars, as in the CLI.

    Raises NotFoundError ("<app> has no databases", "Unknown database: X. Valid options are: ..."),
    or ConflictError(error_id="multiple_matches") when several distinct databases match.
    """
    identifier = identifier or DEFAULT_IDENTIFIER
    other_app = re.match(r"^(.+?)::(.+)", identifier)
    if other_app:
        app, identifier = other_app.group(1), other_app.group(2)

    configs: dict[str, dict[str, str]] = {}

    def config_of(name: str) -> dict[str, str]:
        # The CLI caches config vars per app within one run; so do we within one resolution.
        if name not in configs:
            configs[name] = api.config_vars(name)
        return configs[name]

    attachments = api.list_attachments(app)
    named = [a for a in attachments if _named(a, identifier)]
    try:
        candidates = named or api.resolve_attachment(app, identifier)
    except NotFoundError as exc:
        if exc.error_id != "not_found":
            raise
        # The resolver knows nothing by that name: try config var names, as the CLI does.
        if not any(_is_pg(a) for a in attachments):
            raise NotFoundError(f"{app} has no databases", status=404, error_id="not_found") from None
        matches = _by_config_var(attachments, config_of(app), identifier)
        pending_error: Exception = exc
    else:
        matches = _singular(candidates, identifier, app, namespace)
        pending_error = _ambiguous(matches)

    first = matches[0]
    home = first.app.name or app
    if len(matches) > 1:
        # Several attachments of one add-on on one app pointing at the same URL are one database.
        same = all(m.addon.id == first.addon.id and m.app.id == first.app.id for m in matches)
        config = config_of(home) if same else {}
        first_url = config.get(first.url_config_var or "")
        if not same or any(config.get(m.url_config_var or "") != first_url for m in matches):
            raise pending_error

    if home != app:
        attachments = api.list_attachments(home)
    return _resolved(home, first, _attachment_names(attachments, first.addon.id))


def all_databases(api: Lookups, app: str) -> list[ResolvedDatabase]:
    """Every (non-Advanced) Heroku Postgres database on ``app``, one per add-on, DATABASE first."""
    attachments = api.list_attachments(app)
    pg = [a for a in attachments if _is_pg(a) and is_legacy(a.plan_name)]
    by_addon: dict[str, list[Attachment]] = {}
    for attachment in pg:
        by_addon.setdefault(attachment.addon.id, []).append(attachment)
    databases: list[ResolvedDatabase] = []
    for addon_id, group in by_addon.items():
        # Represent the add-on by its DATABASE attachment, else its first default-credential one.
        primary = next((a for a in group if a.name == "DATABASE"), None)
        primary = primary or next((a for a in group if a.namespace is None), group[0])
        databases.append(_resolved(app, primary, _attachment_names(pg, addon_id)))
    databases.sort(key=lambda db: ("DATABASE" not in db.names, db.config_var))
    return databases


def same_database(a: str, b: str) -> bool:
    """Same protocol, host, port and path (credentials and query ignored), as pg:info compares."""
    if a == b:
        return True
    try:
        left, right = urlsplit(a), urlsplit(b)
        return (left.scheme, left.hostname, left.port, left.path) == (
            right.scheme,
            right.hostname,
            right.port,
            right.path,
        )
    except ValueError:
        return False


def name_for_url(config_vars: Mapping[str, str], url: str) -> str | None:
    """The config var (minus ``_URL``) pointing at the database of ``url``; ``DATABASE_URL`` is chosen last.

    This is the CLI's ``resolve_db_name`` rule for pg:info rows such as Following and Forked From.
    """
    names = [
        key
        for key, value in config_vars.items()
        if value == url or (value.startswith("postgres://") and same_database(value, url))
    ]
    if not names:
        return None
    others = [name for name in names if name != "DATABASE_URL"]
    chosen = others[-1] if others else names[-1]
    return _strip_url(chosen)
