"""The slow-query report on a Heroku-format log made from a real pgbench run (real PostgreSQL).

pgbench's scripts fix how often each statement runs: every tpcb-like transaction runs BEGIN, three
UPDATEs, one SELECT, one INSERT and END; every run of the multi-line script its three statements.
The report must find those ratios, with the multi-line statements reassembled into one group each.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from herokupg_sandbox.pgengine import available
from herokupg_sandbox.pgengine.pgbench_log import CLIENTS, make_log
from pglast.parser import fingerprint as reference

from herokupg.slowlog.files import iter_file_lines
from herokupg.slowlog.fingerprint import grouping, normalize
from herokupg.slowlog.parse import iter_slow_queries
from herokupg.slowlog.report import Analyzer, SlowQueryReport

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not available()[0], reason=f"postgres engine unavailable: {available()[1]}"),
]


@pytest.fixture(scope="module")
def pgbench_log() -> Iterator[tuple[Path, dict[str, float]]]:
    work = Path(tempfile.mkdtemp(prefix="herokupg-pgbench-test-", dir="/var/tmp"))
    try:
        log = work / "heroku.log"
        run = make_log(log, 2.0, progress=False, first_round=1)
        yield log, run
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def pgbench_report(pgbench_log: tuple[Path, dict[str, float]]) -> tuple[SlowQueryReport, dict[str, float]]:
    log, run = pgbench_log
    return Analyzer().feed_all(iter_file_lines(log)), run


# Statements as pgbench sends them (values of one run): the report's groups are their normalized texts.
TPCB_BRANCHES = "UPDATE pgbench_branches SET bbalance = bbalance + 7 WHERE bid = 1;"
TPCB_ONCE_EACH = (
    "BEGIN;",
    "END;",
    "UPDATE pgbench_accounts SET abalance = abalance + 7 WHERE aid = 12;",
    "UPDATE pgbench_tellers SET tbalance = tbalance + 7 WHERE tid = 3;",
    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (3, 1, 12, 7, CURRENT_TIMESTAMP);",
)
SELECT_ONLY = "SELECT abalance FROM pgbench_accounts WHERE aid = 12;"
MULTI_LINE = (
    "SELECT a.aid, a.abalance,\n       b.bbalance\n  FROM pgbench_accounts a\n"
    "  JOIN pgbench_branches b ON b.bid = a.bid\n WHERE a.aid IN (12, 12 + 1, 12 + 2, 12 + 3)\n"
    "   AND b.bid = 1",
    "UPDATE pgbench_tellers\n   SET tbalance = tbalance + 7,\n       filler = 'batch ' || 3\n WHERE tid = 3",
    "SELECT count(*) FROM pgbench_history WHERE tid = 3 AND delta > 7 AND aid < 1000",
)


def counts(report: SlowQueryReport) -> dict[str, int]:
    return {group.query: group.count for group in report.groups.values()}


Made = tuple[SlowQueryReport, dict[str, float]]


def test_the_log_is_heroku_format_and_fully_parsed(pgbench_report: Made) -> None:
    report, run = pgbench_report
    stats = report.stats
    assert run["mb"] >= 2.0 and run["transactions"] > 100
    assert stats.malformed_lines == 0 and stats.ignored_lines == 0 and stats.unmatched_durations == 0
    assert stats.postgres_lines == stats.lines > stats.messages  # multi-line messages took several lines
    assert report.queries == stats.slow_queries > run["transactions"]


def test_statement_counts_follow_the_pgbench_scripts(pgbench_report: Made) -> None:
    report, run = pgbench_report
    seen = counts(report)
    # pgbench -T ends a round with each client's transaction where it is: off by that much at most
    slack = CLIENTS * run["rounds"]
    tpcb = seen[normalize(TPCB_BRANCHES)]
    assert tpcb > 0
    for sql in TPCB_ONCE_EACH:
        assert abs(seen[normalize(sql)] - tpcb) <= slack, sql
    # select-only transactions add to the tpcb-like script's one SELECT per transaction
    assert seen[normalize(SELECT_ONLY)] > tpcb
    # the multi-line script: each statement once per run, reassembled and grouped under one fingerprint
    multi = [seen[normalize(sql)] for sql in MULTI_LINE]
    assert min(multi) > max(multi) - slack > 0


def test_grouping_agrees_with_pglast_on_the_workload(pgbench_log: tuple[Path, dict[str, float]]) -> None:
    # Every distinct statement of the run, grouped by our fingerprint and by pglast's (libpg_query,
    # PostgreSQL's own parser): the same groups.
    statements = {query.sql for query in iter_slow_queries(iter_file_lines(pgbench_log[0]))}
    ours: dict[str, set[str]] = {}
    theirs: dict[str, set[str]] = {}
    for sql in statements:
        ours.setdefault(grouping(sql)[1], set()).add(sql)
        theirs.setdefault(reference(sql), set()).add(sql)
    assert len(statements) > 1000
    mine, reference_groups = {frozenset(g) for g in ours.values()}, {frozenset(g) for g in theirs.values()}
    # never together what the parser tells apart
    assert all(any(g <= r for r in reference_groups) for g in mine)
    # and apart only what is one command spelled two ways (END is COMMIT; pg_stat_statements, which
    # tells utility statements apart by their text, keeps them apart too)
    split = [sorted({normalize(sql) for sql in r}) for r in reference_groups - mine]
    assert split in ([], [["commit", "end"]]), split
