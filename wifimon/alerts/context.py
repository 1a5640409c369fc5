"""What a rule sees: the values of one titik or AP, read from state, and their past.

Each name has its own read (`HOTSPOT_READS`, `AP_READS`): the rules engine reads the few names
its rules read when new data comes, and a whole row (`HOTSPOT_COLUMNS`, `AP_COLUMNS`) only
for the titik where some rule must run.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from wifimon.alerts.expr import Value
from wifimon.inventory import Hotspot
from wifimon.measurements import ApSample
from wifimon.probes.results import ProbeResult
from wifimon.state import (
    MOVED_CLIENTS,
    MOVED_ERRORS,
    MOVED_POLL,
    MOVED_REACH,
    MOVED_REBOOTS,
    MOVED_STATUS,
    MOVED_THROUGHPUT,
    ApState,
    HotspotState,
    HotspotView,
    Status,
)

Row = tuple[Value, ...]

# How each name is read (below: HOTSPOT_READS, AP_READS); place and SLA from the titik
IDENTITY_READS: dict[str, Callable[[Hotspot], Value]] = {
    "hotspot": lambda h: h.id,
    "kota": lambda h: h.kota,
    "kecamatan": lambda h: h.kecamatan,
    "kelurahan": lambda h: h.kelurahan,
    "rw": lambda h: h.rw,
    "provider": lambda h: h.provider,
    "sla.min_mbps": lambda h: h.sla.min_mbps,
    "sla.capacity_users": lambda h: float(h.sla.capacity_users),
}
# names that change only with the inventory (place, SLA): rules read them as they are
IDENTITY_COLUMNS = tuple(IDENTITY_READS)
THROUGHPUT_COLUMNS = ("download_mbps", "download_p10_mbps", "upload_mbps", "probe_ok",
                      "probe_reason")  # fmt: skip
REACH_COLUMNS = ("reachable", "loss_ratio", "rtt_avg_seconds", "rtt_max_seconds",
                 "jitter_seconds")  # fmt: skip
STATIC_NAMES = frozenset((*IDENTITY_COLUMNS, "ap"))

# What new data can move each name (the state's MOVED_* bits; 0: only an inventory reload)
_POLLED = MOVED_STATUS | MOVED_POLL  # read from the last successful poll, while up
HOTSPOT_MOVED_BY: dict[str, int] = {
    **dict.fromkeys(IDENTITY_COLUMNS, 0),
    **dict.fromkeys(("status", "up", "aps_down"), MOVED_STATUS),
    **dict.fromkeys(("clients", "utilisation"), MOVED_STATUS | MOVED_CLIENTS),
    "aps_total": 0,
    "reboots": MOVED_REBOOTS,
    "auth_errors": MOVED_ERRORS,
    "seconds_since_data": MOVED_POLL,  # and the clock
    "uplink_mbps": _POLLED,
    "uplink_utilisation": _POLLED | MOVED_THROUGHPUT,  # against the last good throughput
    "saturated": _POLLED | MOVED_CLIENTS | MOVED_THROUGHPUT,
    **dict.fromkeys(THROUGHPUT_COLUMNS, MOVED_THROUGHPUT),
    **dict.fromkeys(REACH_COLUMNS, MOVED_REACH),
}
AP_MOVED_BY: dict[str, int] = {
    **dict.fromkeys((*IDENTITY_COLUMNS, "ap"), 0),
    **dict.fromkeys(("status", "up"), MOVED_STATUS),
    "clients": MOVED_STATUS | MOVED_CLIENTS,
    "uptime_seconds": _POLLED,
    "reboots": MOVED_REBOOTS,
    "auth_errors": MOVED_ERRORS,
    "seconds_since_data": MOVED_POLL,  # and the clock
    **dict.fromkeys(("cpu_percent", "memory_percent"), _POLLED),
}
PROBE_NAMES = frozenset(THROUGHPUT_COLUMNS)
REACH_NAMES = frozenset(REACH_COLUMNS)


HotspotRead = Callable[[HotspotView, HotspotState | None, float], Value]
ApRead = Callable[[ApState, Hotspot, float], Value]


def _titik_identity(read: Callable[[Hotspot], Value]) -> HotspotRead:
    return lambda v, s, now: read(v.hotspot)


def _ap_identity(read: Callable[[Hotspot], Value]) -> ApRead:
    return lambda a, h, now: read(h)


def _reached(field: str) -> HotspotRead:
    """A field of the titik's last reachability probe (ping or TCP)."""
    get = operator.attrgetter(field)
    return lambda v, s, now: None if s is None or (r := s.reachability) is None else get(r)


