"""Slow queries over time, in bounded memory: count, total and duration percentiles per time bin.

Bins are aligned on multiples of their width since the epoch. The width starts at one second and
grows along :data:`WIDTHS` (each a multiple of the one before, so bins merge exactly) whenever the
log's time span needs more than :data:`MAX_BINS` bins: a minute of log keeps one-second bins, a
week of log ends with half-hour bins. Each bin keeps its durations exactly up to :data:`EXACT_CAP`
and past that in a log-scale histogram whose bucket bounds grow by 10 % (percentiles within 5 %:
plenty for a chart, and at most a few hundred buckets a bin).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter

from herokupg.slowlog.buckets import LogScale
from herokupg.slowlog.report import percentile_exact

WIDTHS = (1, 2, 10, 30, 60, 120, 600, 1800, 3600, 7200, 21600, 43200, 86400, 604800)  # seconds
MAX_BINS = 720
EXACT_CAP = 200
BATCH = 4096
_SCALE = LogScale(1.1)
_SECOND, _FIRST, _THIRD = itemgetter(slice(0, 19)), itemgetter(0), itemgetter(2)


@dataclass(slots=True)
class Bin:
    count: int = 0
    total_ms: float = 0.0
    values: list[float] = field(default_factory=list)  # durations not folded into buckets yet
    buckets: Counter[int] = field(default_factory=Counter)

    def fold(self) -> None:
        _SCALE.count(self.buckets, self.values)
        self.values = []

    def merge(self, other: Bin) -> None:
        self.count += other.count
        self.total_ms += other.total_ms
        self.values += other.values
        self.buckets.update(other.buckets)
        if len(self.values) > EXACT_CAP:
            self.fold()

    def percentile(self, p: float) -> float:
        if not self.buckets:
            return percentile_exact(sorted(self.values), p)
        self.fold()
        target = max(1, math.ceil(self.count * p / 100.0))
        seen = 0
        for b in sorted(self.buckets):
            seen += self.buckets[b]
            if seen >= target:
                return _SCALE.middle(b)
        return _SCALE.middle(max(self.buckets))


@dataclass(frozen=True)
class Point:
    start: datetime
    count: int
    per_minute: float
    total_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


class Timeline:
    """Feed ``(timestamp text, duration ms)`` with :meth:`add`; read the bins with :meth:`points`.

    :meth:`add` runs for every slow query, so it only appends to two lists; every :data:`BATCH`
    queries they are grouped by the timestamp's second (its first 19 characters,
    ``YYYY-MM-DDTHH:MM:SS``) in C (``itertools.groupby`` over ``operator.itemgetter``) and each
    run of one second goes into its bin with one timestamp parse.
    """

    def __init__(self, max_bins: int = MAX_BINS) -> None:
        self.max_bins = max_bins
        self.width = WIDTHS[0]
        self.bins: dict[int, Bin] = {}
        self._low = self._high = 0  # the lowest and highest bin index so far
        self._times: list[str] = []  # waiting to be filed, with their durations
        self._durations: list[float] = []

    def add(self, ts: str, ms: float) -> None:
        times = self._times
        times.append(ts)
        self._durations.append(ms)
        if len(times) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """File every waiting duration into its bin."""
        times, durations = self._times, self._durations
        self._times, self._durations = [], []
        rows = zip(map(_SECOND, times), times, durations, strict=True)
        for _second, run in groupby(rows, key=_FIRST):
            same_second = list(run)
            self._file(same_second[0][1], list(map(_THIRD, same_second)))

    def _file(self, ts: str, values: list[float]) -> None:
        try:
            seconds = datetime.fromisoformat(ts).timestamp()
        except ValueError:
            return  # the report counts the query; the chart cannot place it
        index = int(seconds // self.width)
        found = self.bins.get(index)
        if found is None:
            if not self.bins:
                self._low = self._high = index
            elif index < self._low or index > self._high:
                self._low, self._high = min(self._low, index), max(self._high, index)
                if self._high - self._low >= self.max_bins:
                    self._widen()
                    self._file(ts, values)
                    return
            found = self.bins[index] = Bin()
        found.merge(Bin(len(values), sum(values), values))

    def _widen(self) -> None:
        """The next width whose bins cover the span seen so far, the bins merged into it."""
        self.width, self.bins = _merged(self.bins, self.width, self.max_bins, keep=False)
        self._low, self._high = min(self.bins), max(self.bins)

    def points(self, max_points: int | None = None) -> tuple[int, list[Point]]:
        """The bin width and one point per bin from the first to the last, empty bins included (as
        zero counts); with ``max_points``, in wider bins if need be (this timeline stays as it is)."""
        self.flush()
        width, bins = self.width, self.bins
        while bins and max_points is not None and max(bins) - min(bins) >= max_points:
            width, bins = _merged(bins, width, max_points, keep=True)
        if not bins:
            return width, []
        out: list[Point] = []
        for index in range(min(bins), max(bins) + 1):
            start = datetime.fromtimestamp(index * width, UTC)
            item = bins.get(index)
            if item is None:
                out.append(Point(start, 0, 0.0, 0.0, math.nan, math.nan, math.nan))
                continue
            out.append(Point(
                start, item.count, item.count * 60.0 / width, item.total_ms,
                item.percentile(50), item.percentile(95), item.percentile(99),
            ))
        return width, out


def _merged(bins: dict[int, Bin], width: int, max_bins: int, *, keep: bool) -> tuple[int, dict[int, Bin]]:
    """``bins`` merged into the next width whose bins cover their span in fewer than ``max_bins``;
    ``keep``: into new bins, leaving these as they are."""
    span = (max(bins) - min(bins) + 1) * width
    wider = next((w for w in WIDTHS if w > width and span / w < max_bins), None)
    if wider is None:  # longer than max_bins weeks: keep doubling
        wider = max(width, WIDTHS[-1]) * 2
    merged: dict[int, Bin] = {}
    for index, item in bins.items():
        target = index * width // wider
        if target in merged:
            merged[target].merge(item)
        elif keep:
            merged[target] = fresh = Bin()
            fresh.merge(item)
        else:
            merged[target] = item
    return wider, merged
