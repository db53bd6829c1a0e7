"""``herokupg outliers``: the statements of a database by total execution time (pg_stat_statements).

Only argparse is imported at module level (the parser is built on every ``herokupg`` run).
Exit codes: 0 success, 1 failure, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

COLUMNS = ("total exec time", "prop exec time", "ncalls", "mean", "sync io time")


def add_outliers_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "outliers",
        help="show the statements with the longest execution time in aggregate (pg_stat_statements)",
        description="Like `heroku pg:outliers`: connects to the database (credentials read through the API, "
        "never printed; needs herokupg[postgres]) and lists the statements of its user by total execution "
        "time, with calls, mean time, share of time and synchronous I/O time. Only reads.",
    )
    parser.add_argument("-a", "--app", required=True, help="the app the database is attached to")
    parser.add_argument("database", nargs="?",
                        help="DATABASE_URL (default), HEROKU_POSTGRESQL_PINK, an add-on name...")
    parser.add_argument("-n", "--num", type=int, default=10, metavar="N",
                        help="statements to show (default 10)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--show-values", action="store_true",
                        help="show the constants pg_stat_statements keeps (utility statements may "
                        "hold secrets)")
    parser.add_argument("--width", type=int, default=120, help="table width (default 120)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                        help="API and connection timeout (default 30)")
    parser.set_defaults(handler=run)


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 1000 else f"{value / 1000:,.2f} s"


def table(data: dict[str, Any], width: int) -> str:
    from herokupg.slowlog.render import one_line

    rows = [
        (_ms(q["total_exec_ms"]), f"{q['share'] * 100:.1f}%", f"{q['calls']:,}", _ms(q["mean_ms"]),
         _ms(q["io_ms"]), q["query"])
        for q in data["queries"]
    ]
    widths = [max([len(COLUMNS[c])] + [len(r[c]) for r in rows]) for c in range(len(COLUMNS))]
    query_width = max(width - sum(w + 3 for w in widths), 20)
    lines = [" | ".join(h.rjust(w) for h, w in zip(COLUMNS, widths, strict=True)) + " | query"]
    lines += [
        " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=False)) + " | " + one_line(r[-1], query_width)
        for r in rows
    ]
    s, db = data["summary"], data["database"]
    lines.append("")
    lines.append(f"{s['statements']:,} statements of this database's user in pg_stat_statements "
                 f"({s['extension_schema']}), {_ms(s['total_exec_ms'])} in all; "
                 f"{db['config_var']} ({db['addon']})")
    if not rows:
        lines.insert(0, "No statements recorded yet.")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.num < 1:
        print("herokupg outliers: error: --num must be 1 or more", file=sys.stderr)
        return 2
    if args.timeout <= 0:
        print("herokupg outliers: error: --timeout must be more than 0 seconds", file=sys.stderr)
        return 2
    from herokupg.api import HerokuAPI
    from herokupg.client import HerokuClient
    from herokupg.errors import HerokuPgError
    from herokupg.ops.base import Context
    from herokupg.ops.outliers import outliers_report
    from herokupg.slowlog.render import to_json

    try:
        with HerokuClient(timeout=args.timeout) as client:
            result = outliers_report(Context(api=HerokuAPI(client)), args.app, args.database, top=args.num,
                                     show_values=args.show_values, timeout=args.timeout)
    except HerokuPgError as exc:
        print(f"herokupg outliers: {exc}", file=sys.stderr)
        return 1
    print(to_json(result.data) if args.format == "json" else table(result.data, args.width))
    return 0