# A titik's own from its view (its APs together), the clock and its last probe results (the
# most read ones look into the probe results themselves: thousands of reads a cycle)
HOTSPOT_READS: dict[str, HotspotRead] = {
    **{name: _titik_identity(read) for name, read in IDENTITY_READS.items()},
    "status": lambda v, s, now: _status(v.status),
    "up": lambda v, s, now: None if v.status == Status.UNKNOWN else v.status == Status.UP,
    "clients": lambda v, s, now: None if v.clients is None else float(v.clients),
    "utilisation": lambda v, s, now: v.utilisation,
    "aps_total": lambda v, s, now: float(v.aps.aps_total),
    "aps_down": lambda v, s, now: float(v.aps.aps_down),
    "reboots": lambda v, s, now: float(v.aps.reboots),
    "auth_errors": lambda v, s, now: float(v.aps.auth_errors),
    "uplink_mbps": lambda v, s, now: _mbps(v.uplink_bps),
    "uplink_utilisation": lambda v, s, now: v.uplink_utilisation,
    "saturated": lambda v, s, now: v.saturated,
    "seconds_since_data": lambda v, s, now: (  # (`_since`, written out: thousands a cycle)
        None if (at := v.aps.last_success) is None else max(0.0, now - at)),
    "download_mbps": lambda v, s, now: None if (t := _tput(s)) is None else _mbps(t.download_bps),
    "download_p10_mbps": lambda v, s, now: (
        None if (t := _tput(s)) is None else _mbps(t.download_p10_bps)),
    "upload_mbps": lambda v, s, now: None if (t := _tput(s)) is None else _mbps(t.upload_bps),
    "probe_ok": lambda v, s, now: None if (t := _tput(s)) is None else t.ok,
    "probe_reason": lambda v, s, now: None if (t := _tput(s)) is None else t.reason,
    **{name: _reached(name) for name in REACH_COLUMNS},
}  # fmt: skip
# An AP's from its state and last poll (what a poll gives is unknown while it is down).
AP_READS: dict[str, ApRead] = {
    **{name: _ap_identity(read) for name, read in IDENTITY_READS.items()},
    "ap": lambda a, h, now: a.ap.id,
    "status": lambda a, h, now: _status(a.status),
    "up": lambda a, h, now: None if a.status == Status.UNKNOWN else a.status == Status.UP,
    "clients": lambda a, h, now: None if (c := a.clients) is None else float(c),
    "uptime_seconds": lambda a, h, now: None if (p := _polled(a)) is None else p.uptime_seconds,
    "reboots": lambda a, h, now: float(a.reboots_total),
    "auth_errors": lambda a, h, now: float(a.errors_total.get("auth", 0)),
    "seconds_since_data": lambda a, h, now: _since(a.last_success, now),
    "cpu_percent": lambda a, h, now: None if (p := _polled(a)) is None else p.cpu_percent,
    "memory_percent": lambda a, h, now: None if (p := _polled(a)) is None else p.memory_percent,
}  # fmt: skip


HOTSPOT_COLUMNS = tuple(HOTSPOT_READS)  # the order of a titik's row
AP_COLUMNS = tuple(AP_READS)


def _tput(hstate: HotspotState | None) -> ProbeResult | None:
    return hstate.throughput if hstate is not None else None


def _polled(ap_state: ApState) -> ApSample | None:
    """The last poll while the AP is up; a down AP's old poll says nothing of now."""
    return ap_state.last_sample if ap_state.status == Status.UP else None


NEVER_MEASURED: dict[str, float | None] = dict.fromkeys(PROBE_NAMES | REACH_NAMES)


def observed_at(hstate: HotspotState | None) -> dict[str, float | None]:
    """When each probe-fed value was measured (None: never): a window counts probes, not
    evaluations."""
    stamps = dict(NEVER_MEASURED)
    if hstate is not None:
        if hstate.throughput is not None:
            stamps.update(dict.fromkeys(PROBE_NAMES, hstate.throughput.started))
        if hstate.reachability is not None:
            stamps.update(dict.fromkeys(REACH_NAMES, hstate.reachability.started))
    return stamps


def _since(last: float | None, now: float) -> float | None:
    return None if last is None else max(0.0, now - last)


