"""The one check between decoding and measurement: a value no device can have is unknown.

Decoding turns varbinds into numbers and refuses values of the wrong SNMP type; this step
holds each number against the range a real device can have. A measurement outside it is
replaced by unknown (None) and the sample gets an `out_of_range` issue naming it, so
/metrics, the rules and the reports never see it: a "penuh" alert must not fire on a count
of 4,294,967,295.
"""

from __future__ import annotations

from dataclasses import replace

from wifimon.measurements import ApSample, ClientReading, InterfaceReading, PollIssue
from wifimon.snmp.profiles import Profile

MAX_UPTIME_SECONDS = 30 * 365 * 86400.0  # older than any access point in service
MAX_SPEED_MBPS = 10_000_000.0  # 10 Tbit/s: faster than any interface an AP has
MAX_PERCENT = 100.0


def validate(sample: ApSample, profile: Profile) -> None:
    """Replace every impossible measurement of `sample` by unknown, with an issue each."""
    ceiling = profile.client_ceiling
    _check_clients(sample, ceiling)
    _check_sessions(sample, ceiling)
    _check_managed(sample, profile.max_clients_per_ap)
    if not _within(sample.uptime_seconds, 0.0, MAX_UPTIME_SECONDS):
        _refuse(sample, "uptime", sample.uptime_seconds, f"0..{MAX_UPTIME_SECONDS:.0f} s")
        sample.uptime_seconds = None
    if not _within(sample.cpu_percent, 0.0, MAX_PERCENT):
        _refuse(sample, "cpu", sample.cpu_percent, "0..100 %")
        sample.cpu_percent = None
    if not _within(sample.memory_percent, 0.0, MAX_PERCENT):
        _refuse(sample, "memory", sample.memory_percent, "0..100 %")
        sample.memory_percent = None
    sample.interfaces = [_checked_interface(sample, i) for i in sample.interfaces]


def _check_clients(sample: ApSample, ceiling: int) -> None:
    reading = sample.clients
    counts = [reading.total, *(radio.clients for radio in reading.by_radio)]
    bad = next((n for n in counts if not _within(n, 0, ceiling)), None)
    if bad is not None:
        issue = _refuse(sample, "clients", bad, f"0..{ceiling}")
        sample.clients = ClientReading(None, (), issue)


def _check_sessions(sample: ApSample, ceiling: int) -> None:
    for name in ("sessions", "sessions_by_pool"):
        counts: dict[str, int] | None = getattr(sample, name)
        bad = next((n for n in (counts or {}).values() if not _within(n, 0, ceiling)), None)
        if bad is not None:
            _refuse(sample, name, bad, f"0..{ceiling}")
            setattr(sample, name, None)


def _check_managed(sample: ApSample, ceiling: int) -> None:
    """One impossible row makes that AP unknown, not the whole controller."""
    if sample.managed_aps is None:
        return
    rows = []
    for row in sample.managed_aps:
        if not _within(row.clients, 0, ceiling):
            _refuse(sample, f"clients of AP {row.name or row.mac or row.key}", row.clients,
                    f"0..{ceiling}")  # fmt: skip
            row = replace(row, clients=None)
        rows.append(row)
    sample.managed_aps = tuple(rows)


def _checked_interface(sample: ApSample, reading: InterfaceReading) -> InterfaceReading:
    if reading.speed_mbps is not None and not 0.0 < reading.speed_mbps <= MAX_SPEED_MBPS:
        _refuse(sample, f"speed of {reading.name}", reading.speed_mbps, "up to 10 Tbit/s")
        reading = replace(reading, speed_mbps=None)
    limit = (1 << reading.counter_bits) - 1 if reading.counter_bits else 0
    octets = (reading.in_octets, reading.out_octets)
    if any(n is not None and not 0 <= n <= limit for n in octets):
        bad = next(n for n in octets if n is not None and not 0 <= n <= limit)
        _refuse(sample, f"octets of {reading.name}", bad, f"a {reading.counter_bits}-bit counter")
        reading = replace(reading, in_octets=None, out_octets=None, counter_bits=None)
    return reading


def _within(value: float | None, low: float, high: float) -> bool:
    """Unknown is never out of range; NaN and infinities always are."""
    return value is None or low <= value <= high


def _refuse(sample: ApSample, what: str, value: float | None, expected: str) -> PollIssue:
    shown = value if isinstance(value, int) else f"{value:g}"
    issue = PollIssue("out_of_range", f"{what}: {shown} is outside {expected}")
    sample.issues.append(issue)
    return issue
