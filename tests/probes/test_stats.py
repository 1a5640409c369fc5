"""Probe statistics: buckets, percentiles, jitter."""

import pytest

from wifimon.probes.stats import bucket_rates, jitter, percentile


def test_percentile_interpolates() -> None:
    assert percentile([10, 20, 30, 40, 50], 0.5) == 30
    assert percentile([10, 20, 30, 40, 50], 0.1) == pytest.approx(14)
    assert percentile([7], 0.1) == 7
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_bucket_rates_ignore_events_outside_the_window() -> None:
    events = [(0.9, 10_000), (1.05, 1_000), (1.2, 1_000), (1.3, 2_000), (1.6, 500)]
    rates = bucket_rates(events, start=1.0, end=1.5, bucket=0.25)
    assert rates == [2_000 * 8 / 0.25, 2_000 * 8 / 0.25]


def test_buckets_shorter_than_200_ms_are_refused() -> None:
    with pytest.raises(ValueError):
        bucket_rates([], 0, 1, 0.1)


def test_jitter() -> None:
    assert jitter([0.010, 0.012, 0.011]) == pytest.approx(0.0015)
    assert jitter([0.010]) is None
