"""The log-scale buckets of the report's and the time series' histograms."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from herokupg.slowlog.buckets import HIGH, LOW, LogScale


@pytest.mark.parametrize("growth", [1.02, 1.1])
def test_every_duration_is_within_half_a_bucket_of_its_bucket_middle(growth: float) -> None:
    scale = LogScale(growth)
    rng = random.Random(growth)
    values = [v for v in (rng.lognormvariate(0, 4) for _ in range(5000)) if LOW <= v < HIGH]
    values += [LOW, 0.001, 1.0, 86_400_000.0]
    buckets: Counter[int] = Counter()
    for value in values:
        buckets.clear()
        scale.count(buckets, [value])
        (bucket,) = buckets
        assert abs(scale.middle(bucket) / value - 1) <= math.sqrt(growth) - 1 + 1e-12, value


def test_counts_add_up_and_out_of_range_durations_share_the_end_buckets() -> None:
    scale = LogScale(1.1)
    buckets: Counter[int] = Counter()
    scale.count(buckets, [0.0, LOW / 10, 5.0, 5.0, scale.bounds[-1], HIGH * 1000])
    scale.count(buckets, [5.0])
    assert sum(buckets.values()) == 7 and buckets[0] == 2 and buckets[len(scale.bounds)] == 2
    assert max(buckets.values()) == 3  # the three 5 ms durations, counted over two batches
