"""``herokupg slow-queries``: the slow-query report of an app's logs, a file or stdin.

Only argparse is imported at module level: the parser is built on every ``herokupg`` run, the
report machinery only when this command runs. Exit codes: 0 success, 1 failure, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from herokupg.slowlog.report import Analyzer


def add_slow_queries_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "slow-queries",
        help="report slow queries from Heroku Postgres logs",
        description="Group the slow statements Heroku Postgres logs (log_min_duration_statement) by "
        "fingerprint and report count, total, mean, percentiles and share of time. Reads an app's "
        "logs through a log session (HEROKU_API_KEY or ~/.netrc; HEROKU_API_URL), or a file or stdin "
        "holding `heroku logs -p postgres` output.",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("-a", "--app", help="the app whose Postgres logs to read")
    where.add_argument("--file", help="a file of `heroku logs -p postgres` output; - for stdin")
    parser.add_argument(
        "--database", help="only this database's lines (DATABASE, HEROKU_POSTGRESQL_PINK, an add-on name...)"
    )
    parser.add_argument("--threshold", type=float, default=0.0, metavar="MS",
                        help="only statements that took at least MS milliseconds (default 0)")
    parser.add_argument("--lines", type=int, default=1500, metavar="N",
                        help="log lines the session returns, 1..1500 (default 1500)")
    parser.add_argument("--dyno", default="postgres", help=argparse.SUPPRESS)
    parser.add_argument("--tail", action="store_true",
                        help="keep reading new lines and redraw the table until Ctrl-C or --duration")
    parser.add_argument("--duration", type=float, metavar="SECONDS", help="with --tail: stop after SECONDS")
    parser.add_argument("--interval", type=float, default=2.0, metavar="SECONDS",
                        help="with --tail: redraw every SECONDS (default 2)")
    parser.add_argument("--top", type=int, default=10, metavar="N", help="fingerprints to show (default 10)")
    parser.add_argument("--sort", choices=("total", "count", "mean", "max"), default="total")
    parser.add_argument("--format", choices=("table", "json", "html"), default="table",
                        help="html: one self-contained page with charts (needs herokupg[report])")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write the report to FILE, not standard output")
    parser.add_argument("--show-values", action="store_true",
                        help="show examples with their constants (they may hold personal data)")
    parser.add_argument("--width", type=int, default=120, help="table width (default 120)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar (shown on a terminal while the log is read)")
    parser.set_defaults(handler=run)


def _check(args: argparse.Namespace) -> str | None:
    if args.top < 1:
        return "--top must be 1 or more"
    if args.threshold < 0:
        return "--threshold must be 0 or more"
    if not 1 <= args.lines <= 1500:
        return "--lines must be from 1 to 1500"
    if args.tail and args.file:
        return "--tail reads a live log session: use it with --app, not --file"
    if args.duration is not None and args.duration <= 0:
        return "--duration must be more than 0 seconds"
    if args.duration is not None and not args.tail:
        return "--duration only applies with --tail"
    if args.interval <= 0:
        return "--interval must be more than 0 seconds"
    if args.format == "html" and args.tail:
        return "--format html writes one page of what was read: use it without --tail"
    return None


def _output(
    analyzer: Analyzer, args: argparse.Namespace, database: dict[str, Any] | None, renderer: Any = None
) -> str:
    """The report in ``args.format``; ``renderer`` draws the HTML page (a BackgroundRenderer)."""
    from herokupg.slowlog import render
    from herokupg.slowlog.report import as_sort

    data = analyzer.report.as_dict(as_sort(args.sort), args.top, args.show_values)
    data["summary"]["sort"] = args.sort
    data["database"] = database
    if args.format == "json":
        return render.to_json(data)
    if args.format == "html":
        from herokupg.slowlog import htmlreport

        source = f"app {args.app}" if args.app else ("standard input" if args.file == "-" else args.file)
        page = htmlreport.page_input(data, analyzer.report, source=source, show_values=args.show_values)
        return htmlreport.render_page(page) if renderer is None else str(renderer.render(page))
    return render.table(data, width=args.width, show_values=args.show_values)


def _emit(text: str, args: argparse.Namespace) -> None:
    if args.output:
        from pathlib import Path

        Path(args.output).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    else:
        print(text)


def _analyzer(args: argparse.Namespace, labels: list[str] | None) -> Analyzer:
    from herokupg.slowlog.report import Analyzer

    return Analyzer(args.threshold, labels, timeline=args.format == "html")


def _bar(args: argparse.Namespace, total: int | None, what: str) -> Any:
    """A context of a progress bar, or of None when standard error is no terminal or --quiet is given."""
    from contextlib import nullcontext

    from herokupg.slowlog.progress import ProgressBar, wanted

    return ProgressBar(total, what) if wanted(args.quiet) else nullcontext()


def _read_file(args: argparse.Namespace) -> Analyzer:
    import os

    from herokupg.slowlog.files import iter_file_lines

    analyzer = _analyzer(args, [args.database] if args.database else None)
    total = None if args.file == "-" else os.stat(args.file).st_size
    with _bar(args, total, "reading" if args.file == "-" else os.path.basename(args.file)) as bar:
        analyzer.feed_all(iter_file_lines(args.file, progress=bar))
    return analyzer


def _missing_extra(args: argparse.Namespace) -> str | None:
    """For --format html: the report extra's libraries, looked for before a long read."""
    if args.format != "html":
        return None
    from herokupg.slowlog.htmlreport import missing_libraries

    return missing_libraries()


