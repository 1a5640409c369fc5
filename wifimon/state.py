"""The one place that turns samples into rates, up/down, reboots and per-hotspot values."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import NamedTuple

from wifimon.inventory import AccessPoint, Hotspot, Inventory, UsersFrom
from wifimon.measurements import ApSample, InterfaceReading
from wifimon.probes.results import ProbeResult
from wifimon.rates import counter_delta

log = logging.getLogger(__name__)

# sysUpTime may step back by a tick or two between agents' reads; more is a reboot.
UPTIME_JITTER_SECONDS = 5.0
THROUGHPUT_HISTORY = 10
# "Many users on a full link": both the users and the uplink at 80% of what the titik has.
SATURATION_USERS_RATIO = 0.8
SATURATION_UPLINK_RATIO = 0.8
DEFAULT_MAX_GAP_SECONDS = 180.0


class Status(StrEnum):
    """Reachability as the NOC sees it."""

    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"


@dataclass(slots=True)
class InterfaceState:
    """Counters and rates of one interface across polls."""

    name: str
    role: str | None
    oper_up: bool | None = None
    speed_mbps: float | None = None
    last_in: int | None = None
    last_out: int | None = None
    last_time: float | None = None
    bits: int | None = None
    rx_bytes_total: int = 0
    tx_bytes_total: int = 0
    rx_bps: float | None = None
    tx_bps: float | None = None


@dataclass(slots=True)
class ApState:
    """What wifimon knows about one access point."""

    hotspot_id: str
    ap: AccessPoint
    status: Status = Status.UNKNOWN
    last_sample: ApSample | None = None
    last_success: float | None = None
    consecutive_failures: int = 0
    detected_profile: str | None = None
    uptime_seconds: float | None = None
    reboots_total: int = 0
    errors_total: Counter[str] = field(default_factory=Counter)
    interfaces: dict[int, InterfaceState] = field(default_factory=dict)
    next_poll_after: float = 0.0

    @property
    def clients(self) -> int | None:
        """Known client total from the last successful poll, None when unknown."""
        if self.status != Status.UP or self.last_sample is None:
            return None
        return self.last_sample.clients.total


@dataclass(slots=True)
class ControllerState:
    """The last poll of one wireless controller."""

    up: bool | None = None
    profile: str | None = None
    aps_reported: int | None = None  # rows of its per-AP table; None when unread
    last_success: float | None = None


@dataclass(slots=True)
class HotspotState:
    """Probe results and capacity time of one titik (AP state lives in ApState)."""

    reachability: ProbeResult | None = None
    throughput: ProbeResult | None = None
    last_good_throughput: ProbeResult | None = None
    throughput_history: deque[ProbeResult] = field(
        default_factory=lambda: deque(maxlen=THROUGHPUT_HISTORY)
    )
    probe_errors_total: Counter[tuple[str, str]] = field(default_factory=Counter)
    probe_skips_total: Counter[tuple[str, str]] = field(default_factory=Counter)
    sessions: int | None = None  # open portal sessions; None: unknown or no source
    sessions_at: float | None = None
    at_capacity_seconds: float = 0.0
    capacity_seen_at: float | None = None
    was_at_capacity: bool = False


class ApSummary(NamedTuple):
    """What a titik's APs say together: the one place that decides a titik is up or down."""

    status: Status
    clients: int | None  # summed over APs with a known count
    aps_total: int
    aps_down: int
    reboots: int
    auth_errors: int
    last_success: float | None  # the newest successful poll of any of its APs


def summarise_aps(aps: Iterable[ApState]) -> ApSummary:
    """Up while at least one AP answers, down when all are down, else unknown."""
    total = down = reboots = auth = 0
    any_up = any_unknown = False
    clients: int | None = None
    latest: float | None = None
    for ap in aps:
        total += 1
        reboots += ap.reboots_total
        auth += ap.errors_total.get("auth", 0)
        if ap.last_success is not None and (latest is None or ap.last_success > latest):
            latest = ap.last_success
        if ap.status == Status.UP:
            any_up = True
            known = ap.last_sample.clients.total if ap.last_sample is not None else None
            if known is not None:
                clients = (clients or 0) + known
        elif ap.status == Status.DOWN:
            down += 1
        else:
            any_unknown = True
    if any_up:
        status = Status.UP
    elif total and not any_unknown:
        status = Status.DOWN
    else:
        status = Status.UNKNOWN
    return ApSummary(status, clients, total, down, reboots, auth, latest)


