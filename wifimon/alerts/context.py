"""What a rule sees: the values of one titik or AP, read from state, and their recent past."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from wifimon.alerts.expr import Value
from wifimon.inventory import Hotspot
from wifimon.state import ApState, State, Status


def _identity(hotspot: Hotspot) -> dict[str, Value]:
    return {
        **hotspot.place_labels,
        "sla.min_mbps": hotspot.sla.min_mbps,
        "sla.capacity_users": float(hotspot.sla.capacity_users),
    }


def _since(last: float | None, now: float) -> float | None:
    return None if last is None else max(0.0, now - last)


def hotspot_values(state: State, hotspot_id: str, now: float) -> dict[str, Value]:
    """Every name of the hotspot scope (see alerts.rules.HOTSPOT_NAMES)."""
    view = state.hotspot_view(hotspot_id)
    hotspot = view.hotspot
    aps = [state.aps[ap.id] for ap in hotspot.access_points if ap.id in state.aps]
    hstate = state.hotspot_states.get(hotspot_id)
    reach = hstate.reachability if hstate else None
    tput = hstate.throughput if hstate else None
    successes = [ap.last_success for ap in aps if ap.last_success is not None]
    values: dict[str, Value] = {
        **_identity(hotspot),
        "status": _status(view.status),
        "up": None if view.status == Status.UNKNOWN else view.status == Status.UP,
        "clients": None if view.clients is None else float(view.clients),
        "utilisation": view.utilisation,
        "aps_total": float(len(aps)),
        "aps_down": float(sum(ap.status == Status.DOWN for ap in aps)),
        "reboots": float(sum(ap.reboots_total for ap in aps)),
        "auth_errors": float(sum(ap.errors_total.get("auth", 0) for ap in aps)),
        "seconds_since_data": _since(max(successes) if successes else None, now),
        "download_mbps": _mbps(tput.download_bps) if tput else None,
        "download_p10_mbps": _mbps(tput.download_p10_bps) if tput else None,
        "upload_mbps": _mbps(tput.upload_bps) if tput else None,
        "probe_ok": tput.ok if tput else None,
        "probe_reason": tput.reason if tput else None,
        "reachable": reach.reachable if reach else None,
        "loss_ratio": reach.loss_ratio if reach else None,
        "rtt_avg_seconds": reach.rtt_avg_seconds if reach else None,
        "rtt_max_seconds": reach.rtt_max_seconds if reach else None,
        "jitter_seconds": reach.jitter_seconds if reach else None,
        "uplink_mbps": _mbps(view.uplink_bps),
        "uplink_utilisation": view.uplink_utilisation,
        "saturated": view.saturated,
    }
    return values


def ap_values(state: State, ap_state: ApState, now: float) -> dict[str, Value]:
    """Every name of the AP scope (see alerts.rules.AP_NAMES)."""
    hotspot = state.hotspots[ap_state.hotspot_id]
    sample = ap_state.last_sample if ap_state.status == Status.UP else None
    return {
        **_identity(hotspot),
        "ap": ap_state.ap.id,
        "status": _status(ap_state.status),
        "up": None if ap_state.status == Status.UNKNOWN else ap_state.status == Status.UP,
        "clients": None if ap_state.clients is None else float(ap_state.clients),
        "uptime_seconds": sample.uptime_seconds if sample else None,
        "reboots": float(ap_state.reboots_total),
        "auth_errors": float(ap_state.errors_total.get("auth", 0)),
        "seconds_since_data": _since(ap_state.last_success, now),
        "cpu_percent": sample.cpu_percent if sample else None,
        "memory_percent": sample.memory_percent if sample else None,
    }


def _status(status: Status) -> str | None:
    """`up` or `down`; unknown (not polled yet, e.g. just after a restart) is null."""
    return None if status == Status.UNKNOWN else status.value


def _mbps(bps: float | None) -> float | None:
    return None if bps is None else bps / 1e6


STATIC_NAMES = frozenset(
    {
        "hotspot",
        "ap",
        "kota",
        "kecamatan",
        "kelurahan",
        "rw",
        "provider",
        "sla.min_mbps",
        "sla.capacity_users",
    }
)
PROBE_NAMES = frozenset(
    {"download_mbps", "download_p10_mbps", "upload_mbps", "probe_ok", "probe_reason"}
)
REACH_NAMES = frozenset(
    {"reachable", "loss_ratio", "rtt_avg_seconds", "rtt_max_seconds", "jitter_seconds"}
)


def observed_at(state: State, hotspot_id: str | None, now: float) -> dict[str, float]:
    """When each probe-fed value was measured: a window counts probes, not evaluations."""
    hstate = state.hotspot_states.get(hotspot_id) if hotspot_id else None
    stamps: dict[str, float] = {}
    if hstate is not None:
        if hstate.throughput is not None:
            stamps.update(dict.fromkeys(PROBE_NAMES, hstate.throughput.started))
        if hstate.reachability is not None:
            stamps.update(dict.fromkeys(REACH_NAMES, hstate.reachability.started))
    return stamps


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

    def add(self, now: float, values: dict[str, Value], stamps: dict[str, float]) -> set[str]:
        """Record a measurement; returns the names that got a new sample."""
        appended = set()
        for name in self.names:
            series = self._series[name]
            when = stamps.get(name, now)
            if series and series[-1][0] >= when:
                continue
            value = values.get(name)
            if name in self.runs and series and series[-1][1] == value:
                series[-1] = (when, value)  # min/max/increase see the same values
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
        return list(self._series.get(name, ()))
