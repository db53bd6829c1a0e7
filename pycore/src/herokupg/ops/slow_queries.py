"""Slow-query report of an app's Heroku Postgres logs, read through a log session (read-only).

The log session is a POST, but it reads: it changes nothing on the app, so the operation runs
the same way in check mode and never reports ``changed``.
"""

from __future__ import annotations

from typing import Any

from herokupg.ops.base import Context, Result
from herokupg.resolve import resolve_database
from herokupg.slowlog.report import Analyzer, as_sort
from herokupg.slowlog.source import DEFAULT_DYNO, MAX_LINES, stream_log_lines


def database_labels(names: tuple[str, ...]) -> list[str]:
    """Log labels of a database: its attachment names, with and without ``HEROKU_POSTGRESQL_``."""
    labels: list[str] = []
    for name in names:
        for label in (name, name.removeprefix("HEROKU_POSTGRESQL_")):
            if label not in labels:
                labels.append(label)
    return labels


def slow_query_report(
    ctx: Context,
    app: str,
    database: str | None = None,
    *,
    threshold_ms: float = 0.0,
    lines: int = MAX_LINES,
    top: int = 10,
    sort: str = "total",
    show_values: bool = False,
    dyno: str = DEFAULT_DYNO,
    timeout: float = 30.0,
) -> Result:
    """``queries`` (top fingerprints) and ``summary``; ``database`` keeps one database's lines."""
    chosen = as_sort(sort)
    if top < 1:
        raise ValueError(f"top must be 1 or more, got {top}.")
    if threshold_ms < 0:
        raise ValueError(f"threshold must be 0 ms or more, got {threshold_ms:g}.")
    if not 1 <= lines <= MAX_LINES:
        raise ValueError(f"lines must be from 1 to {MAX_LINES}, got {lines}.")
    labels: list[str] | None = None
    described: dict[str, Any] | None = None
    if database:
        db = resolve_database(ctx.reads, app, database)
        labels = database_labels(db.names)
        described = {"addon": db.addon_name, "config_var": db.config_var, "attachments": list(db.names)}
    analyzer = Analyzer(threshold_ms, labels)
    source = stream_log_lines(ctx.api, app, dyno=dyno, lines=lines, tail=False, timeout=timeout)
    report = analyzer.feed_all(source)
    data = report.as_dict(chosen, top, show_values)
    data["summary"]["sort"] = sort
    data["database"] = described
    return Result(changed=False, data=data)
