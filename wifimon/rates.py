"""Counter arithmetic: deltas across wraps, resets and reboots, never negative or absurd."""

from __future__ import annotations

from dataclasses import dataclass

COUNTER32_MODULUS = 2**32
COUNTER64_MODULUS = 2**64
# No access point link carries more than this; a larger "rate" is a reset, not traffic.
MAX_PLAUSIBLE_BPS = 100e9
# Allow some measurement slack over the link speed before calling a rate absurd.
SPEED_SLACK = 1.2


@dataclass(frozen=True, slots=True)
class CounterDelta:
    """Octets counted between two polls, or why none can be given."""

    octets: int | None
    reason: str | None = None


def counter_delta(
    previous: int,
    current: int,
    bits: int,
    seconds: float,
    speed_mbps: float | None = None,
    rebooted: bool = False,
) -> CounterDelta:
    """Octets between two readings of one counter.

    A 32-bit counter that went down is taken as one wrap when the implied rate is plausible;
    anything else that goes down (64-bit, a reboot, an implausible wrap) is a reset.
    """
    if seconds <= 0:
        return CounterDelta(None, "no_time_elapsed")
    if rebooted:
        return CounterDelta(None, "reboot")
    if current >= previous:
        delta = current - previous
    elif bits == 32:
        delta = current + COUNTER32_MODULUS - previous
    else:
        return CounterDelta(None, "counter_reset")
    ceiling = MAX_PLAUSIBLE_BPS
    if speed_mbps:
        ceiling = min(ceiling, speed_mbps * 1e6 * SPEED_SLACK)
    if delta * 8 / seconds > ceiling:
        reason = "counter_reset" if current < previous else "implausible_rate"
        return CounterDelta(None, reason)
    return CounterDelta(delta)
