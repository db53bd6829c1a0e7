"""pg:info as data: every database of an app (or one), with replication and fork state."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from herokupg.models import Attachment, DatabaseInfo
from herokupg.ops.base import Context, Result
from herokupg.resolve import ResolvedDatabase, all_databases, name_for_url, resolve_database

_COMMITS = re.compile(r"(\d+)\s+commits?")
POOLER_NAMESPACE = "connection-pooling:default"  # a connection pooler's attachment


def behind_by_commits(info: DatabaseInfo) -> int | None:
    """The follower's lag in commits, from the "Behind By" row ("12 commits"); None if not shown."""
    for value in info.info_value("Behind By"):
        match = _COMMITS.search(value)
        if match:
            return int(match.group(1))
    return None


def _names(config_vars: Mapping[str, str], values: list[str]) -> list[str]:
    """Replace database URLs by config var names, as pg:info does for resolve_db_name rows."""
    return [name_for_url(config_vars, value) or value for value in values]


def _first(values: list[str]) -> str | None:
    return values[0] if values else None


def addon_names(attachments: Iterable[Attachment]) -> dict[str, str]:
    """How each add-on on the app is called, by add-on id: DATABASE if attached so, else its first
    default-credential attachment. Heroku names a fork's source by add-on id (``forked_from``)."""
    names: dict[str, str] = {}
    for att in attachments:
        if att.namespace is None and (att.addon.id not in names or att.name == "DATABASE"):
            names[att.addon.id] = att.name
    return names


def _forked_from(info: DatabaseInfo, config_vars: Mapping[str, str], names: Mapping[str, str]) -> str | None:
    """The source of a fork: the Forked From row (a URL), else the top-level ``forked_from``."""
    rows = _names(config_vars, info.info_value("Forked From"))
    if rows:
        return rows[0]
    source_id = info.forked_from_id
    if source_id is not None:
        return names.get(source_id, source_id)  # not attached here: its add-on id says which
    if isinstance(info.forked_from, str):
        return name_for_url(config_vars, info.forked_from)
    return None


def describe(
    db: ResolvedDatabase,
    info: DatabaseInfo | None,
    config_vars: Mapping[str, str],
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One database as module/CLI output. No credentials: URLs become config var names.

    ``config_vars`` names the URLs: the app's config vars, or :func:`url_names`; ``names`` names
    add-on ids (:func:`addon_names`).
    """
    out: dict[str, Any] = {
        "addon": db.addon_name,
        "addon_id": db.addon_id,
        "attachments": list(db.names),
        "config_var": db.config_var,
        "plan": db.plan,
        "billing_app": db.billing_app,
        "provisioned": info is not None,
    }
    if info is None:
        out.update(status=db.addon.state or "provisioning", following=None, followers=[], behind_by=None)
        return out
    following = name_for_url(config_vars, info.following) if info.following else None
    out.update(
        status=info.status,
        following=following,
        followers=_names(config_vars, info.info_value("Followers")),
        behind_by=behind_by_commits(info) if info.following else None,
        forked_from=_forked_from(info, config_vars, names or {}),
        forks=_names(config_vars, info.info_value("Forks")),
        data_size=_first(info.info_value("Data Size")),
        num_bytes=info.num_bytes,
        tables=info.num_tables,
        pg_version=info.postgres_version or _first(info.info_value("PG Version")),
        fork_follow=_first(info.info_value("Fork/Follow")),
        rollback=_first(info.info_value("Rollback")),
        connections=info.num_connections,
        created=_first(info.info_value("Created")),
        region=_first(info.info_value("Region")),
        continuous_protection=_first(info.info_value("Continuous Protection")),
        info={entry.name: [str(v) for v in entry.values] for entry in info.info if entry.values},
    )
    # Rows carrying URLs are shown by name only: never a credential in output.
    for key in ("Following", "Followers", "Forked From", "Forks"):
        if key in out["info"]:
            out["info"][key] = _names(config_vars, out["info"][key])
    return out


def url_names(attachments: list[Attachment], infos: Iterable[DatabaseInfo | None]) -> dict[str, str]:
    """The ``*_URL`` config vars that Heroku sets for these databases, from their own answers.

    An attachment's config vars point at its database's ``resource_url`` (another user's, for a
    credential: the same database to :func:`name_for_url`), except a connection pooler's. Enough to
    name the URLs of the databases an operation has read, without reading the app's config vars.
    """
    urls = {
        info.addon_id: info.resource_url for info in infos if info and info.addon_id and info.resource_url
    }
    return {
        config_var: urls[att.addon.id]
        for att in attachments
        if att.addon.id in urls and att.namespace != POOLER_NAMESPACE
        for config_var in att.config_vars
        if config_var.endswith("_URL")
    }


def database_info(ctx: Context, app: str, database: str | None = None, *, reveal: bool = False) -> Result:
    """Read-only: ``databases`` is the list pg:info would show.

    With ``reveal``, each entry also carries ``url``: the value of its config var (credentials
    included), for callers that connect to the database themselves.
    """
    reads = ctx.reads
    targets = [resolve_database(reads, app, database)] if database else all_databases(reads, app)
    infos = [reads.database(db.addon_id) for db in targets]
    # Every database of the app read: they name each other. One alone needs the config vars.
    attachments = reads.list_attachments(app)
    names = reads.config_vars(app) if database or reveal else url_names(attachments, infos)
    ids = addon_names(attachments)
    described = [describe(db, info, names, ids) for db, info in zip(targets, infos, strict=True)]
    if reveal:
        for db, out in zip(targets, described, strict=True):
            out["url"] = names.get(db.config_var)
    return Result(changed=False, data={"databases": described})
