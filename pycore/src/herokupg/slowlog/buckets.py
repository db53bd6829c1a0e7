"""Log-scale histogram buckets for durations, shared by the report and the time series.

Bucket ``i`` holds the durations ``d`` with ``bounds[i-1] <= d < bounds[i]``, where
``bounds[i] = LOW * growth**i``: bucket 0 is everything below :data:`LOW`, the last one
everything from the last bound (:data:`HIGH` or just above) on. A batch is counted with
:func:`bisect.bisect_right` over the bounds, mapped and counted in C
(:meth:`collections.Counter.update`): the folds run for nearly every query of a busy log, and a
logarithm per duration in Python cost half again as much.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from functools import partial

LOW = 1e-6  # ms: shorter durations share the first bucket
HIGH = 1e12  # ms (about 30 years): longer ones share the last


class LogScale:
    """The bounds of buckets that grow by ``growth`` (1.02: 2 % wide)."""

    def __init__(self, growth: float) -> None:
        self.log_growth = math.log(growth)
        count = math.ceil(math.log(HIGH / LOW) / self.log_growth) + 1
        self.bounds = [LOW * math.exp(i * self.log_growth) for i in range(count)]
        self._place = partial(bisect_right, self.bounds)

    def count(self, buckets: Counter[int], values: Iterable[float]) -> None:
        """Add ``values`` to ``buckets`` (bucket index -> how many)."""
        buckets.update(map(self._place, values))

    def middle(self, bucket: int) -> float:
        """The geometric middle of ``bucket``: within ``sqrt(growth) - 1`` of any duration in it."""
        return LOW * math.exp((bucket - 0.5) * self.log_growth)
