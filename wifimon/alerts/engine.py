"""Evaluates the rules over state: one alert lifecycle per (rule, titik or AP).

A cycle reads only the titik and APs with new data, steps the alerts that exist, and wakes
rules that read the clock (`seconds_since_data`) when it crosses their thresholds; the rest
would give the answer they gave last time. `incremental=False` runs every rule on everything
(the reference this is tested against).
"""

from __future__ import annotations

import functools
import heapq
import logging
import operator
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from wifimon.alerts.acks import Ack
from wifimon.alerts.context import STATIC_NAMES, History, Row
from wifimon.alerts.expr import Value
from wifimon.alerts.lifecycle import Alert, AlertState
from wifimon.alerts.plan import CLOCK_NAME, NOTHING_MOVED, Input, Reading, ScopePlan
from wifimon.alerts.rules import SCOPES, GroupRule, Rule, RuleSet
from wifimon.alerts.silences import Silence, silenced_by
from wifimon.alerts.source import Reader, Source, StateSource
from wifimon.alerts.store import alert_from_dict, alert_to_dict
from wifimon.alerts.told import Told
from wifimon.state import MOVED_ANY, State

log = logging.getLogger(__name__)
EVERY = -1  # "read every name", where MOVED_* bits say what to read
Shown = tuple[tuple[str, ...], Reader, tuple[str, ...], Reader]  # fixed names, others
LABEL_NAMES = ("hotspot", "kota", "kecamatan", "kelurahan", "rw", "provider")


class Transition(NamedTuple):
    """An alert changing state, for logs, metrics and notifications (a tuple: hundreds are
    made a cycle when alerts go pending and back)."""

    rule: Rule | GroupRule
    key: str
    state: AlertState
    at: float
    labels: dict[str, str]
    flapping: bool


def alert_id(rule_name: str, key: str) -> str:
    """`TitikMati:jp-glr-01`: how people, files and the API refer to an alert."""
    return f"{rule_name}:{key}"


@dataclass
class ActiveAlert:
    rule: Rule | GroupRule
    key: str
    alert: Alert
    labels: dict[str, str]
    rendered: dict[str, str] | None = None  # annotations, once rendered (see `annotations`)
    members: list[str] = field(default_factory=list)  # grouped alerts: the titik it names
    silenced_by: str | None = None  # id of the active silence matching it, if any
    inhibited_by: str | None = None  # the firing alert that holds this one back, if any
    held_from: dict[str, str] = field(default_factory=dict)  # recipient role -> inhibiting alert
    grouped_into: list[str] = field(default_factory=list)  # firing group alerts naming it
    told: Told = field(default_factory=Told)  # who has heard of it (dispatch)
    ack: Ack | None = None  # the acknowledgement of this firing episode, if any
    render_from: dict[str, Value] | None = None  # values of the last transition, not rendered

    @property
    def id(self) -> str:
        """`TitikMati:jp-glr-01`, `GangguanKelurahan:Galur`: how people refer to it."""
        return alert_id(self.rule.name, self.key)

    @property
    def annotations(self) -> dict[str, str]:
        """Summary and description as of the last transition, rendered when first read:
        pending alerts that never fire cost no template rendering."""
        if self.rendered is None:
            values = self.render_from or {}
            rule = self.rule
            self.rendered = rule.annotate(values, self.labels) if isinstance(rule, Rule) else {}
            self.render_from = None
        return self.rendered

    @annotations.setter
    def annotations(self, rendered: dict[str, str]) -> None:
        self.rendered, self.render_from = rendered, None

    def annotate_later(self, values: dict[str, Value]) -> None:
        """Keep a copy of the values the annotations will be rendered from."""
        self.rendered, self.render_from = None, dict(values)