def _status(status: Status) -> str | None:
    """`up` or `down`; unknown (not polled yet, e.g. just after a restart) is null."""
    return None if status == Status.UNKNOWN else status.value


def _mbps(bps: float | None) -> float | None:
    return None if bps is None else bps / 1e6


NOTHING: set[str] = set()  # History.add's answer when nothing was added: never changed


class History:
    """Recent values of the names rules look back on, for one titik or AP, oldest first.

    A value measured once (a probe result) is recorded once, however often rules run; names
    that do not change over time (identity, SLA) are not kept: rules read them as they are.
    """

    def __init__(
        self, names: frozenset[str], keep_seconds: float, runs: frozenset[str] = frozenset()
    ) -> None:
        self.names = names - STATIC_NAMES
        self.runs = runs  # names whose repeated values collapse into their latest sample
        self.keep_seconds = keep_seconds
        self._series: dict[str, deque[tuple[float, Value]]] = {n: deque() for n in self.names}
        self._kept = [(name, self._series[name], name in runs) for name in sorted(self.names)]
        self._stamps_seen: object = None  # the stamps of the last `add` ...
        self._unstamped = self._kept  # ... and the names measured at each add, not stamped
        self.idle_with: object = None  # stamps with which `add` records nothing (all stamped)
        self.steady = False  # `same_again` may stand for `add` (see there)
        self._again_at: float | None = None  # the time of the last `same_again`, not applied

    @classmethod
    def of(cls, data: dict[str, list[tuple[float, Value]]]) -> History:
        """A history holding exactly these samples (oldest first), kept indefinitely."""
        history = cls(frozenset(data), float("inf"))
        for name, samples in data.items():
            history._series.setdefault(name, deque()).extend(samples)
        return history

    def add(
        self,
        now: float,
        values: Sequence[Value],
        position: Mapping[str, int],
        stamps: Mapping[str, float | None],
    ) -> set[str]:
        """Record a measurement (the name at `position[name]` of `values`); returns the names
        whose window answers may have moved.

        `stamps` says when probe-fed values were measured (None: never, nothing to record);
        other names are measured `now`.
        """
        appended: set[str] = NOTHING  # (a new set only when something is added)
        if self._again_at is not None:
            self._apply_again()
        kept = self._kept
        if stamps is self._stamps_seen:  # the same probe results: only the others can add
            kept = self._unstamped
        else:
            self._stamps_seen = stamps
            self._unstamped = [slot for slot in kept if slot[0] not in stamps]
            self.idle_with = None if self._unstamped else stamps
        for name, series, collapses in kept:
            when = stamps.get(name, now)
            if when is None or (series and series[-1][0] >= when):
                continue
            value = values[position[name]]
            if collapses and series and series[-1][1] == value:
                series[-1] = (when, value)  # min/max/increase see the same values
                if len(series) == 1:
                    continue  # one value, whatever the window: no answer moved
            else:
                series.append((when, value))
            appended = {name} if appended is NOTHING else appended | {name}
            while series and series[0][0] <= now - self.keep_seconds:
                series.popleft()
        unstamped = self._unstamped
        self.steady = bool(unstamped) and all(c and len(s) == 1 for _, s, c in unstamped)
        return appended

    def same_again(self, now: float) -> None:
        """Record, at `now`, a measurement that gives every name the value of the last one:
        for a `steady` history only (each name measured at every add collapses repeats and
        holds one sample), where it moves nothing but that sample's time; noted here and
        applied before the next add or read."""
        self._again_at = now

    def _apply_again(self) -> None:
        at, self._again_at = self._again_at, None
        assert at is not None
        for _, series, _ in self._unstamped:
            if series and series[-1][0] < at:
                series[-1] = (at, series[-1][1])

    def window(self, name: str, seconds: float) -> list[Value]:
        """Values of `name` within `seconds` of its newest sample, oldest first."""
        if self._again_at is not None:
            self._apply_again()
        series = self._series.get(name)
        if not series:
            return []
        cutoff = series[-1][0] - seconds
        found = []
        for when, value in reversed(series):
            if when <= cutoff:
                break
            found.append(value)
        found.reverse()
        return found

    def series(self, name: str) -> Sequence[tuple[float, Value]]:
        """The samples of `name`, oldest first (the history's own: read, do not change)."""
        if self._again_at is not None:
            self._apply_again()
        return self._series.get(name, ())
