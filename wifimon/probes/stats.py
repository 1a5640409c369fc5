"""Pure statistics for probes: rates per time bucket, median and low percentile, jitter."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

MIN_BUCKET_SECONDS = 0.2


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile (fraction 0..1) of a non-empty sequence."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def bucket_rates(
    events: Sequence[tuple[float, int]], start: float, end: float, bucket: float
) -> list[float]:
    """Bits per second in each full bucket of [start, end) from (time, bytes) events."""
    if bucket < MIN_BUCKET_SECONDS:
        raise ValueError(f"buckets must be at least {MIN_BUCKET_SECONDS} s")
    count = int((end - start) // bucket)
    totals = [0] * count
    for when, size in events:
        index = int((when - start) // bucket)
        if 0 <= index < count:
            totals[index] += size
    return [total * 8 / bucket for total in totals]


def jitter(rtts: Sequence[float]) -> float | None:
    """Mean absolute difference between consecutive round-trip times."""
    if len(rtts) < 2:
        return None
    return sum(abs(b - a) for a, b in itertools.pairwise(rtts)) / (len(rtts) - 1)
