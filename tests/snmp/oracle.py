"""What no device can have, written down independently of wifimon's validation step: the
fuzz test and its benchmark call any such number that reaches a sample a failure."""

from __future__ import annotations

import math

from wifimon.measurements import ApSample
from wifimon.snmp.profiles import Profile

KNOWN_REASONS = {
    "wrong_type", "malformed", "out_of_range", "noSuchObject", "unsupported", "truncated",
    "timeout", "protocol", "network", "auth", "internal_error",
}  # fmt: skip


def impossible_values(sample: ApSample, profile: Profile) -> list[str]:
    """Every number in `sample` that is outside what a real device of `profile` can report."""
    found: list[str] = []
    ceiling = profile.client_ceiling

    def check(name: str, value: float | None, low: float, high: float) -> None:
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            found.append(f"{name}={value}")

    check("clients", sample.clients.total, 0, ceiling)
    for radio in sample.clients.by_radio:
        check(f"clients[{radio.label}]", radio.clients, 0, ceiling)
    for name in ("sessions", "sessions_by_pool"):
        for key, count in (getattr(sample, name, None) or {}).items():
            check(f"{name}[{key}]", count, 0, ceiling)
    for row in sample.managed_aps or ():
        check(f"managed[{row.key}]", row.clients, 0, profile.max_clients_per_ap)
    check("uptime", sample.uptime_seconds, 0, 30 * 365 * 86400)
    check("cpu", sample.cpu_percent, 0, 100)
    check("memory", sample.memory_percent, 0, 100)
    for interface in sample.interfaces:
        if interface.speed_mbps is not None:
            check(f"speed[{interface.name}]", interface.speed_mbps, 1e-9, 1e7)
        bits = interface.counter_bits
        for octets in (interface.in_octets, interface.out_octets):
            if octets is not None:
                check(f"octets[{interface.name}]", octets, 0, (1 << (bits or 0)) - 1)
    found.extend(f"issue reason {i.reason!r}" for i in sample.issues
                 if i.reason not in KNOWN_REASONS)  # fmt: skip
    return found
