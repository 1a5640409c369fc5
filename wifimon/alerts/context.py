"""What a rule sees: the values of one titik or AP, read from state as a row, and their past.

A row holds a scope's names in a fixed order (`HOTSPOT_COLUMNS`, `AP_COLUMNS`): the rules
engine picks the few its rules read and compares them with the last row, and only builds a
name -> value mapping for the titik where some rule must run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence

from wifimon.alerts.expr import Value
from wifimon.inventory import Hotspot
from wifimon.state import ApState, HotspotState, HotspotView, Status

Row = tuple[Value, ...]

# names that change only with the inventory (place, SLA): rules read them as they are
IDENTITY_COLUMNS = ("hotspot", "kota", "kecamatan", "kelurahan", "rw", "provider",
                    "sla.min_mbps", "sla.capacity_users")  # fmt: skip
HOTSPOT_FROM_APS = (
    "status", "up", "clients", "utilisation", "aps_total", "aps_down", "reboots", "auth_errors",
    "seconds_since_data", "uplink_mbps", "uplink_utilisation", "saturated",
)  # fmt: skip
THROUGHPUT_COLUMNS = ("download_mbps", "download_p10_mbps", "upload_mbps", "probe_ok",
                      "probe_reason")  # fmt: skip
REACH_COLUMNS = ("reachable", "loss_ratio", "rtt_avg_seconds", "rtt_max_seconds",
                 "jitter_seconds")  # fmt: skip
HOTSPOT_FROM_PROBES = THROUGHPUT_COLUMNS + REACH_COLUMNS
AP_CHANGING = ("status", "up", "clients", "uptime_seconds", "reboots", "auth_errors",
               "seconds_since_data", "cpu_percent", "memory_percent")  # fmt: skip
HOTSPOT_COLUMNS = IDENTITY_COLUMNS + HOTSPOT_FROM_APS + HOTSPOT_FROM_PROBES
AP_COLUMNS = (*IDENTITY_COLUMNS, "ap", *AP_CHANGING)
STATIC_NAMES = frozenset((*IDENTITY_COLUMNS, "ap"))
PROBE_NAMES = frozenset(THROUGHPUT_COLUMNS)
REACH_NAMES = frozenset(REACH_COLUMNS)


def identity_row(hotspot: Hotspot) -> Row:
    """IDENTITY_COLUMNS of a titik."""
    return (hotspot.id, hotspot.kota, hotspot.kecamatan, hotspot.kelurahan, hotspot.rw,
            hotspot.provider, hotspot.sla.min_mbps, float(hotspot.sla.capacity_users))  # fmt: skip


def hotspot_aps_row(view: HotspotView, now: float) -> Row:
    """HOTSPOT_FROM_APS of a titik, from its view (its APs together)."""
    status, summary = view.status, view.aps
    return (
        _status(status),
        None if status == Status.UNKNOWN else status == Status.UP,
        None if view.clients is None else float(view.clients),
        view.utilisation,
        float(summary.aps_total),
        float(summary.aps_down),
        float(summary.reboots),
        float(summary.auth_errors),
        _since(summary.last_success, now),
        _mbps(view.uplink_bps),
        view.uplink_utilisation,
        view.saturated,
    )


def hotspot_probes_row(hstate: HotspotState | None) -> Row:
    """HOTSPOT_FROM_PROBES of a titik: its last throughput and reachability results."""
    tput = hstate.throughput if hstate else None
    reach = hstate.reachability if hstate else None
    return (
        *((_mbps(tput.download_bps), _mbps(tput.download_p10_bps), _mbps(tput.upload_bps),
           tput.ok, tput.reason) if tput else (None,) * 5),
        *((reach.reachable, reach.loss_ratio, reach.rtt_avg_seconds, reach.rtt_max_seconds,
           reach.jitter_seconds) if reach else (None,) * 5),
    )  # fmt: skip


def ap_row(ap_state: ApState, now: float) -> Row:
    """AP_CHANGING of an AP, from its last poll."""
    up = ap_state.status == Status.UP
    sample = ap_state.last_sample if up else None
    clients = sample.clients.total if sample is not None else None
    return (
        _status(ap_state.status),
        None if ap_state.status == Status.UNKNOWN else up,
        None if clients is None else float(clients),
        sample.uptime_seconds if sample else None,
        float(ap_state.reboots_total),
        float(ap_state.errors_total.get("auth", 0)),
        _since(ap_state.last_success, now),
        sample.cpu_percent if sample else None,
        sample.memory_percent if sample else None,
    )


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

    @classmethod
    def of(cls, data: dict[str, list[tuple[float, Value]]]) -> History:
        """A history holding exactly these samples (oldest first), kept indefinitely."""
        history = cls(frozenset(data), float("inf"))
        for name, samples in data.items():
            history._series.setdefault(name, deque()).extend(samples)
        return history

    def add(
        self, now: float, value_of: Callable[[str], Value], stamps: Mapping[str, float | None]
    ) -> set[str]:
        """Record a measurement; returns the names whose window answers may have moved.

        `stamps` says when probe-fed values were measured (None: never, nothing to record);
        other names are measured `now`.
        """
        appended = set()
        for name in self.names:
            series = self._series[name]
            when = stamps.get(name, now)
            if when is None or (series and series[-1][0] >= when):
                continue
            value = value_of(name)
            if name in self.runs and series and series[-1][1] == value:
                series[-1] = (when, value)  # min/max/increase see the same values
                if len(series) == 1:
                    continue  # one value, whatever the window: no answer moved
            else:
                series.append((when, value))
            appended.add(name)
            while series and series[0][0] <= now - self.keep_seconds:
                series.popleft()
        return appended

    def window(self, name: str, seconds: float) -> list[Value]:
        """Values of `name` within `seconds` of its newest sample, oldest first."""
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
        return self._series.get(name, ())
