"""Outliers from ``pg_stat_statements`` (read-only), as ``heroku pg:outliers`` shows them.

The statements of the database's own user, by total execution time: calls, mean time, share of
all their time and synchronous I/O time (block reads and writes). Like the Heroku CLI: the
extension is looked up in any schema, ``total_exec_time`` is ``total_time`` before PostgreSQL 13
and the block times are ``shared_blk_*_time`` from PostgreSQL 17. The connection runs in read-only
transactions, so check mode runs the same and nothing ever changes.

Queries are shown as ``pg_stat_statements`` keeps them (constants already ``$n``), with what
constants it keeps (utility statements, such as ``ALTER ROLE ... PASSWORD``) masked unless
``show_values``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from herokupg.ops.base import Context, Result
from herokupg.pgconnect import DatabaseQueryError, connect, database_url, where
from herokupg.resolve import DEFAULT_IDENTIFIER, resolve_database
from herokupg.slowlog.fingerprint import mask

if TYPE_CHECKING:
    import psycopg

APPLICATION_NAME = "herokupg outliers"
_SCHEMA = """
SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'pg_stat_statements'
"""
# {total}, {read}, {write}: column names by server version; {schema}: the extension's schema.
_OUTLIERS = """
SELECT queryid::text, query, calls, rows, {total} AS total_ms,
       {total} / NULLIF(calls, 0) AS mean_ms,
       {total} / NULLIF(sum({total}) OVER (), 0) AS share,
       {read} + {write} AS io_ms,
       count(*) OVER () AS statements, sum({total}) OVER () AS all_ms
FROM {schema}.pg_stat_statements
WHERE userid = (SELECT usesysid FROM pg_user WHERE usename = current_user LIMIT 1)
ORDER BY {total} DESC, calls DESC
LIMIT {limit}
"""


def missing_extension(label: str, app: str, config_var: str) -> str:
    return (
        f"pg_stat_statements is not installed in {label}. Install it once (it needs the server to "
        f"preload the library, which Heroku Postgres does): heroku pg:psql {config_var.removesuffix('_URL')} "
        f"-a {app} -c 'CREATE EXTENSION pg_stat_statements;'"
    )


def read_outliers(connection: psycopg.Connection[Any], top: int, label: str, hint: str) -> dict[str, Any]:
    """``queries`` (the top ``top`` by total time) and ``summary`` from an open connection."""
    import psycopg
    from psycopg import sql

    version_row = connection.execute("SHOW server_version_num").fetchone()
    version = int(str(version_row[0])) if version_row else 0
    schema_row = connection.execute(_SCHEMA).fetchone()
    if schema_row is None:
        raise DatabaseQueryError(hint)
    total = "total_exec_time" if version >= 130000 else "total_time"
    read, write = ("shared_blk_read_time", "shared_blk_write_time") if version >= 170000 else (
        "blk_read_time", "blk_write_time")
    query = sql.SQL(_OUTLIERS).format(
        total=sql.Identifier(total), read=sql.Identifier(read), write=sql.Identifier(write),
        schema=sql.Identifier(str(schema_row[0])), limit=sql.Literal(top),
    )
    try:
        rows = connection.execute(query).fetchall()
    except psycopg.errors.ObjectNotInPrerequisiteState:
        raise DatabaseQueryError(
            f"pg_stat_statements is installed in {label} but its library is not loaded: the server "
            "needs shared_preload_libraries = 'pg_stat_statements' (Heroku Postgres sets it) and a restart."
        ) from None
    except psycopg.Error as exc:
        raise DatabaseQueryError(f"Reading pg_stat_statements of {label} failed: {exc}") from None
    queries = [
        {
            "queryid": queryid, "query": text, "calls": int(calls), "rows": int(count),
            "total_exec_ms": round(float(total_ms), 3), "mean_ms": round(float(mean_ms or 0), 3),
            "share": round(float(share or 0), 6), "io_ms": round(float(io_ms), 3),
        }
        for queryid, text, calls, count, total_ms, mean_ms, share, io_ms, _n, _all in rows
    ]
    first = rows[0] if rows else None
    summary = {
        "statements": int(first[8]) if first else 0,
        "total_exec_ms": round(float(first[9]), 3) if first else 0.0,
        "server_version_num": version,
        "extension_schema": str(schema_row[0]),
    }
    return {"queries": queries, "summary": summary}


def outliers_report(
    ctx: Context,
    app: str,
    database: str | None = None,
    *,
    top: int = 10,
    show_values: bool = False,
    timeout: float = 30.0,
) -> Result:
    """The top ``top`` statements of ``database`` (DATABASE_URL by default) by total execution time."""
    if top < 1:
        raise ValueError(f"top must be 1 or more, got {top}.")
    db = resolve_database(ctx.reads, app, database or DEFAULT_IDENTIFIER)
    url = database_url(ctx.reads, db)
    label = where(db)
    hint = missing_extension(label, db.app, db.config_var)
    with connect(url, label, timeout=timeout, application_name=APPLICATION_NAME) as connection:
        data = read_outliers(connection, top, label, hint)
    if not show_values:
        for row in data["queries"]:
            row["query"] = mask(row["query"])
    data["database"] = {"addon": db.addon_name, "config_var": db.config_var, "attachments": list(db.names)}
    return Result(changed=False, data=data)
