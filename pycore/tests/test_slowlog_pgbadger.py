"""Cross-check with pgBadger: the same workload (multi-line statements, interleaved processes) as
Heroku log lines for us and as PostgreSQL's native stderr log for `pgbadger -f stderr`; the top 10
fingerprints by total time, their counts and totals must agree.

Needs the `pgbadger` binary (Debian package `pgbadger`; `apt-get install -y pgbadger` as root).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from herokupg.slowlog.report import Analyzer
from herokupg.slowlog.workload import STDERR_PREFIX, heroku_lines, statements, stderr_lines

PGBADGER = shutil.which("pgbadger")
pytestmark = pytest.mark.skipif(
    PGBADGER is None,
    reason="SKIPPED LOUDLY: pgbadger is not installed, so the pgBadger cross-check did not run "
    "(install it: apt-get install -y pgbadger)",
)


def words(query: str) -> list[str]:
    """Keywords and identifiers only: pgBadger and we write constants and spacing differently."""
    return re.findall(r"[a-z_][a-z_0-9.]*", query.lower())


def pgbadger_top(log: Path, out: Path) -> list[dict[str, Any]]:
    assert PGBADGER is not None
    cmd = [PGBADGER, "-q", "-j", "1", "-f", "stderr", "--prefix", STDERR_PREFIX, "-o", str(out), str(log)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    data = json.loads(out.read_text())
    per_db = data["normalyzed_info"]
    rows = [
        {"query": query, "count": info["count"], "total_ms": info["duration"]}
        for db in per_db.values() for query, info in db.items()
    ]
    return sorted(rows, key=lambda row: -row["total_ms"])


def test_top_fingerprints_agree_with_pgbadger(tmp_path: Path) -> None:
    count = 4000
    heroku = tmp_path / "heroku.log"
    native = tmp_path / "postgresql.log"
    with heroku.open("w") as handle:
        handle.writelines(heroku_lines(statements(count, seed=21)))
    with native.open("w") as handle:
        handle.writelines(stderr_lines(statements(count, seed=21)))
    assert any("[1-5]" in line for line in heroku.open()), "the workload must have multi-line statements"

    ours = Analyzer().feed_all(heroku.open()).as_dict("total", 10)
    assert ours["summary"]["queries"] == count and ours["summary"]["malformed_lines"] == 0
    theirs = pgbadger_top(native, tmp_path / "out.json")[:10]
    assert len(ours["queries"]) == len(theirs) == 10
    for mine, badger in zip(ours["queries"], theirs, strict=True):
        assert words(mine["query"]) == words(badger["query"]), (mine["query"], badger["query"])
        assert mine["count"] == badger["count"], mine["query"]
        assert mine["total_ms"] == pytest.approx(badger["total_ms"], abs=0.01 * mine["count"]), mine["query"]