@dataclass(slots=True)
class _Seen:
    """What the engine knows of one titik or AP: what its rules last read, and its past."""

    history: History
    known: bool = False  # read at least once since the rules or the inventory changed
    taken: list[Value] = field(default_factory=list)  # the values of the names rules read
    inputs: list[Input] = field(default_factory=list)  # the same, compared names as sides
    stamps: Mapping[str, float | None] = field(default_factory=dict)  # as `taken` was read
    fixed: dict[str, Value] | None = None  # the place and SLA names labels and summaries read
    shown: Row = ()  # the values of the other names they read, when a rule ran
    current: bool = False  # `shown` is as of the last data that can move it
    # all of those by name: built when a rule first runs after a whole read, then kept; brought
    # up to date from `taken` and `shown` when rules run
    values: dict[str, Value] | None = None
    data_at: float | None = None  # when the last data arrived, to age seconds_since_data
    clock_at: float | None = None  # when a clock rule may next answer differently
    alerts_at: float | None = None  # when one of its alerts may move with time alone
    wake_at: float | None = None  # the earlier of those two
    queued_at: float | None = None  # the time of its live entry in the wake-up queue
    # `clock_at` and `wake_at` are as of earlier data: work them out as of a read at this time
    # when the queued entry comes up (new data moves the clock's crossings later, not earlier)
    clock_from: float | None = None


