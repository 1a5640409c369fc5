"""Where the rules engine reads titik and APs: which ones moved, and the values of names."""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Mapping, Sequence
from itertools import repeat
from typing import Any, Protocol

from wifimon.alerts.context import (
    AP_COLUMNS,
    AP_MOVED_BY,
    AP_READS,
    HOTSPOT_COLUMNS,
    HOTSPOT_MOVED_BY,
    HOTSPOT_READS,
    PROBE_NAMES,
    REACH_NAMES,
    Row,
    observed_at,
)
from wifimon.alerts.expr import Value
from wifimon.alerts.rules import DAEMON_NAMES
from wifimon.state import MOVED_ANY, HotspotState, State

SELF_KEY = "wifimon"  # the key of alerts about the daemon itself
DAEMON_COLUMNS = tuple(sorted(DAEMON_NAMES))
NO_STAMPS: Mapping[str, float | None] = {}
PROBED = PROBE_NAMES | REACH_NAMES  # names a titik's probes give, with when they measured
Stamps = Mapping[str, float | None]  # when each probe-fed value was measured (None: never)
Reader = Callable[[str, float], Row]  # a read of some names of a key, at a time


class Source(Protocol):
    """Titik, APs and wifimon itself, as the rules see them."""

    def columns(self, scope: str) -> tuple[str, ...]:
        """The names `row` gives for the scope, in its order."""
        ...

    def changed(self, scope: str) -> Mapping[str, int] | None:
        """Keys of the scope with new data since the last call, each with the MOVED_* bits of
        what moved; None: take every key as new."""
        ...

    def moved_by(self, scope: str) -> Mapping[str, int]:
        """The MOVED_* bits that can move each column (a column not named: any)."""
        ...

    def keys(self, scope: str) -> Collection[str]:
        """Every titik or AP of the scope that exists now."""
        ...

    def row(self, scope: str, key: str, now: float) -> tuple[Row, Stamps]:
        """The values of one key in `columns` order, and when each probe-fed one was measured."""
        ...

    def reader(self, scope: str, names: Sequence[str]) -> Reader:
        """A read of just `names` (in that order) of a key, as `row` gives them."""
        ...

    def stamps(self, scope: str, key: str, now: float) -> Stamps:
        """When each probe-fed value of a key was measured, as `row` gives them."""
        ...


def reader_from_rows(source: Source, scope: str, names: Sequence[str]) -> Reader:
    """`Source.reader` for a source that only reads whole rows."""
    position = {name: index for index, name in enumerate(source.columns(scope))}
    positions = [position[name] for name in names]

    def read(key: str, now: float) -> Row:
        row = source.row(scope, key, now)[0]
        return tuple([row[i] for i in positions])

    return read


Subject = Callable[[str], Any]  # a key -> what reads of it look at (a view, a state)


def _all_of(
    reads: list[Callable[[Any, Any, float], Value]], first: Subject, second: Subject
) -> Reader:
    """Every read on a key's two subjects, as a row (written out for the usual one to three:
    a cycle reads thousands of titik)."""
    if len(reads) == 1:
        (a,) = reads
        return lambda key, now: (a(first(key), second(key), now),)
    if len(reads) == 2:
        a, b = reads
        return lambda key, now: (a(x := first(key), y := second(key), now), b(x, y, now))
    if len(reads) == 3:
        a, b, c = reads
        return lambda key, now: (
            a(x := first(key), y := second(key), now),
            b(x, y, now),
            c(x, y, now),
        )

    count = len(reads)

    def read(key: str, now: float) -> Row:
        x, y = first(key), second(key)
        return tuple(map(operator.call, reads, repeat(x, count), repeat(y, count),
                         repeat(now, count)))  # fmt: skip

    return read


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
        self._stamps: dict[str, tuple[object, object, Stamps]] = {}
        self._self_read: tuple[float | None, dict[str, Value]] = (None, {})
        self._rows = {scope: self.reader(scope, self.columns(scope))
                      for scope in ("hotspot", "ap", "daemon")}  # fmt: skip
        self._no_probes: dict[str, None] = {}  # (a titik's probe results, for names of none)

    def columns(self, scope: str) -> tuple[str, ...]:
        if scope == "daemon":
            return DAEMON_COLUMNS
        return HOTSPOT_COLUMNS if scope == "hotspot" else AP_COLUMNS

    def changed(self, scope: str) -> Mapping[str, int] | None:
        if scope == "daemon":  # its values are worked out anew every cycle
            return dict.fromkeys(self.keys(scope), MOVED_ANY)
        return self._changes.take(scope)

    def moved_by(self, scope: str) -> Mapping[str, int]:
        if scope == "daemon":
            return {}
        return HOTSPOT_MOVED_BY if scope == "hotspot" else AP_MOVED_BY

    def keys(self, scope: str) -> Collection[str]:
        if scope == "daemon":
            return (SELF_KEY,) if self.self_values is not None else ()
        return self.state.hotspots.keys() if scope == "hotspot" else self.state.aps.keys()

    def row(self, scope: str, key: str, now: float) -> tuple[Row, Stamps]:
        return self._rows[scope](key, now), self.stamps(scope, key, now)

    def stamps(self, scope: str, key: str, now: float) -> Stamps:
        if scope != "hotspot":
            return NO_STAMPS
        return self._stamps_of(key, self.state.hotspot_states.get(key))

    def reader(self, scope: str, names: Sequence[str]) -> Reader:
        state = self.state
        if scope == "hotspot":  # from the titik's view (worked out when not kept) ...
            reads = [HOTSPOT_READS[name] for name in names]
            if not PROBED.intersection(names):  # ... alone
                return _all_of(reads, state.views.__getitem__, self._no_probes.get)
            # ... and its probe results (the dict is replaced on reload: looked up each time)
            return _all_of(reads, state.views.__getitem__, lambda k: state.hotspot_states.get(k))
        if scope == "ap":
            return _all_of([AP_READS[name] for name in names], lambda key: state.aps[key],
                           lambda key: state.hotspots[state.aps[key].hotspot_id])  # fmt: skip
        return lambda key, now: tuple([self._self_values_at(now).get(name) for name in names])

    def _self_values_at(self, now: float) -> dict[str, Value]:
        """wifimon's own values, worked out once per cycle: reading them starts a new lag."""
        if self._self_read[0] != now:
            values = self.self_values(now) if self.self_values is not None else {}
            self._self_read = (now, values)
        return self._self_read[1]

    def _stamps_of(self, key: str, hstate: HotspotState | None) -> Stamps:
        """When a titik's probe-fed values were measured, worked out again for new results."""
        results = (hstate.throughput, hstate.reachability) if hstate else (None, None)
        cached = self._stamps.get(key)
        if cached is None or cached[0] is not results[0] or cached[1] is not results[1]:
            cached = (*results, observed_at(hstate))
            if len(self._stamps) > 2 * len(self.state.hotspots):
                self._stamps.clear()  # removed titik do not pile up
            self._stamps[key] = cached
        return cached[2]