# What new data moved (bits of a change feed's value), so a reader skips what it does not read.
# A titik's bits are those of its APs' polls and of its own probe results.
MOVED_STATUS = 1  # up, down or unknown
MOVED_CLIENTS = 2  # the client count
MOVED_REBOOTS = 4
MOVED_ERRORS = 8  # poll errors (auth, timeout, ...)
MOVED_POLL = 16  # a successful poll: uptime, counters and rates, CPU, memory, its time
MOVED_REACH = 32  # a reachability probe result
MOVED_THROUGHPUT = 64  # a throughput probe result
MOVED_ANY = 127


class Changes:
    """Titik and APs with new data since their reader last took them (one per reader), each
    with the MOVED_* bits of what moved.

    A reader starts with everything changed, and so does every reader after an inventory
    reload: identity and SLA may have moved without any new data.
    """

    def __init__(self, lock: threading.Lock) -> None:
        self.aps: dict[str, int] = {}
        self.hotspots: dict[str, int] = {}
        self.everything = {"ap", "hotspot"}
        self._lock = lock  # the state's: polls add while the rules take, in another thread

    def note(self, hotspot_id: str, ap_id: str | None, moved: int) -> None:
        """Called with the state's lock held."""
        hotspots = self.hotspots
        hotspots[hotspot_id] = hotspots.get(hotspot_id, 0) | moved
        if ap_id is not None:
            self.aps[ap_id] = self.aps.get(ap_id, 0) | moved

    def take(self, scope: str) -> dict[str, int] | None:
        """The changed ids of a scope since the last take, with what moved; None: all."""
        with self._lock:
            if scope in self.everything:
                self.everything.discard(scope)
                (self.aps if scope == "ap" else self.hotspots).clear()
                return None
            if scope == "ap":
                taken, self.aps = self.aps, {}
            else:
                taken, self.hotspots = self.hotspots, {}
            return taken


class _KeptViews(dict[str, "HotspotView"]):
    """The kept views by titik id; reading one not kept works it out (rules read thousands a
    cycle: a plain lookup when kept)."""

    def __init__(self, state: State) -> None:
        super().__init__()
        self._state = state

    def __missing__(self, hotspot_id: str) -> HotspotView:
        return self._state._keep_view(hotspot_id)


@dataclass(frozen=True, slots=True)
class HotspotView:
    """Derived per-titik values, worked out on the first read after new data."""

    hotspot: Hotspot
    aps: ApSummary
    status: Status
    clients: int | None
    utilisation: float | None
    uplink_bps: float | None = None
    uplink_utilisation: float | None = None
    saturated: bool | None = None
    below_sla: bool | None = None
    associated: int | None = None  # Wi-Fi clients of its APs
    sessions: int | None = None  # logged-in portal sessions, where a source counts them
    users_from: UsersFrom = "associated"  # which of the two `clients` is

    def user_counts(self) -> dict[str, int]:
        """Associated, sessions and not logged in, where a session source counts the titik."""
        if self.sessions is None:
            return {}
        found = {"associated": self.associated, "sessions": self.sessions,
                 "not_logged_in": self.not_logged_in}  # fmt: skip
        return {kind: n for kind, n in found.items() if n is not None}

    @property
    def not_logged_in(self) -> int | None:
        """Associated but not logged in to the portal, where both counts are known."""
        if self.associated is None or self.sessions is None:
            return None
        return max(0, self.associated - self.sessions)


@dataclass(frozen=True, slots=True)
class InventoryChange:
    """A new inventory worked out against the state it replaces, ready to swap in.

    Kept APs are the same ApState objects, so polls that finish meanwhile are not lost.
    """

    base: dict[str, ApState]  # the AP states it was worked out against
    aps: dict[str, ApState]
    hotspots: dict[str, Hotspot]
    users_from: dict[str, UsersFrom]
    controllers: dict[str, ControllerState]
    hotspot_states: dict[str, HotspotState]
    added: frozenset[str]  # AP ids
    removed: frozenset[str]
    changed: frozenset[str]
    touched: frozenset[str] = frozenset()  # titik whose view may read differently

    @property
    def summary(self) -> str:
        """How many APs it adds, removes and changes, for the log."""
        return f"added={len(self.added)} removed={len(self.removed)} changed={len(self.changed)}"