class RuleEngine:
    """Owns the alerts and the rules' history; `evaluate(now)` is one cycle."""

    def __init__(self, ruleset: RuleSet, source: State | Source, incremental: bool = True) -> None:
        self.source: Source = StateSource(source) if isinstance(source, State) else source
        self.incremental = incremental  # False: run every rule on everything (the reference)
        self.alerts: dict[tuple[str, str], ActiveAlert] = {}
        self._alerting: dict[str, dict[str, set[str]]] = {}  # scope -> key -> rules alerting
        self._by_rule: dict[str, dict[str, ActiveAlert]] = {}  # rule -> key -> its alert
        self._held: list[ActiveAlert] = []  # alerts an inhibition held back last cycle
        self._silenced: list[ActiveAlert] = []  # alerts a silence matched last cycle
        self._grouped: list[ActiveAlert] = []  # alerts a group named last cycle
        self._seen: dict[str, dict[str, _Seen]] = {}  # scope -> key -> what was read
        # scope -> key -> its history, while `steady` (new data that moves nothing anyone
        # reads only moves its last sample's time: thousands of AP polls a cycle)
        self._steady: dict[str, dict[str, History]] = {}
        self._wake: dict[str, list[tuple[float, str]]] = {}  # scope -> heap of (time, key)
        self._use(ruleset)

    def _use(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self._plans = {
            scope: ScopePlan.of([r for r in ruleset.rules if r.scope == scope],
                                self.source.columns(scope), self.source.moved_by(scope))
            for scope in SCOPES
        }  # fmt: skip
        self._reads: dict[str, dict[int, tuple[Reading, Reader, bool]]] = {s: {} for s in SCOPES}
        self._shown: dict[str, Shown] = {
            scope: self._shown_readers(scope, plan) for scope, plan in self._plans.items()
        }
        # what new data must have moved for a name only labels and summaries read to move,
        # and for anything the rules or those read to move
        self._shown_bits: dict[str, int] = {
            scope: self._moving_bits(scope, shown[2]) for scope, shown in self._shown.items()
        }
        self._wakes: dict[str, int] = {
            scope: plan.needs | self._shown_bits[scope] for scope, plan in self._plans.items()
        }
        keep = max(ruleset.longest_window, 24 * ruleset.evaluation_interval)
        self._history_spec: dict[str, tuple[frozenset[str], frozenset[str], float]] = {
            scope: (ruleset.history_names(scope), ruleset.run_names(scope), keep)
            for scope in SCOPES
        }
        self._seen = {scope: {} for scope in SCOPES}
        self._steady = {scope: {} for scope in SCOPES}
        self._wake = {scope: [] for scope in SCOPES}
        self._index()
        self._read_all = True  # new rules: read everything once

    def replace_rules(self, ruleset: RuleSet) -> None:
        """New rules keep the alerts of rules that still exist (by name)."""
        names: dict[str, Rule | GroupRule] = {rule.name: rule for rule in ruleset.rules}
        names.update((group.name, group) for group in ruleset.groups)
        self.alerts = {k: ActiveAlert(names[k[0]], a.key, a.alert, a.labels, a.annotations,
                                      a.members, told=a.told)
                       for k, a in self.alerts.items() if k[0] in names}  # fmt: skip
        self._use(ruleset)

    def evaluate(self, now: float, silences: Sequence[Silence] = ()) -> list[Transition]:
        """One cycle over the titik and APs with new data, alerts or a clock rule due."""
        transitions: list[Transition] = []
        everything, self._read_all = self._read_all, False
        for scope, plan in self._plans.items():
            changed = self.source.changed(scope)
            if not plan.rules:
                continue
            if changed is None or everything:
                everything, changed = True, None
            self._evaluate_scope(scope, plan, changed, now, transitions)
        if everything:
            self._forget_removed()
        self._group(now, transitions)
        self._silence(silences, now)
        self._inhibit()
        for t in transitions:
            log.info("alert alertname=%s state=%s %s=%s flapping=%s", t.rule.name, t.state.value,
                     t.rule.scope, t.key, t.flapping)  # fmt: skip
        return transitions

    def _silence(self, silences: Sequence[Silence], now: float) -> None:
        """Mark each alert with the active silence matching it (if any)."""
        for active in self._silenced:  # as marked last cycle
            active.silenced_by = None
        self._silenced = []
        if not silences:
            return
        listed = list(silences)
        for active in self.alerts.values():
            silence = silenced_by(listed, active.labels, now)
            if silence is not None:
                active.silenced_by = silence.id
                self._silenced.append(active)

    def _evaluate_scope(
        self,
        scope: str,
        plan: ScopePlan,
        changed: Mapping[str, int] | None,
        now: float,
        transitions: list[Transition],
    ) -> None:
        """Run the rules of one scope where they could answer differently than last time:
        where inputs moved, and where an alert or a clock rule may move with time alone.

        `changed` None: every key is read and every rule run (new rules or inventory).
        """
        fresh = changed if changed is not None else dict.fromkeys(self.source.keys(scope), EVERY)
        if not self.incremental:
            self._evaluate_all(scope, plan, fresh, now, transitions)
            return
        due = self._due(scope, plan, now)
        clock_always = plan.thresholds is None and bool(plan.clock_rules)
        if clock_always:
            due = set(self.source.keys(scope))  # a clock value used beyond comparisons
        seen_of, index, needs = self._seen[scope], plan.index, plan.needs
        wakes, shown_bits = self._wakes[scope], self._shown_bits[scope]
        reads, stamps_of, steady = self._reads[scope], self.source.stamps, self._steady[scope]
        thresholds, soonest = plan.thresholds, plan.soonest_crossing  # (the clock's first)
        for key, bits in fresh.items():
            if not bits & wakes and bits != EVERY and key in steady and key not in due:
                steady[key].same_again(now)  # nothing anyone reads moved: only a sample's time
                continue
            seen = seen_of.get(key)
            if seen is None or not seen.known:
                seen, bits = seen or self._seen_of(scope, key), EVERY
            history = seen.history
            data_at = seen.data_at
            if bits & shown_bits:
                seen.current = False  # names only labels and summaries read: read again
            moved: set[str] | None = NOTHING_MOVED  # (nothing the rules read moved: none is read)
            if bits == EVERY:
                self._read_whole(plan, scope, key, seen, now)
                moved = None  # all of it
            elif bits & needs:  # the usual read, written out here (thousands a cycle)
                reading, reader, stamped = reads.get(bits) or self._reading(scope, plan, bits)
                if stamped:
                    seen.stamps = stamps_of(scope, key, now)
                taken = seen.taken
                moved = reading.update(taken, seen.inputs, reader(key, now))
                if reading.clock is not None:
                    age = taken[reading.clock]
                    seen.data_at = now - age if isinstance(age, float) else None  # (_data_at)
            # the history records every measurement, of values read or as they were
            if seen.stamps is not history.idle_with:  # (else it would record nothing)
                appended = history.add(now, seen.taken, index, seen.stamps)
                if appended and moved is not None:
                    moved = moved | appended
                if history.steady:
                    steady[key] = history
                elif key in steady:
                    del steady[key]
            if moved is None or moved or key in due:
                self._step(plan, scope, key, seen, moved, key in due, data_at, clock_always, now,
                           transitions)  # fmt: skip
            elif thresholds and seen.data_at != data_at:  # the clock starts anew
                queued, new_at = seen.queued_at, seen.data_at
                if queued is not None and new_at is not None and queued <= new_at + soonest:
                    seen.clock_from = now  # the queued wake-up comes first: worked out then
                else:
                    self._schedule(plan, scope, seen, key, now)
        for key in due:
            known = seen_of.get(key)
            if key not in fresh and known is not None:  # (else read above, or gone)
                self._step(plan, scope, key, known, set(), True, known.data_at, clock_always, now,
                           transitions)  # fmt: skip

    def _step(
        self,
        plan: ScopePlan,
        scope: str,
        key: str,
        seen: _Seen,
        moved: set[str] | None,
        due: bool,
        data_was: float | None,
        clock_always: bool,
        now: float,
        transitions: list[Transition],
    ) -> None:
        """Run the rules of one key that may answer differently: those that read a name that
        `moved` (None: all), and if it is `due`, those with an alert and the clock's; then
        queue its next wake-up if it may have moved (`data_was`: its data time before)."""
        alerting = self._alerting[scope].get(key)
        clock = False
        if due:
            clock = clock_always or (seen.clock_at is not None and seen.clock_at <= now)
            if clock and seen.data_at is not None:  # (a read may not have aged it)
                plan.age(seen.taken, seen.inputs, max(0.0, now - seen.data_at))
        rules = plan.pick(moved, alerting if due else None, clock)
        stepped = False
        if rules:
            values = self._values(plan, scope, key, seen, now)
            stepped = self._run(rules, key, values, seen.history, now, transitions)
        if stepped or due:  # its alerts were stepped, or may be gone
            seen.alerts_at = self._alerts_at(key, self._alerting[scope].get(key, ()))
        elif not plan.thresholds or seen.data_at == data_was:
            return  # no alert stepped, the clock as it was: the wake-up as it was
        if plan.thresholds or seen.alerts_at is not None:
            self._schedule(plan, scope, seen, key, now)

    def _evaluate_all(
        self,
        scope: str,
        plan: ScopePlan,
        fresh: Collection[str],
        now: float,
        transitions: list[Transition],
    ) -> None:
        """The reference: every rule on every key, every cycle."""
        for key in self.source.keys(scope):
            row, stamps = self.source.row(scope, key, now)
            values = dict(zip(plan.columns, row, strict=True))
            seen = self._seen_of(scope, key)
            if key in fresh:
                seen.history.add(now, row, plan.position, stamps)
            self._run(plan.rules, key, values, seen.history, now, transitions)

    def _read_whole(self, plan: ScopePlan, scope: str, key: str, seen: _Seen, now: float) -> None:
        """Read every name (after new rules or inventory): what rules read is all new."""
        reading, reader, stamped = self._reads[scope].get(EVERY) or self._reading(
            scope, plan, EVERY
        )
        if stamped:
            seen.stamps = self.source.stamps(scope, key, now)
        seen.taken, seen.known, seen.fixed, seen.values = list(reader(key, now)), True, None, None
        seen.inputs = plan.inputs(seen.taken)
        if reading.clock is not None:
            seen.data_at = _data_at(now, seen.taken[reading.clock])

    def _shown_readers(self, scope: str, plan: ScopePlan) -> Shown:
        """The names only labels and annotations read (not the rules), fixed (place, SLA) and
        the others, and a read of each."""
        labelled = {*LABEL_NAMES, "ap"}
        shown = [name for name in plan.columns if name not in plan.index
                 and (name in labelled or any(r.shows(name) for r in plan.rules))]  # fmt: skip
        fixed = tuple(name for name in shown if name in STATIC_NAMES)
        moving = tuple(name for name in shown if name not in STATIC_NAMES)
        read = self.source.reader
        return fixed, read(scope, fixed), moving, read(scope, moving)

    def _moving_bits(self, scope: str, names: Iterable[str]) -> int:
        """The MOVED_* bits after which one of `names` may read differently."""
        moved_by = self.source.moved_by(scope)
        return functools.reduce(operator.or_, (moved_by.get(n, MOVED_ANY) for n in names), 0)

    def _reading(self, scope: str, plan: ScopePlan, bits: int) -> tuple[Reading, Reader, bool]:
        """The names new data with `bits` may have moved (EVERY: all of them), a read of just
        those, and whether to read when probe results were measured (for history only); kept
        for the next time."""
        reading = plan.every if bits == EVERY else plan.reading(bits)
        stamped = bool(self._history_spec[scope][0].intersection(reading.names))
        self._reads[scope][bits] = (reading, self.source.reader(scope, reading.names), stamped)
        return self._reads[scope][bits]

    def _seen_of(self, scope: str, key: str) -> _Seen:
        seen = self._seen[scope].get(key)
        if seen is None:
            names, runs, keep = self._history_spec[scope]
            seen = self._seen[scope][key] = _Seen(History(names, keep, runs))
        return seen

    def _values(
        self, plan: ScopePlan, scope: str, key: str, seen: _Seen, now: float
    ) -> dict[str, Value]:
        """The values rules, labels and annotations read, by name, seconds_since_data aged to
        `now`; those only labels and annotations read are read again only after new data."""
        fixed, read_fixed, shown, read = self._shown[scope]
        if not seen.current:
            seen.shown = read(key, now) if shown else ()
            seen.current = True
            if CLOCK_NAME in shown:
                seen.data_at = _data_at(now, seen.shown[shown.index(CLOCK_NAME)])
            if seen.values is not None:
                seen.values.update(zip(shown, seen.shown, strict=True))
        values = seen.values
        if values is None:  # after a whole read: built once, then kept
            if seen.fixed is None:  # place and SLA: read again only after a reload
                seen.fixed = dict(zip(fixed, read_fixed(key, now), strict=True))
            values = seen.values = dict(seen.fixed)
            values.update(zip(shown, seen.shown, strict=True))
        values.update(zip(plan.names, seen.taken, strict=True))  # (reads change `taken` only)
        if seen.data_at is not None and CLOCK_NAME in values:
            values[CLOCK_NAME] = max(0.0, now - seen.data_at)
        return values

    def _due(self, scope: str, plan: ScopePlan, now: float) -> set[str]:
        """Keys whose clock rules may answer differently now (from the wake-up queue)."""
        queue, due = self._wake[scope], set()
        while queue and queue[0][0] <= now:
            at, key = heapq.heappop(queue)
            seen = self._seen[scope].get(key)
            if seen is None or seen.queued_at != at:
                continue  # superseded by an earlier entry, or forgotten
            seen.queued_at = None
            if seen.clock_from is not None:  # new data came meanwhile: its clock as of then
                self._wake_times(plan, seen, seen.clock_from)
            if seen.wake_at is None:
                continue
            if seen.wake_at <= now:
                due.add(key)
            else:  # new data moved its crossing later
                seen.queued_at = seen.wake_at
                heapq.heappush(queue, (seen.wake_at, key))
        return due

    def _alerts_at(self, key: str, rules: Iterable[str]) -> float | None:
        """The first time one of the key's alerts (of `rules`) may move without new data."""
        first = None
        by_rule = self._by_rule
        for rule_name in rules:
            active = by_rule[rule_name].get(key)
            if active is not None:
                at = active.alert.next_change_at(active.rule.timing)
                if at is not None and (first is None or at < first):
                    first = at
        return first

    def _wake_times(self, plan: ScopePlan, seen: _Seen, now: float) -> None:
        """Work out when a clock rule and when any of a key's alerts may next move, as of
        `now`: the first crossing of the clock after it, with no new data meanwhile."""
        seen.clock_at = clock_at = plan.wake_at(seen.data_at, now)
        seen.clock_from = None
        alerts_at = seen.alerts_at
        if clock_at is None or alerts_at is None:
            seen.wake_at = alerts_at if clock_at is None else clock_at
        else:
            seen.wake_at = min(clock_at, alerts_at)

    def _schedule(self, plan: ScopePlan, scope: str, seen: _Seen, key: str, now: float) -> None:
        """Queue the key's next wake-up: a clock crossing, or the time one of its alerts may
        move without new data. One live entry per key, the earliest."""
        self._wake_times(plan, seen, now)
        if seen.wake_at is None:
            return
        if seen.queued_at is not None and seen.queued_at <= seen.wake_at:
            return  # the queued entry comes first; it is moved on when it comes up
        seen.queued_at = seen.wake_at
        heapq.heappush(self._wake[scope], (seen.wake_at, key))

    def _run(
        self,
        rules: Sequence[Rule],
        key: str,
        values: dict[str, Value],
        history: History,
        now: float,
        transitions: list[Transition],
    ) -> bool:
        """Run `rules` on one key; returns whether any of its alerts was stepped."""
        stepped = False
        for rule in rules:
            outcome = rule.expr.evaluate(values, history)
            condition = outcome is True
            active = self.alerts.get((rule.name, key))
            if active is not None and outcome is None:
                continue  # unknown (no data yet, e.g. after a restart): hold, do not clear
            if active is None:
                if not condition:
                    continue
                active = ActiveAlert(rule, key, Alert(), _labels(rule, values))
                self._add(active)
            stepped = True
            clear = rule.clear.is_true(values, history) if rule.clear is not None else not condition
            changed = active.alert.step(now, condition, clear, rule.timing)
            if changed is not None:
                if changed != AlertState.INACTIVE:  # (a pending alert that never fired is gone)
                    active.annotate_later(values)
                transitions.append(Transition(rule, key, changed, now, active.labels,
                                              active.alert.flapping))  # fmt: skip
            if active.alert.forgettable:
                self._drop(active)
        return stepped

    def _index(self) -> None:
        """Which rules have an alert for each titik or AP, and the alerts of each rule in the
        order they were raised (kept up to date by `_add` and `_drop`)."""
        self._alerting = {scope: {} for scope in SCOPES}
        self._by_rule = {}
        for (rule_name, key), active in self.alerts.items():
            if active.rule.scope in self._alerting:
                self._alerting[active.rule.scope].setdefault(key, set()).add(rule_name)
            self._by_rule.setdefault(rule_name, {})[key] = active

    def _add(self, active: ActiveAlert) -> None:
        name, key, scope = active.rule.name, active.key, active.rule.scope
        self.alerts[(name, key)] = active
        if scope in self._alerting:
            self._alerting[scope].setdefault(key, set()).add(name)
        self._by_rule.setdefault(name, {})[key] = active

    def _alerts_of(self, rule_names: Iterable[str]) -> Iterator[ActiveAlert]:
        """The alerts of these rules or groups, each one's in the order they were raised."""
        for name in rule_names:
            yield from self._by_rule.get(name, {}).values()

    def _drop(self, active: ActiveAlert) -> None:
        name, key, scope = active.rule.name, active.key, active.rule.scope
        del self.alerts[(name, key)]
        alerting = self._alerting.get(scope, {})
        if key in alerting:
            alerting[key].discard(name)
            if not alerting[key]:
                del alerting[key]
        del self._by_rule[name][key]

    def _inhibit(self) -> None:
        """Mark alerts held back by a firing source alert with the same `equal` labels:
        from everyone, or (`recipients`) only from some roles. The first inhibition that
        holds an alert back from everyone wins."""
        for active in self._held:  # as marked last cycle
            active.inhibited_by, active.held_from = None, {}
        held = []
        for inhibition in self.ruleset.inhibitions:
            label_values = _label_values(inhibition.equal)
            sources: dict[object, ActiveAlert] = {}
            for active in self._alerts_of((inhibition.source,)):
                if active.alert.state == AlertState.FIRING:
                    sources.setdefault(label_values(active.labels), active)
            if not sources:
                continue
            for active in self._alerts_of(inhibition.targets):
                if active.inhibited_by is not None:
                    continue
                source = sources.get(label_values(active.labels))
                if source is None:
                    continue
                held.append(active)
                if not inhibition.recipients:
                    active.inhibited_by = source.id
                for role in inhibition.recipients:
                    active.held_from.setdefault(role, source.id)
        self._held = held

    def _group(self, now: float, transitions: list[Transition]) -> None:
        """Storm control: a group fires when `min_count` of its source alerts with the same
        `by` labels started firing within its window, and names them all until fewer than
        `clear_below` are firing."""
        for active in self._grouped:  # as named last cycle
            active.grouped_into = []
        self._grouped = []
        for group in self.ruleset.groups:
            buckets: dict[tuple[str, ...], list[ActiveAlert]] = {}
            for active in self._alerts_of(sorted(group.sources)):
                if active.alert.state == AlertState.FIRING:
                    values = tuple(active.labels.get(name, "") for name in group.by)
                    buckets.setdefault(values, []).append(active)
            for active in self._alerts_of((group.name,)):
                buckets.setdefault(tuple(active.labels.get(n, "") for n in group.by), [])
            for values, members in buckets.items():
                self._step_group(group, values, members, now, transitions)

    def _step_group(
        self,
        group: GroupRule,
        values: tuple[str, ...],
        members: list[ActiveAlert],
        now: float,
        transitions: list[Transition],
    ) -> None:
        """Step one group alert."""
        key = ",".join(values)
        recent = sum(1 for m in members if (m.alert.fired_at or 0.0) > now - group.window_seconds)
        condition = recent >= group.min_count
        active = self.alerts.get((group.name, key))
        if active is None:
            if not condition:
                return
            active = ActiveAlert(group, key, Alert(), {})
            self._add(active)
        changed = active.alert.step(now, condition, len(members) < group.clear_below, group.timing)
        if active.alert.state == AlertState.FIRING:
            names = sorted(m.labels.get("hotspot", m.key) for m in members)
            if names != active.members or changed is not None:
                active.members = names
                active.labels = _group_labels(group, values, members)
                providers = _by_count(m.labels.get("provider", "") for m in members)
                active.annotations = group.annotate(active.labels, names, providers)
            for member in members:
                member.grouped_into.append(active.id)
            self._grouped.extend(members)
        if changed is not None:
            transitions.append(Transition(group, key, changed, now, active.labels,
                                          active.alert.flapping))  # fmt: skip
        if active.alert.forgettable:
            self._drop(active)

    def history(self, scope: str, key: str) -> History | None:
        """The recent past the rules keep of one titik or AP, if any."""
        seen = self._seen[scope].get(key)
        return seen.history if seen is not None else None

    def _forget_removed(self) -> None:
        """Titik and APs that left the inventory take their alerts and history with them."""
        alive: dict[str, set[str]] = {scope: set(self.source.keys(scope)) for scope in SCOPES}
        for gone in [k for k, a in self.alerts.items()
                     if a.rule.scope in alive and k[1] not in alive[a.rule.scope]]:  # fmt: skip
            del self.alerts[gone]
        for scope, seen in self._seen.items():
            for key in [k for k in seen if k not in alive[scope]]:
                del seen[key]
                self._steady[scope].pop(key, None)
        self._index()

    def snapshot(self) -> list[dict[str, Any]]:
        """Every alert with its timers and labels, for the store."""
        return [
            {
                "rule": rule,
                "key": key,
                "labels": active.labels,
                "annotations": active.annotations,
                "members": active.members,
                "told": active.told.to_dict(),
                **alert_to_dict(active.alert),
            }
            for (rule, key), active in self.alerts.items()
        ]

    def restore(self, records: list[dict[str, Any]]) -> int:
        """Alerts saved by an earlier run (for rules that still exist); returns how many."""
        rules: dict[str, Rule | GroupRule] = {rule.name: rule for rule in self.ruleset.rules}
        rules.update((group.name, group) for group in self.ruleset.groups)
        restored = 0
        for record in records:
            rule = rules.get(record.get("rule", ""))
            if rule is None or not isinstance(record.get("key"), str):
                continue
            try:
                alert = alert_from_dict(record)
            except (KeyError, ValueError, TypeError):
                continue
            key = record["key"]
            self.alerts[(rule.name, key)] = ActiveAlert(
                rule, key, alert, dict(record.get("labels", {})),
                dict(record.get("annotations", {})),
                [str(m) for m in record.get("members", [])])  # fmt: skip
            self.alerts[(rule.name, key)].told = Told.from_dict(record.get("told") or {})
            restored += 1
        self._index()
        return restored

    def active(self) -> Iterator[ActiveAlert]:
        """Pending and firing alerts (resolved ones are kept for their history only)."""
        for active in self.alerts.values():
            if active.alert.state in (AlertState.PENDING, AlertState.FIRING):
                yield active


def _data_at(now: float, age: Value) -> float | None:
    """When the data was new that is `age` (seconds_since_data) old at `now`."""
    return now - age if isinstance(age, float) else None


def _label_values(names: tuple[str, ...]) -> Callable[[dict[str, str]], object]:
    """The values of some labels of an alert, to compare (one label: just its value)."""
    if len(names) == 1:
        only = names[0]
        return lambda labels: labels.get(only)
    return lambda labels: tuple([labels.get(name) for name in names])


def _labels(rule: Rule, values: dict[str, Value]) -> dict[str, str]:
    labels = {"alertname": rule.name, "severity": rule.severity}
    for name in (*LABEL_NAMES, "ap"):
        value = values.get(name)
        if isinstance(value, str):
            labels[name] = value
    labels.update(rule.labels)
    return labels


def _group_labels(
    group: GroupRule, values: tuple[str, ...], members: list[ActiveAlert]
) -> dict[str, str]:
    """The group's own labels, the `by` values, and any place or provider all members share."""
    labels = {
        "alertname": group.name,
        "severity": group.severity,
        **dict(zip(group.by, values, strict=True)),
    }
    for name in ("kota", "kecamatan", "kelurahan", "provider"):
        shared = {m.labels.get(name) for m in members}
        if len(shared) == 1 and None not in shared and name not in labels:
            labels[name] = shared.pop()  # type: ignore[assignment]
    labels.update(group.labels)
    return labels


def _by_count(names: Iterable[str]) -> list[str]:
    """Distinct names, the most frequent first."""
    counts: dict[str, int] = {}
    for name in names:
        if name:
            counts[name] = counts.get(name, 0) + 1
    return sorted(counts, key=lambda n: (-counts[n], n))
