"""Honest uptime, pure: from a titik's status transitions, the spans wifimon was monitoring
and its maintenance windows, how long it was up, down, unknown and in maintenance, and its
outages. Time outside monitoring is unknown (neither up nor down); maintenance is left out
of the denominator; an outage is a maximal stretch of monitored down time outside
maintenance.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

Span = tuple[float, float]


@dataclass
class Tally:
    up: float = 0.0
    down: float = 0.0
    unknown: float = 0.0
    maintenance: float = 0.0
    outages: list[Span] = field(default_factory=list)

    @property
    def monitored(self) -> float:
        return self.up + self.down

    @property
    def availability(self) -> float | None:
        """Up as a share of monitored time outside maintenance; None when never monitored."""
        return self.up / self.monitored if self.monitored > 0 else None

    @property
    def coverage(self) -> float | None:
        """Monitored share of the period outside maintenance."""
        wanted = self.monitored + self.unknown
        return self.monitored / wanted if wanted > 0 else None

    @property
    def longest_outage(self) -> float:
        return max((b - a for a, b in self.outages), default=0.0)

    @property
    def mean_time_to_restore(self) -> float | None:
        return self.down / len(self.outages) if self.outages else None


def merge(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans joined, in order."""
    out: list[Span] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _inside(at: float, spans: Sequence[Span]) -> bool:
    return any(a <= at < b for a, b in spans)


def tally(
    transitions: Sequence[tuple[float, str]],
    monitoring: Sequence[Span],
    maintenance: Sequence[Span],
    start: float,
    end: float,
) -> Tally:
    """Classify every moment of [start, end) once: maintenance, else unknown when not
    monitored, else the status of the newest transition before it."""
    runs, works = merge(monitoring), merge(maintenance)
    cuts = {start, end}
    cuts.update(at for at, _ in transitions if start < at < end)
    for a, b in (*runs, *works):
        cuts.update(t for t in (a, b) if start < t < end)
    points = sorted(cuts)
    result, index, status = Tally(), 0, "unknown"
    outage: Span | None = None
    for a, b in itertools.pairwise(points):
        while index < len(transitions) and transitions[index][0] <= a:
            status = transitions[index][1]
            index += 1
        if _inside(a, works):
            kind = "maintenance"
        elif not _inside(a, runs) or status not in ("up", "down"):
            kind = "unknown"
        else:
            kind = status
        setattr(result, kind, getattr(result, kind) + (b - a))
        if kind == "down":
            outage = (outage[0], b) if outage is not None and outage[1] == a else (a, b)
        if kind != "down" and outage is not None:
            result.outages.append(outage)
            outage = None
    if outage is not None:
        result.outages.append(outage)
    return result
