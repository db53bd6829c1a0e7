"""Aggregate slow queries per fingerprint, in memory bounded by the number of fingerprints.

Percentiles: each fingerprint keeps its first :data:`EXACT_CAP` durations and computes exact
percentiles from them (linear interpolation between closest ranks, like PostgreSQL's
``percentile_cont`` and numpy's default). Past the cap it switches to a log-scale histogram whose
bucket bounds grow by a factor ``1 + 2*HISTOGRAM_ERROR`` (2 %): a percentile is then the
nearest-rank duration's bucket, reported as the bucket's geometric middle clamped to the exact min
and max, so it is within :data:`HISTOGRAM_ERROR` (1 %) of the duration of that rank. count, total, mean,
min and max are always exact. At most :data:`MAX_FINGERPRINTS` fingerprints are kept; statements
of further fingerprints are added to one ``(other)`` row and counted in ``overflow_queries``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from herokupg.slowlog.buckets import LogScale
from herokupg.slowlog.fingerprint import grouping, mask
from herokupg.slowlog.parse import LogMessage, MessageAssembler, ParseStats, SlowQuery, SlowQueryExtractor

if TYPE_CHECKING:
    from herokupg.slowlog.timeline import Timeline

EXACT_CAP = 1000
HISTOGRAM_ERROR = 0.01
MAX_FINGERPRINTS = 10_000
MAX_EXAMPLE_CHARS = 10_000
OTHER = "(other)"
_SCALE = LogScale(1 + 2 * HISTOGRAM_ERROR)  # below a nanosecond: one bucket (clamping keeps min exact)

Sort = Literal["total", "count", "mean", "max"]
SORTS: tuple[Sort, ...] = ("total", "count", "mean", "max")


def as_sort(value: str) -> Sort:
    """``value`` as a sort key, or ValueError naming the choices."""
    for sort in SORTS:
        if value == sort:
            return sort
    raise ValueError(f"sort must be one of {', '.join(SORTS)}, got {value!r}.")


def percentile_exact(ordered: list[float], p: float) -> float:
    """The ``p``-th percentile (0..100) of sorted values, interpolating linearly between ranks."""
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * p / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class Durations:
    """Exact values up to ``cap``, then a sparse log-scale histogram (see the module docstring).

    :meth:`add` only appends to ``values`` (the hot path); count, min, max and the histogram are
    brought up to date a batch at a time: when ``values`` outgrows the cap, it is folded into the
    buckets and emptied, so it never holds more than ``cap + 1`` durations.
    """

    __slots__ = ("buckets", "cap", "folded", "folded_max", "folded_min", "values")

    def __init__(self, cap: int = EXACT_CAP) -> None:
        self.cap = cap
        self.values: list[float] = []  # every duration while exact; afterwards those not yet folded
        self.buckets: Counter[int] = Counter()
        self.folded = 0  # durations counted in buckets
        self.folded_min = math.inf
        self.folded_max = -math.inf

    @property
    def exact(self) -> bool:
        return not self.folded

    @property
    def count(self) -> int:
        return self.folded + len(self.values)

    @property
    def min(self) -> float:
        return min(self.folded_min, *self.values) if self.values else self.folded_min

    @property
    def max(self) -> float:
        return max(self.folded_max, *self.values) if self.values else self.folded_max

    def add(self, value: float) -> None:
        values = self.values
        values.append(value)
        if len(values) > self.cap:
            self.fold()

    def fold(self) -> None:
        """Move the buffered durations into the buckets (once past the cap)."""
        values, self.values = self.values, []
        self.folded += len(values)
        self.folded_min = min(self.folded_min, *values)
        self.folded_max = max(self.folded_max, *values)
        _SCALE.count(self.buckets, values)

    def weighted(self) -> list[tuple[float, int]]:
        """Every duration with its count: exact ones once each, buckets at their geometric middle."""
        return [(v, 1) for v in self.values] + [
            (_SCALE.middle(b), n) for b, n in self.buckets.items()
        ]

    def percentile(self, p: float) -> float:
        if not self.folded:
            return percentile_exact(sorted(self.values), p)
        if self.values:
            self.fold()  # changes no figure: the durations move from the buffer to the buckets
        target = max(1, math.ceil(self.folded * p / 100.0))
        seen = 0
        for b in sorted(self.buckets):
            seen += self.buckets[b]
            if seen >= target:
                return min(max(_SCALE.middle(b), self.folded_min), self.folded_max)
        return self.folded_max


@dataclass(slots=True)
class FingerprintStats:
    fingerprint: str
    query: str  # the normalized text
    durations: Durations = field(default_factory=Durations)
    total_ms: float = 0.0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    example: str = ""  # the slowest occurrence, raw (masked on output unless show_values)
    example_ms: float = -1.0
    kinds: set[str] = field(default_factory=set)

    def add(self, query: SlowQuery, when: datetime | None) -> None:
        ms = query.duration_ms
        durations = self.durations
        values = durations.values
        values.append(ms)  # Durations.add, inline: this runs for every query
        if len(values) > durations.cap:
            durations.fold()
        self.total_ms += ms
        self.kinds.add(query.kind)
        if when is not None:
            first, last = self.first_seen, self.last_seen
            if first is None or last is None:
                self.first_seen = self.last_seen = when
            elif when < first:
                self.first_seen = when
            elif when > last:
                self.last_seen = when
        if ms > self.example_ms:
            self.example_ms = ms
            self.example = query.sql[:MAX_EXAMPLE_CHARS]

    @property
    def count(self) -> int:
        return self.durations.count

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.count if self.count else 0.0


def parse_time(ts: str) -> datetime | None:
    try:
        return datetime.fromisoformat(ts)
    except ValueError:
        return None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _ms(value: float) -> float:
    return round(value, 3)


class SlowQueryReport:
    """Feed :class:`SlowQuery` entries with :meth:`add`; read rows with :meth:`rows`."""

    def __init__(
        self,
        threshold_ms: float = 0.0,
        *,
        stats: ParseStats | None = None,
        max_fingerprints: int = MAX_FINGERPRINTS,
        exact_cap: int = EXACT_CAP,
        timeline: Timeline | None = None,
    ) -> None:
        if threshold_ms < 0:
            raise ValueError(f"threshold must be 0 ms or more, got {threshold_ms:g}.")
        self.threshold_ms = threshold_ms
        self.stats = stats if stats is not None else ParseStats()
        self.max_fingerprints = max_fingerprints
        self.exact_cap = exact_cap
        self.groups: dict[str, FingerprintStats] = {}
        self.total_ms = 0.0
        self.queries = 0
        self.below_threshold = 0
        self.overflow_queries = 0
        self.timeline = timeline  # slow queries over time, for the HTML report

    def add(self, query: SlowQuery) -> None:
        ms = query.duration_ms
        if ms < self.threshold_ms:
            self.below_threshold += 1
            return
        normalized, key = grouping(query.sql)
        group = self.groups.get(key)
        if group is None:
            if len(self.groups) >= self.max_fingerprints:
                self.overflow_queries += 1
                key, normalized = OTHER, OTHER
                group = self.groups.get(key)
            if group is None:
                group = FingerprintStats(key, normalized, Durations(self.exact_cap))
                self.groups[key] = group
        ts = query.ts
        group.add(query, parse_time(ts))
        if self.timeline is not None:  # it skips the times it cannot read, as parse_time does
            self.timeline.add(ts, ms)
        self.total_ms += ms
        self.queries += 1

    def sorted_groups(self, sort: Sort = "total", top: int | None = None) -> list[FingerprintStats]:
        if sort not in SORTS:
            raise ValueError(f"sort must be one of {', '.join(SORTS)}, got {sort!r}.")

        def key(g: FingerprintStats) -> tuple[float, float, str]:
            first, second = {
                "total": (g.total_ms, g.count),
                "count": (g.count, g.total_ms),
                "mean": (g.mean_ms, g.count),
                "max": (g.durations.max, g.count),
            }[sort]
            return (-first, -second, g.fingerprint)

        ordered = sorted(self.groups.values(), key=key)
        return ordered if top is None else ordered[: max(top, 0)]

    def row(self, group: FingerprintStats, show_values: bool = False) -> dict[str, Any]:
        d = group.durations
        example = group.example if show_values else mask(group.example)
        return {
            "fingerprint": group.fingerprint,
            "query": group.query,
            "example": example,
            "kinds": sorted(group.kinds),
            "count": group.count,
            "total_ms": _ms(group.total_ms),
            "mean_ms": _ms(group.mean_ms),
            "min_ms": _ms(d.min),
            "max_ms": _ms(d.max),
            "p50_ms": _ms(d.percentile(50)),
            "p95_ms": _ms(d.percentile(95)),
            "p99_ms": _ms(d.percentile(99)),
            "percentiles_exact": d.exact,
            "share": round(group.total_ms / self.total_ms, 6) if self.total_ms else 0.0,
            "first_seen": _iso(group.first_seen),
            "last_seen": _iso(group.last_seen),
        }

    def rows(
        self, sort: Sort = "total", top: int | None = 10, show_values: bool = False
    ) -> list[dict[str, Any]]:
        return [self.row(g, show_values) for g in self.sorted_groups(sort, top)]

    def summary(self) -> dict[str, Any]:
        firsts = [g.first_seen for g in self.groups.values() if g.first_seen is not None]
        lasts = [g.last_seen for g in self.groups.values() if g.last_seen is not None]
        return {
            "queries": self.queries,
            "fingerprints": len(self.groups),
            "total_ms": _ms(self.total_ms),
            "threshold_ms": self.threshold_ms,
            "below_threshold": self.below_threshold,
            "overflow_queries": self.overflow_queries,
            "first_seen": _iso(min(firsts)) if firsts else None,
            "last_seen": _iso(max(lasts)) if lasts else None,
            **self.stats.as_dict(),
        }

    def as_dict(
        self, sort: Sort = "total", top: int | None = 10, show_values: bool = False
    ) -> dict[str, Any]:
        return {"summary": self.summary(), "queries": self.rows(sort, top, show_values)}


class Analyzer:
    """Lines in, report out: :class:`MessageAssembler` -> :class:`SlowQueryExtractor` -> report."""

    def __init__(
        self,
        threshold_ms: float = 0.0,
        attachments: Collection[str] | None = None,
        *,
        max_fingerprints: int = MAX_FINGERPRINTS,
        exact_cap: int = EXACT_CAP,
        timeline: bool = False,
    ) -> None:
        self.stats = ParseStats()
        series = None
        if timeline:
            from herokupg.slowlog.timeline import Timeline  # imports this module: not at the top

            series = Timeline()
        self.assembler = MessageAssembler(attachments, self.stats)
        self.extractor = SlowQueryExtractor(self.stats)
        self.report = SlowQueryReport(
            threshold_ms, stats=self.stats, max_fingerprints=max_fingerprints, exact_cap=exact_cap,
            timeline=series,
        )
        self._mark = 0

    def _take(self, messages: Iterable[LogMessage]) -> None:
        extract, add = self.extractor.extract, self.report.add
        for msg in messages:
            query = extract(msg)
            if query is not None:
                add(query)

    def feed(self, line: str) -> None:
        self._take(self.assembler.feed(line))

    def feed_all(self, lines: Iterable[str]) -> SlowQueryReport:
        """Every line, then the end of input; returns the report."""
        self._take(self.assembler.messages(lines))
        self.flush()
        return self.report

    def flush(self) -> None:
        self._take(self.assembler.flush())

    def flush_idle(self) -> None:
        """Complete messages that got no line since the previous call (for live tails)."""
        self._take(self.assembler.flush_idle(self._mark))
        self._mark = self.stats.lines + 1
