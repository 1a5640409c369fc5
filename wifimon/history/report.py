"""The uptime/SLA report: figures per titik from the history, grouped per titik, kelurahan,
kecamatan, kota or provider, with a verdict against the SLA targets and a SHA-256 digest of
the data rows (so an edited file can be told from the original).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from wifimon import __version__
from wifimon.alerts.silences import Silence
from wifimon.alerts.templates import WIB
from wifimon.history.store import HistoryStore
from wifimon.history.uptime import Tally, merge, tally
from wifimon.inventory import Hotspot

MBPS_BIN, MBPS_BINS = 10, 15  # the Mbps distribution: 0-10, ..., 140-150, 150 and more
GroupBy = Literal["hotspot", "kelurahan", "kecamatan", "kota", "provider"]
COLUMNS = (
    "group",
    "titik",
    "availability_percent",
    "downtime_seconds",
    "outages",
    "longest_outage_seconds",
    "mttr_seconds",
    "coverage_percent",
    "unknown_seconds",
    "maintenance_seconds",
    "probes",
    "probes_meeting_min_percent",
    "median_mbps",
    "p10_mbps",
    "avg_users",
    "peak_users",
    "avg_sessions",
    "avg_associated",
    "avg_not_logged_in",
    "hours_at_capacity",
    "reboots",
    "titik_meeting_sla",
    "verdict",
)  # the order of a row's fields in every format


class SlaTargets(BaseModel):
    """`reports:` in the config: what a titik must reach to meet its SLA."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    availability_percent: float = Field(default=99.0, ge=0, le=100)
    probes_meeting_min_percent: float = Field(default=95.0, ge=0, le=100)
    min_coverage_percent: float = Field(default=90.0, ge=0, le=100)  # below: too little data


@dataclass(frozen=True)
class Period:
    start: float
    end: float

    @classmethod
    def month(cls, text: str) -> Period:
        """ "2026-10": the calendar month in WIB."""
        year, month = (int(part) for part in text.split("-"))
        begin = datetime(year, month, 1, tzinfo=WIB)
        after = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=WIB)
        return cls(begin.timestamp(), after.timestamp())


@dataclass
class TitikFigures:
    hotspot: Hotspot
    tally: Tally
    mbps: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))  # sorted
    probes: int = 0
    probes_meeting: int = 0
    samples: int = 0
    users_total: int = 0
    peak: int | None = None
    minutes_at_capacity: int = 0
    reboots: int = 0
    # associated/sessions/not_logged_in where a session source counts the titik: (samples, total)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class Report:
    period: Period
    by: GroupBy
    filters: dict[str, str]
    targets: SlaTargets
    generated_at: float
    rows: list[dict[str, Any]]
    maintenance: list[dict[str, Any]]
    mbps_histogram: list[int] = field(default_factory=list)  # counts per MBPS_BIN, last: more
    total: dict[str, Any] | None = None  # every titik pooled (not a data row: not in digest)
    min_mbps: float | None = None  # the SLA minimum, when every titik has the same one
    version: str = __version__

    @property
    def digest(self) -> str:
        return rows_digest(self.rows)