class State:
    """Latest state per AP and hotspot; written by pollers, read by metrics/rules/API."""

    def __init__(
        self,
        inventory: Inventory,
        down_after_failures: int = 2,
        max_gap_seconds: float = DEFAULT_MAX_GAP_SECONDS,
    ) -> None:
        self.down_after_failures = down_after_failures
        self.max_gap_seconds = max_gap_seconds
        self.hotspots: dict[str, Hotspot] = {}
        self.users_from: dict[str, UsersFrom] = {}
        self.hotspot_states: dict[str, HotspotState] = {}
        self.aps: dict[str, ApState] = {}
        self.controllers: dict[str, ControllerState] = {}
        self._readers: weakref.WeakSet[Changes] = weakref.WeakSet()
        self.views = _KeptViews(self)  # hotspot id -> view, until its next change
        self._epoch = 0  # counts changes, so a view worked out during one is not kept
        self._lock = threading.Lock()  # the views and change feeds, across threads
        self.apply_inventory(inventory)

    def watch(self) -> Changes:
        """A change feed for one reader (the rules engine reads only what moved)."""
        changes = Changes(self._lock)
        with self._lock:
            self._readers.add(changes)
        return changes

    def apply_inventory(self, inventory: Inventory) -> tuple[set[str], set[str], set[str]]:
        """Adopt a new inventory: returns (added, removed, changed) AP ids.

        Unchanged APs keep their state, so a reload leaves no gap and resets no rate.
        """
        change = self.plan_inventory(inventory)
        self.apply_change(change)
        return set(change.added), set(change.removed), set(change.changed)

    def plan_inventory(self, inventory: Inventory) -> InventoryChange:
        """Work out what adopting `inventory` changes, changing nothing yet (a worker thread
        may do this while polls go on: they change what is inside an ApState, never which
        ApStates there are; only `apply_change` does that)."""
        old = self.aps
        wanted = {ap.id: (hotspot.id, ap) for hotspot, ap in inventory.access_points()}
        changed = frozenset(
            ap_id
            for ap_id, where in wanted.items()
            if ap_id in old and (old[ap_id].hotspot_id, old[ap_id].ap) != where
        )
        aps = {
            ap_id: old[ap_id]
            if ap_id in old and ap_id not in changed
            else ApState(hotspot_id=hotspot_id, ap=ap)
            for ap_id, (hotspot_id, ap) in wanted.items()
        }
        hotspots = {h.id: h for h in inventory.hotspots}
        users_from = {h.id: inventory.users_from(h) for h in inventory.hotspots}
        controllers = {
            c.id: self.controllers.get(c.id) or ControllerState() for c in inventory.controllers
        }
        hotspot_states = {h: self.hotspot_states.get(h) or HotspotState() for h in hotspots}
        change = InventoryChange(
            old, aps, hotspots, users_from, controllers, hotspot_states,
            added=frozenset(wanted.keys() - old.keys()),
            removed=frozenset(old.keys() - wanted.keys()),
            changed=changed,
        )  # fmt: skip
        return replace(change, touched=self._touched(change))

    def _touched(self, change: InventoryChange) -> frozenset[str]:
        """Titik whose view may read differently after `change`: gone, changed (or counting
        users differently), or with an AP added, removed or changed."""
        old_aps, new_aps = change.base, change.aps
        touched = set(self.hotspots.keys() - change.hotspots.keys())
        touched.update(
            h_id
            for h_id, hotspot in change.hotspots.items()
            if self.hotspots.get(h_id) != hotspot
            or self.users_from.get(h_id) != change.users_from[h_id]
        )
        touched.update(old_aps[ap_id].hotspot_id for ap_id in change.removed | change.changed)
        touched.update(new_aps[ap_id].hotspot_id for ap_id in change.added | change.changed)
        return frozenset(touched)

    def apply_change(self, change: InventoryChange) -> None:
        """Swap in a planned inventory at once: every reader sees the old one or the new one.

        Only the views of the titik it touched are worked out again; every change feed reads
        everything once more (identity and SLA may have moved without any new data).
        """
        if change.base is not self.aps:
            raise RuntimeError("inventory change planned against another inventory")
        self.aps = change.aps
        self.hotspots = change.hotspots
        self.users_from = change.users_from
        self.controllers = change.controllers
        self.hotspot_states = change.hotspot_states
        with self._lock:
            self._epoch += 1
            for hotspot_id in change.touched:
                self.views.pop(hotspot_id, None)
            for reader in self._readers:
                reader.everything = {"ap", "hotspot"}

    def record_probe(self, hotspot_id: str, result: ProbeResult) -> None:
        """Keep a probe result (ignored if the titik was removed meanwhile)."""
        hstate = self.hotspot_states.get(hotspot_id)
        if hstate is None:
            return
        if not result.ok:
            hstate.probe_errors_total[(result.kind, result.reason or "error")] += 1
        if result.kind in ("icmp", "tcp"):
            hstate.reachability = result
            self._changed(hotspot_id, None, MOVED_REACH, view=False)  # the view reads no ping
            return
        hstate.throughput = result
        hstate.throughput_history.append(result)
        if result.ok:
            hstate.last_good_throughput = result
        self._changed(hotspot_id, None, MOVED_THROUGHPUT)

    def note_probe_skipped(self, hotspot_id: str, kind: str, why: str) -> None:
        hstate = self.hotspot_states.get(hotspot_id)
        if hstate is not None:
            hstate.probe_skips_total[(kind, why)] += 1

    def _track_capacity(self, hotspot_id: str, now: float) -> None:
        """Accumulate time at or above capacity; gaps longer than max_gap count as nothing."""
        hstate = self.hotspot_states.get(hotspot_id)
        if hstate is None:
            return
        view = self.hotspot_view(hotspot_id)
        previous = hstate.capacity_seen_at
        if previous is not None and hstate.was_at_capacity:
            elapsed = now - previous
            if 0 < elapsed <= self.max_gap_seconds:
                hstate.at_capacity_seconds += elapsed
        if previous is None or now > previous:
            hstate.capacity_seen_at = now
            hstate.was_at_capacity = bool(view.utilisation is not None and view.utilisation >= 1)

    def record(self, sample: ApSample) -> None:
        """Fold one poll result into the AP's state (ignored if the AP was removed)."""
        state = self.aps.get(sample.ap_id)
        if state is None:
            return
        for issue in sample.issues:
            state.errors_total[issue.reason] += 1
        moved = MOVED_ERRORS if sample.issues else 0
        if not sample.reachable:
            if self._record_failure(state):
                moved |= MOVED_STATUS | MOVED_CLIENTS
            self._changed(state.hotspot_id, sample.ap_id, moved)
            return
        rebooted = self._note_uptime(state, sample)
        self._update_interfaces(state, sample, rebooted)
        moved |= _moved_by_poll(state, sample, rebooted)
        state.last_sample = sample
        state.last_success = sample.timestamp
        state.consecutive_failures = 0
        state.next_poll_after = 0.0
        state.status = Status.UP
        if sample.profile:
            state.detected_profile = sample.profile
        self._changed(state.hotspot_id, sample.ap_id, moved)
        self._track_capacity(state.hotspot_id, sample.timestamp)

    def record_controller(self, controller_id: str, sample: ApSample) -> None:
        """Keep what a controller poll said about the controller itself."""
        state = self.controllers.get(controller_id)
        if state is None:
            return
        state.up = sample.reachable
        if sample.reachable:
            state.profile = sample.profile
            state.last_success = sample.timestamp
            state.aps_reported = None if sample.managed_aps is None else len(sample.managed_aps)

    def record_sessions(self, hotspot_id: str, sessions: int | None, at: float) -> None:
        """Keep a titik's open portal sessions (None: its source could not tell)."""
        hstate = self.hotspot_states.get(hotspot_id)
        if hstate is None:
            return
        moved = hstate.sessions != sessions
        hstate.sessions, hstate.sessions_at = sessions, at
        if moved:
            self._changed(hotspot_id, None, MOVED_CLIENTS)
        self._track_capacity(hotspot_id, at)

    def mark_unknown(self, ap_id: str, reason: str) -> None:
        """Nothing can be said of this AP now (its controller did not tell): neither up nor
        down, and its client count unknown."""
        state = self.aps.get(ap_id)
        if state is None:
            return
        state.errors_total[reason] += 1
        moved = MOVED_ERRORS
        if state.status != Status.UNKNOWN:
            state.status = Status.UNKNOWN
            moved |= MOVED_STATUS | MOVED_CLIENTS
        self._changed(state.hotspot_id, ap_id, moved)

    def _changed(self, hotspot_id: str, ap_id: str | None, moved: int, view: bool = True) -> None:
        """After new data: drop the titik's kept view (if `view` reads it) and tell every
        change feed what moved."""
        with self._lock:
            if view:
                self._epoch += 1
                self.views.pop(hotspot_id, None)
            for reader in self._readers:
                reader.note(hotspot_id, ap_id, moved)

    def _record_failure(self, state: ApState) -> bool:
        """Count a failed poll; returns whether the AP went down with it."""
        state.consecutive_failures += 1
        if state.consecutive_failures < self.down_after_failures or state.status == Status.DOWN:
            return False
        log.info("ap down hotspot=%s ap=%s", state.hotspot_id, state.ap.id)
        state.status = Status.DOWN
        return True

    def _note_uptime(self, state: ApState, sample: ApSample) -> bool:
        """Count a reboot when uptime went backwards; returns whether it did."""
        previous, current = state.uptime_seconds, sample.uptime_seconds
        state.uptime_seconds = current
        if previous is None or current is None:
            return False
        if current + UPTIME_JITTER_SECONDS < previous:
            state.reboots_total += 1
            log.info("ap rebooted hotspot=%s ap=%s", state.hotspot_id, state.ap.id)
            return True
        return False

    def _update_interfaces(self, state: ApState, sample: ApSample, rebooted: bool) -> None:
        """Rates from counter deltas; interfaces that vanished are dropped."""
        seen: dict[int, InterfaceState] = {}
        for reading in sample.interfaces:
            current = state.interfaces.get(reading.index)
            if current is None or current.name != reading.name:
                current = InterfaceState(name=reading.name, role=reading.role)
            _advance(current, reading, sample.timestamp, rebooted)
            seen[reading.index] = current
        state.interfaces = seen

    def hotspot_view(self, hotspot_id: str) -> HotspotView:
        """Up while at least one AP answers; clients summed over APs with known counts.

        Kept until the titik's next poll or probe result: metrics, rules and the API all read
        it, most titik far more often than they change (`views[hotspot_id]` is the same).
        """
        return self.views[hotspot_id]

    def _keep_view(self, hotspot_id: str) -> HotspotView:
        """Work out a view, and keep it unless new data came meanwhile."""
        epoch = self._epoch
        view = self._derive_view(hotspot_id)
        with self._lock:  # rules and metrics read in worker threads while polls write
            if epoch == self._epoch:  # nothing changed meanwhile: the view is whole
                self.views[hotspot_id] = view
        return view

    def _derive_view(self, hotspot_id: str) -> HotspotView:
        hotspot = self.hotspots[hotspot_id]
        aps = self.aps_of(hotspot)
        summary = summarise_aps(aps)
        hstate = self.hotspot_states.get(hotspot_id) or HotspotState()
        users_from = self.users_from.get(hotspot_id, "associated")
        status = summary.status
        clients = hstate.sessions if users_from == "sessions" else summary.clients
        capacity = hotspot.sla.capacity_users
        utilisation = clients / capacity if clients is not None else None
        uplink = _uplink_bps(aps)
        reference = _reference_bps(hotspot, hstate)
        uplink_utilisation = uplink / reference if uplink is not None else None
        saturated = None
        if uplink_utilisation is not None and utilisation is not None:
            saturated = (
                uplink_utilisation >= SATURATION_UPLINK_RATIO
                and utilisation >= SATURATION_USERS_RATIO
            )
        below = None
        if hstate.throughput is not None and hstate.throughput.download_bps is not None:
            below = hstate.throughput.download_bps < hotspot.sla.min_mbps * 1e6
        return HotspotView(hotspot, summary, status, clients, utilisation, uplink,
                           uplink_utilisation, saturated, below, summary.clients,
                           hstate.sessions, users_from)  # fmt: skip

    def aps_of(self, hotspot: Hotspot) -> list[ApState]:
        """The states of a titik's APs, in inventory order."""
        aps = self.aps
        return [aps[ap.id] for ap in hotspot.access_points if ap.id in aps]

    def should_poll(self, ap_id: str, now: float | None = None) -> bool:
        """False while an AP that stays down is in backoff."""
        state = self.aps.get(ap_id)
        if state is None:
            return False
        return (now if now is not None else time.time()) >= state.next_poll_after

    def back_off(self, ap_id: str, interval: float, maximum: float, now: float) -> None:
        """Poll a down AP less often: interval x 2^(failures past down), capped."""
        state = self.aps.get(ap_id)
        if state is None or state.status != Status.DOWN:
            return
        extra = state.consecutive_failures - self.down_after_failures
        delay = min(interval * (2 ** max(extra, 0)), maximum) if maximum > 0 else 0.0
        state.next_poll_after = now + max(delay - interval, 0.0)


