"""Report math: percentiles on known data, the histogram past the cap, sorting, sharing, bounds."""

from __future__ import annotations

import math
import random

import pytest

from herokupg.slowlog.parse import SlowQuery
from herokupg.slowlog.report import HISTOGRAM_ERROR, OTHER, Durations, SlowQueryReport, percentile_exact


def q(sql: str, ms: float, ts: str = "2026-11-25T14:00:00.000000+00:00") -> SlowQuery:
    return SlowQuery(ts, "postgres.1", "DATABASE", ms, "statement", sql)


def test_exact_percentiles_on_known_data() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile_exact(values, 50) == pytest.approx(50.5)
    assert percentile_exact(values, 95) == pytest.approx(95.05)
    assert percentile_exact(values, 99) == pytest.approx(99.01)
    assert percentile_exact(values, 0) == 1 and percentile_exact(values, 100) == 100
    assert percentile_exact([7.0], 99) == 7.0
    d = Durations()
    for v in reversed(values):
        d.add(v)
    assert d.exact and d.percentile(95) == pytest.approx(95.05) and (d.min, d.max) == (1, 100)


def test_histogram_past_the_cap_stays_within_its_error_bound() -> None:
    rng = random.Random(3)
    values = [rng.lognormvariate(6, 1.2) for _ in range(20_000)]
    d = Durations(cap=1000)
    for v in values:
        d.add(v)
    assert not d.exact and len(d.values) <= 1000 and len(d.buckets) < 1000
    ordered = sorted(values)
    for p in (50, 95, 99):
        truth = ordered[max(1, math.ceil(len(ordered) * p / 100)) - 1]  # nearest rank
        assert abs(d.percentile(p) - truth) <= truth * HISTOGRAM_ERROR * 1.001, p
    assert d.count == 20_000 and d.min == ordered[0] and d.max == ordered[-1]


def test_report_rows_totals_share_and_order() -> None:
    report = SlowQueryReport()
    for ms in (100.0, 200.0, 300.0, 400.0):
        report.add(q("SELECT * FROM a WHERE id = 1", ms, f"2026-11-25T14:00:0{int(ms // 100)}.000000+00:00"))
    report.add(q("SELECT * FROM b", 5000.0))
    report.add(q("SELECT * FROM c WHERE x = 'secret'", 1000.0))
    report.add(q("SELECT * FROM c WHERE x = 'other'", 100.0))
    by_total = report.rows("total", top=10)
    assert [r["query"] for r in by_total] == [
        "select * from b", "select * from c where x = ?", "select * from a where id = ?",
    ]
    a = by_total[2]
    assert (a["count"], a["total_ms"], a["mean_ms"]) == (4, 1000.0, 250.0)
    assert (a["min_ms"], a["max_ms"]) == (100.0, 400.0)
    assert (a["p50_ms"], a["p95_ms"], a["p99_ms"]) == (250.0, 385.0, 397.0)
    assert a["share"] == pytest.approx(1000 / 7100, abs=1e-6)
    assert a["first_seen"] == "2026-11-25T14:00:01+00:00" and a["last_seen"] == "2026-11-25T14:00:04+00:00"
    assert sum(r["share"] for r in by_total) == pytest.approx(1.0)
    assert [r["query"][-1] for r in report.rows("count")] == ["?", "?", "b"]
    assert report.rows("max", top=1)[0]["query"] == "select * from b"
    assert report.rows("mean", top=2)[1]["query"] == "select * from c where x = ?"
    c = by_total[1]
    assert c["example"] == "SELECT * FROM c WHERE x = ?"  # the slowest run, masked
    assert report.rows("total", 10, show_values=True)[1]["example"] == "SELECT * FROM c WHERE x = 'secret'"
    summary = report.summary()
    assert (summary["queries"], summary["fingerprints"], summary["total_ms"]) == (7, 3, 7100.0)


def test_threshold_and_fingerprint_cap() -> None:
    report = SlowQueryReport(threshold_ms=1000, max_fingerprints=2)
    report.add(q("SELECT 1 FROM a", 999.9))
    for table in ("a", "b", "c", "d"):
        report.add(q(f"SELECT 1 FROM {table}", 1000.0))
    assert report.below_threshold == 1 and report.queries == 4
    assert len(report.groups) == 3 and report.groups[OTHER].count == 2 and report.overflow_queries == 2
    with pytest.raises(ValueError, match="threshold"):
        SlowQueryReport(threshold_ms=-1)
    with pytest.raises(ValueError, match="sort must be one of"):
        report.sorted_groups("slowest")  # type: ignore[arg-type]