def rows_digest(rows: Sequence[dict[str, Any]]) -> str:
    """SHA-256 of the data rows in canonical JSON (keys sorted, no spaces)."""
    text = json.dumps(list(rows), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def maintenance_windows(silences: Sequence[Silence], hotspot: Hotspot, period: Period
                        ) -> list[tuple[float, float]]:  # fmt: skip
    """Maintenance silences that cover this titik's availability alert."""
    labels = {"alertname": "TitikMati", "severity": "critical", **hotspot.place_labels}
    spans = [w for s in silences if s.maintenance and s.matches(labels)
             for w in s.windows(period.start, period.end)]  # fmt: skip
    return merge(spans)


def titik_figures(store: HistoryStore, hotspots: Sequence[Hotspot], silences: Sequence[Silence],
                  period: Period, start: float, end: float) -> dict[str, TitikFigures]:  # fmt: skip
    """Each titik's figures from one history file (whose runs say when it was watched)."""
    with ThreadPoolExecutor(3) as pool:  # SQLite works outside the GIL: read side by side
        halves = [pool.submit(_read, store, "probes", a, b)
                  for a, b in ((start, (start + end) / 2), ((start + end) / 2, end))]  # fmt: skip
        users = pool.submit(_read, store, "users", start, end)
        counts = pool.submit(_read, store, "counts", start, end)
        runs = store.runs(start, end)
        transitions = store.transitions([h.id for h in hotspots], start, end)
        probes = _joined([half.result() for half in halves])
    figures: dict[str, TitikFigures] = {}
    for hotspot in hotspots:
        works = maintenance_windows(silences, hotspot, period)
        counted = tally(transitions.get(hotspot.id, []), runs, works, start, end)
        figures[hotspot.id] = TitikFigures(hotspot, counted)
    for hotspot_id, count, mbps in probes:
        titik = figures.get(hotspot_id)
        if titik is None:
            continue
        minimum = titik.hotspot.sla.min_mbps
        titik.probes, titik.mbps = count, np.sort(np.asarray(mbps, dtype=np.float64))
        titik.probes_meeting = len(mbps) - int(np.searchsorted(titik.mbps, minimum))
    for hotspot_id, samples, total, peak, at_capacity in users.result():
        if hotspot_id in figures:
            titik = figures[hotspot_id]
            titik.samples, titik.users_total = samples, total
            titik.peak, titik.minutes_at_capacity = peak, at_capacity
    for hotspot_id, kind, samples, total, _peak in counts.result():
        if hotspot_id in figures:
            figures[hotspot_id].counts[kind] = (samples, total)
    for hotspot_id, count in store.reboots(start, end):
        if hotspot_id in figures:
            figures[hotspot_id].reboots = count
    return figures


def _read(store: HistoryStore, what: str, start: float, end: float) -> Any:
    """One read on a connection of its own (the store's own serialises its callers)."""
    reader = HistoryStore(store.path.parent, readonly=True)
    try:
        return getattr(reader, what)(start, end)
    finally:
        reader.close()


def _joined(parts: list[list[tuple[str, int, list[float]]]]) -> list[tuple[str, int, list[float]]]:
    """Per-titik probe counts and values of consecutive spans, added up."""
    total: dict[str, tuple[int, list[float]]] = {}
    for part in parts:
        for hotspot, count, values in part:
            before = total.get(hotspot, (0, []))
            total[hotspot] = (before[0] + count, before[1] + values)
    return [(hotspot, count, values) for hotspot, (count, values) in total.items()]


Source = tuple[HistoryStore, Sequence[Hotspot]]  # a history file and the titik read from it


def build(
    sources: Sequence[Source],
    silences: Sequence[Silence],
    period: Period,
    by: GroupBy = "kelurahan",
    targets: SlaTargets | None = None,
    filters: dict[str, str] | None = None,
    now: float = 0.0,
) -> Report:
    """Read the period from each source (one per shard, or one) and compute every row."""
    targets = targets or SlaTargets()
    start, end = period.start, min(period.end, now) if now else period.end
    figures: dict[str, TitikFigures] = {}
    for store, hotspots in sources:
        figures.update(titik_figures(store, hotspots, silences, period, start, end))
    groups: dict[str, list[TitikFigures]] = {}
    for titik in figures.values():
        key = titik.hotspot.id if by == "hotspot" else getattr(titik.hotspot, by)
        groups.setdefault(key, []).append(titik)
    rows = [row(key, members, targets) for key, members in sorted(groups.items())]
    applied = [s for s in silences if s.maintenance and s.windows(start, end)]
    listed = [{"id": s.id, "matchers": s.matchers, "author": s.author, "reason": s.reason,
               "hours": round(sum(b - a for a, b in s.windows(start, end)) / 3600, 2)}
              for s in applied]  # fmt: skip
    histogram = mbps_histogram(np.concatenate([np.empty(0), *(t.mbps for t in figures.values())]))
    total = row("*", list(figures.values()), targets) if figures else None
    minimums = {t.hotspot.sla.min_mbps for t in figures.values()}
    return Report(period, by, filters or {}, targets, now, rows, listed, histogram, total,
                  minimums.pop() if len(minimums) == 1 else None)  # fmt: skip


def mbps_histogram(values: NDArray[np.float64]) -> list[int]:
    """Measured Mbps counted per MBPS_BIN-wide bin up to MBPS_BINS bins, then one for more."""
    edges = [*(MBPS_BIN * k for k in range(MBPS_BINS + 1)), np.inf]
    counts, _ = np.histogram(values, bins=edges)
    return [int(c) for c in counts]


def _percent(value: float | None) -> float | None:
    return round(value * 100, 3) if value is not None else None


def row(key: str, members: list[TitikFigures], targets: SlaTargets) -> dict[str, Any]:
    """The figures of a group of titik (one titik: its own), pooled."""
    pooled = Tally()
    for titik in members:
        for name in ("up", "down", "unknown", "maintenance"):
            setattr(pooled, name, getattr(pooled, name) + getattr(titik.tally, name))
        pooled.outages += titik.tally.outages
    mbps = np.concatenate([np.empty(0), *(t.mbps for t in members)])
    probes = sum(t.probes for t in members)
    meeting = sum(t.probes_meeting for t in members)
    samples = sum(t.samples for t in members)
    peaks = [t.peak for t in members if t.peak is not None]
    verdicts = [verdict(t.tally, t.probes, t.probes_meeting, targets) for t in members]
    return {
        "group": key,
        "titik": len(members),
        "availability_percent": _percent(pooled.availability),
        "downtime_seconds": round(pooled.down, 3),
        "outages": len(pooled.outages),
        "longest_outage_seconds": round(pooled.longest_outage, 3),
        "mttr_seconds": round(pooled.mean_time_to_restore, 3)
        if pooled.mean_time_to_restore is not None else None,
        "coverage_percent": _percent(pooled.coverage),
        "unknown_seconds": round(pooled.unknown, 3),
        "maintenance_seconds": round(pooled.maintenance, 3),
        "probes": probes,
        "probes_meeting_min_percent": _percent(meeting / probes) if probes else None,
        "median_mbps": round(float(np.median(mbps)), 2) if mbps.size else None,
        "p10_mbps": round(float(np.percentile(mbps, 10)), 2) if mbps.size else None,
        "avg_users": round(sum(t.users_total for t in members) / samples, 2) if samples else None,
        "peak_users": max(peaks) if peaks else None,
        "avg_sessions": _average(members, "sessions"),
        "avg_associated": _average(members, "associated"),
        "avg_not_logged_in": _average(members, "not_logged_in"),
        "hours_at_capacity": round(sum(t.minutes_at_capacity for t in members) / 60, 2),
        "reboots": sum(t.reboots for t in members),
        "titik_meeting_sla": sum(v == "meets" for v in verdicts),
        "verdict": verdict(pooled, probes, meeting, targets) if len(members) > 1 else verdicts[0],
    }  # fmt: skip


def _average(members: list[TitikFigures], kind: str) -> float | None:
    """Average of one kind of user count over the titik that have it (None: none has)."""
    pairs = [t.counts[kind] for t in members if kind in t.counts]
    samples = sum(n for n, _ in pairs)
    return round(sum(total for _, total in pairs) / samples, 2) if samples else None


def verdict(counted: Tally, probes: int, meeting: int, targets: SlaTargets) -> str:
    """meets, fails, or insufficient_data (too little monitored time or no probes)."""
    availability = counted.availability
    if availability is None:
        return "insufficient_data"
    if availability * 100 < targets.availability_percent:
        return "fails"
    if probes and meeting * 100 / probes < targets.probes_meeting_min_percent:
        return "fails"
    coverage = counted.coverage
    if not probes or coverage is None or coverage * 100 < targets.min_coverage_percent:
        return "insufficient_data"
    return "meets"