def _moved_by_poll(state: ApState, sample: ApSample, rebooted: bool) -> int:
    """What a successful poll moves, against the AP's state before it."""
    moved = MOVED_POLL
    if state.status != Status.UP:
        moved |= MOVED_STATUS | MOVED_CLIENTS
    elif state.last_sample is None or state.last_sample.clients.total != sample.clients.total:
        moved |= MOVED_CLIENTS
    if rebooted:
        moved |= MOVED_REBOOTS
    return moved


def condition(view: HotspotView) -> str:
    """The NOC's one word for a titik: down, slow, full, up or unknown (in that order)."""
    if view.status == Status.DOWN:
        return "down"
    if view.status == Status.UNKNOWN:
        return "unknown"
    if view.below_sla:
        return "slow"
    if view.utilisation is not None and view.utilisation >= 1:
        return "full"
    return "up"


def _uplink_bps(aps: list[ApState]) -> float | None:
    """Download on the titik's uplinks (received on the uplink interface), summed over APs."""
    rates = [
        iface.rx_bps
        for ap in aps
        if ap.status == Status.UP
        for iface in ap.interfaces.values()
        if iface.role == "uplink" and iface.rx_bps is not None
    ]
    return sum(rates) if rates else None


def _reference_bps(hotspot: Hotspot, hstate: HotspotState) -> float:
    """What the uplink can carry: the last good throughput probe, else the SLA minimum."""
    good = hstate.last_good_throughput
    if good is not None and good.download_bps:
        return good.download_bps
    return hotspot.sla.min_mbps * 1e6