def run(args: argparse.Namespace) -> int:
    problem = _check(args) or _missing_extra(args)
    if problem:
        print(f"herokupg slow-queries: error: {problem}", file=sys.stderr)
        return 2
    from herokupg.errors import HerokuPgError
    from herokupg.slowlog import render

    renderer = None
    try:
        if args.format == "html":  # its worker imports matplotlib while this process reads
            from herokupg.slowlog.htmlreport import BackgroundRenderer

            renderer = BackgroundRenderer()
        if args.file:
            analyzer = _read_file(args)
            stats = analyzer.report.summary()
            if not stats["postgres_lines"]:
                # Not an empty report: the wrong input (a file of other logs, or nothing at all).
                where = "stdin" if args.file == "-" else args.file
                read = render.plural(stats["lines"], "line")
                print(
                    f"herokupg slow-queries: no Heroku Postgres log line in {where} ({read} read): "
                    "give it `heroku logs -p postgres` output.",
                    file=sys.stderr,
                )
                return 1
            _emit(_output(analyzer, args, None, renderer), args)
            return 0
        return _run_app(args, renderer)
    except HerokuPgError as exc:
        print(f"herokupg slow-queries: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except OSError as exc:
        print(f"herokupg slow-queries: {exc}", file=sys.stderr)
        return 1
    finally:
        if renderer is not None:
            renderer.close()


def _run_app(args: argparse.Namespace, renderer: Any) -> int:
    from herokupg.api import HerokuAPI
    from herokupg.client import HerokuClient
    from herokupg.ops.slow_queries import database_labels
    from herokupg.resolve import resolve_database
    from herokupg.slowlog.source import stream_log_lines

    with HerokuClient() as client:
        api = HerokuAPI(client)
        labels: list[str] | None = None
        database: dict[str, Any] | None = None
        if args.database:
            db = resolve_database(api, args.app, args.database)
            labels = database_labels(db.names)
            database = {"addon": db.addon_name, "config_var": db.config_var, "attachments": list(db.names)}
        analyzer = _analyzer(args, labels)
        lines = stream_log_lines(api, args.app, dyno=args.dyno, lines=args.lines, tail=args.tail)
        if not args.tail:
            with _bar(args, None, f"logs of {args.app}") as bar:
                analyzer.feed_all(_counted(lines, bar) if bar is not None else lines)
        else:
            _tail(analyzer, lines, args, database)
        _emit(_output(analyzer, args, database, renderer), args)
    return 0


def _counted(lines: Iterator[str], bar: Any) -> Iterator[str]:
    for line in lines:
        bar(len(line) + 1, 1)
        yield line


def _tail(analyzer: Analyzer, lines: Any, args: argparse.Namespace, database: dict[str, Any] | None) -> None:
    """Read in a thread, redraw here: the deadline holds even when the stream is quiet."""
    import queue
    import threading
    import time

    items: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=10_000)  # bounded: the reader waits

    def reader() -> None:
        try:
            for line in lines:
                items.put(("line", line))
            items.put(("end", None))
        except Exception as exc:  # handed to the main thread, which raises it
            items.put(("error", exc))

    threading.Thread(target=reader, name="slowlog-reader", daemon=True).start()
    start = time.monotonic()
    deadline = start + args.duration if args.duration is not None else None
    next_draw = start + args.interval
    live = args.format == "table" and sys.stdout.isatty()
    try:
        while deadline is None or time.monotonic() < deadline:
            now = time.monotonic()
            wait = min(next_draw, deadline if deadline is not None else next_draw) - now
            try:
                kind, value = items.get(timeout=max(wait, 0.01))
            except queue.Empty:
                kind, value = "tick", None
            if kind == "line":
                analyzer.feed(value)
            elif kind == "end":
                break
            elif kind == "error":
                raise value
            if time.monotonic() >= next_draw:
                next_draw = time.monotonic() + args.interval
                analyzer.flush_idle()
                if live:
                    sys.stdout.write("\x1b[H\x1b[2J" + _output(analyzer, args, database) + "\n")
                    sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    analyzer.flush()
    if live:
        sys.stdout.write("\x1b[H\x1b[2J")
