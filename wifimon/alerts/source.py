"""Where the rules engine reads titik and APs: which ones moved, and their rows of values."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Protocol

from wifimon.alerts.context import (
    AP_COLUMNS,
    HOTSPOT_COLUMNS,
    Row,
    ap_row,
    hotspot_aps_row,
    hotspot_probes_row,
    identity_row,
    observed_at,
)
from wifimon.alerts.expr import Value
from wifimon.alerts.rules import DAEMON_NAMES
from wifimon.inventory import AccessPoint, Hotspot
from wifimon.state import State

SELF_KEY = "wifimon"  # the key of alerts about the daemon itself
DAEMON_COLUMNS = tuple(sorted(DAEMON_NAMES))
NO_STAMPS: Mapping[str, float | None] = {}


class Source(Protocol):
    """Titik, APs and wifimon itself, as the rules see them."""

    def columns(self, scope: str) -> tuple[str, ...]:
        """The names `row` gives for the scope, in its order."""
        ...

    def changed(self, scope: str) -> Collection[str] | None:
        """Keys of the scope with new data since the last call; None: take every key as new."""
        ...

    def keys(self, scope: str) -> Collection[str]:
        """Every titik or AP of the scope that exists now."""
        ...

    def row(self, scope: str, key: str, now: float) -> tuple[Row, Mapping[str, float | None]]:
        """The values of one key in `columns` order, and when each probe-fed one was measured."""
        ...


class StateSource:
    """The daemon's state as a rule source, told of new data by the state's change feed.

    `self_values` gives the values of the `daemon` scope (wifimon's own health), if any.
    """

    def __init__(
        self, state: State, self_values: Callable[[float], dict[str, Value]] | None = None
    ) -> None:
        self.state = state
        self.self_values = self_values
        self._changes = state.watch()
        self._identities: dict[tuple[str, str], tuple[Hotspot, AccessPoint | None, Row]] = {}
        self._probe_rows: dict[str, tuple[object, object, Row, Mapping[str, float | None]]] = {}

    def columns(self, scope: str) -> tuple[str, ...]:
        if scope == "daemon":
            return DAEMON_COLUMNS
        return HOTSPOT_COLUMNS if scope == "hotspot" else AP_COLUMNS

    def changed(self, scope: str) -> Collection[str] | None:
        if scope == "daemon":  # its values are worked out anew every cycle
            return self.keys(scope)
        return self._changes.take(scope)

    def keys(self, scope: str) -> Collection[str]:
        if scope == "daemon":
            return (SELF_KEY,) if self.self_values is not None else ()
        return self.state.hotspots.keys() if scope == "hotspot" else self.state.aps.keys()

    def row(self, scope: str, key: str, now: float) -> tuple[Row, Mapping[str, float | None]]:
        state = self.state
        if scope == "hotspot":
            probes, stamps = self._probes(key)
            own = hotspot_aps_row(state.hotspot_view(key), now)
            return self._identity(scope, key, state.hotspots[key], None) + own + probes, stamps
        if scope == "ap":
            ap_state = state.aps[key]
            hotspot = state.hotspots[ap_state.hotspot_id]
            own = ap_row(ap_state, now)
            return self._identity(scope, key, hotspot, ap_state.ap) + own, NO_STAMPS
        values = self.self_values(now) if self.self_values is not None else {}
        return tuple(values.get(name) for name in DAEMON_COLUMNS), NO_STAMPS

    def _probes(self, key: str) -> tuple[Row, Mapping[str, float | None]]:
        """A titik's probe columns and their times, worked out again only for new results."""
        hstate = self.state.hotspot_states.get(key)
        results = (hstate.throughput, hstate.reachability) if hstate else (None, None)
        cached = self._probe_rows.get(key)
        if cached is None or cached[0] is not results[0] or cached[1] is not results[1]:
            cached = (*results, hotspot_probes_row(hstate), observed_at(hstate))
            if len(self._probe_rows) > 2 * len(self.state.hotspots):
                self._probe_rows.clear()  # removed titik do not pile up
            self._probe_rows[key] = cached
        return cached[2], cached[3]

    def _identity(self, scope: str, key: str, hotspot: Hotspot, ap: AccessPoint | None) -> Row:
        """Place and SLA, worked out again only when the inventory gave new objects."""
        cached = self._identities.get((scope, key))
        if cached is not None and cached[0] is hotspot and cached[1] is ap:
            return cached[2]
        row = identity_row(hotspot) if ap is None else (*identity_row(hotspot), ap.id)
        if len(self._identities) > 2 * (len(self.state.hotspots) + len(self.state.aps)):
            self._identities.clear()  # removed titik and APs do not pile up
        self._identities[(scope, key)] = (hotspot, ap, row)
        return row