def _advance(
    current: InterfaceState, reading: InterfaceReading, now: float, rebooted: bool
) -> None:
    """Move one interface to a new reading, accumulating octets and computing rates."""
    current.oper_up = reading.oper_up
    current.speed_mbps = reading.speed_mbps
    elapsed = now - current.last_time if current.last_time is not None else 0.0
    comparable = current.bits == reading.counter_bits and not rebooted
    rx = _octets_since(current.last_in, reading.in_octets, reading, elapsed, comparable)
    tx = _octets_since(current.last_out, reading.out_octets, reading, elapsed, comparable)
    current.rx_bps = rx * 8 / elapsed if rx is not None else None
    current.tx_bps = tx * 8 / elapsed if tx is not None else None
    current.rx_bytes_total += rx or 0
    current.tx_bytes_total += tx or 0
    current.last_in, current.last_out = reading.in_octets, reading.out_octets
    current.bits = reading.counter_bits
    current.last_time = now


def _octets_since(
    previous: int | None,
    current: int | None,
    reading: InterfaceReading,
    elapsed: float,
    comparable: bool,
) -> int | None:
    """Octets counted in one direction since the last poll, None when not knowable."""
    if previous is None or current is None or not comparable:
        return None
    bits = reading.counter_bits or 64
    return counter_delta(previous, current, bits, elapsed, reading.speed_mbps).octets
