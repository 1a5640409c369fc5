"""Evaluates the rules over state: one alert lifecycle per (rule, titik or AP)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from wifimon.alerts.acks import Ack
from wifimon.alerts.context import History, ap_values, hotspot_values, observed_at
from wifimon.alerts.expr import Value
from wifimon.alerts.lifecycle import Alert, AlertState
from wifimon.alerts.rules import SCOPES, GroupRule, Rule, RuleSet
from wifimon.alerts.silences import Silence, silenced_by
from wifimon.alerts.store import alert_from_dict, alert_to_dict
from wifimon.alerts.told import Told
from wifimon.state import State

log = logging.getLogger(__name__)
LABEL_NAMES = ("hotspot", "kota", "kecamatan", "kelurahan", "rw", "provider")
CLOCK_NAMES = frozenset({"seconds_since_data"})  # change with time alone, not with new data


@dataclass(frozen=True)
class Transition:
    """An alert changing state, for logs, metrics and notifications."""

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
    annotations: dict[str, str] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)  # grouped alerts: the titik it names
    silenced_by: str | None = None  # id of the active silence matching it, if any
    inhibited_by: str | None = None  # the firing alert that holds this one back, if any
    held_from: dict[str, str] = field(default_factory=dict)  # recipient role -> inhibiting alert
    grouped_into: list[str] = field(default_factory=list)  # firing group alerts naming it
    told: Told = field(default_factory=Told)  # who has heard of it (dispatch)
    ack: Ack | None = None  # the acknowledgement of this firing episode, if any

    @property
    def id(self) -> str:
        """`TitikMati:jp-glr-01`, `GangguanKelurahan:Galur`: how people refer to it."""
        return alert_id(self.rule.name, self.key)


class Source(Protocol):
    """Where the engine reads titik and APs."""

    def entries(self, scope: str) -> Iterable[tuple[str, Hashable | None]]:
        """Every titik or AP of the scope with a signature that changes when its inputs do.

        None as a signature means "always read again".
        """
        ...

    def read(self, scope: str, key: str, now: float) -> tuple[dict[str, Value], dict[str, float]]:
        """The values of one titik or AP, and when each probe-fed value was measured."""
        ...

    def keys(self) -> set[str]:
        """Every titik and AP that exists now."""
        ...


SELF_KEY = "wifimon"  # the key of alerts about the daemon itself


class StateSource:
    """The daemon's state as a rule source; signatures count polls and probe results.

    `self_values` gives the values of the `daemon` scope (wifimon's own health), if any.
    """

    def __init__(
        self, state: State, self_values: Callable[[float], dict[str, Value]] | None = None
    ) -> None:
        self.state = state
        self.self_values = self_values

    def keys(self) -> set[str]:
        return set(self.state.hotspots) | set(self.state.aps) | {SELF_KEY}

    def entries(self, scope: str) -> Iterator[tuple[str, Hashable | None]]:
        aps, hstates = self.state.aps, self.state.hotspot_states
        if scope == "daemon":
            if self.self_values is not None:
                yield SELF_KEY, None
        elif scope == "hotspot":
            for hotspot_id, hotspot in self.state.hotspots.items():
                hstate = hstates.get(hotspot_id)
                polls = sum(aps[ap.id].updates for ap in hotspot.access_points if ap.id in aps)
                yield hotspot_id, (hotspot, hstate.updates if hstate else -1, polls)
        else:
            for ap_id, ap_state in aps.items():
                yield ap_id, (ap_state, self.state.hotspots.get(ap_state.hotspot_id),
                              ap_state.updates)  # fmt: skip

    def read(self, scope: str, key: str, now: float) -> tuple[dict[str, Value], dict[str, float]]:
        if scope == "daemon" and self.self_values is not None:
            return self.self_values(now), {}
        if scope == "hotspot":
            return hotspot_values(self.state, key, now), observed_at(self.state, key, now)
        return ap_values(self.state, self.state.aps[key], now), {}


@dataclass
class _Seen:
    """What the engine read from one titik or AP the last time its inputs changed."""

    signature: Hashable | None
    values: dict[str, Value]
    inputs: tuple[Value, ...]
    data_at: float | None  # when the last data arrived, to age seconds_since_data


@dataclass(frozen=True)
class _Plan:
    """The rules of one scope and the names they read, worked out once per rule set."""

    rules: tuple[Rule, ...]
    names: tuple[str, ...]
    readers: dict[str, frozenset[str]]  # name -> the rules (by name) that read it
    clock_rules: tuple[Rule, ...]  # rules that read a value that changes with time alone

    @classmethod
    def of(cls, rules: Sequence[Rule]) -> _Plan:
        reads = {r.name: r.expr.names | (r.clear.names if r.clear else frozenset()) for r in rules}
        names = tuple(sorted(set().union(*reads.values()))) if reads else ()
        readers = {n: frozenset(r for r, read in reads.items() if n in read) for n in names}
        clock = tuple(r for r in rules if CLOCK_NAMES & reads[r.name])
        return cls(tuple(rules), names, readers, clock)

    def affected(self, changed: set[str], alerting: set[str] | None) -> Sequence[Rule]:
        """Rules that read a changed name or the clock, or have an alert to advance."""
        if not changed and not alerting:
            return self.clock_rules
        wanted = set(alerting or ())
        for name in changed:
            wanted |= self.readers.get(name, frozenset())
        return [r for r in self.rules if r.name in wanted or r in self.clock_rules]


class RuleEngine:
    """Owns the alerts and the rules' history; `evaluate(now)` is one cycle."""

    def __init__(self, ruleset: RuleSet, source: State | Source, incremental: bool = True) -> None:
        self.source: Source = StateSource(source) if isinstance(source, State) else source
        self.incremental = incremental  # False: run every rule on everything (the reference)
        self.alerts: dict[tuple[str, str], ActiveAlert] = {}
        self.histories: dict[tuple[str, str], History] = {}
        self._seen: dict[tuple[str, str], _Seen] = {}
        self._use(ruleset)

    def _use(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self._plans = {
            scope: _Plan.of([r for r in ruleset.rules if r.scope == scope]) for scope in SCOPES
        }
        keep = max(ruleset.longest_window, 24 * ruleset.evaluation_interval)
        self._history_spec: dict[str, tuple[frozenset[str], frozenset[str], float]] = {
            scope: (ruleset.history_names(scope), ruleset.run_names(scope), keep)
            for scope in SCOPES
        }
        self.histories.clear()
        self._seen.clear()

    def replace_rules(self, ruleset: RuleSet) -> None:
        """New rules keep the alerts of rules that still exist (by name)."""
        names: dict[str, Rule | GroupRule] = {rule.name: rule for rule in ruleset.rules}
        names.update((group.name, group) for group in ruleset.groups)
        self.alerts = {k: ActiveAlert(names[k[0]], a.key, a.alert, a.labels, a.annotations,
                                      a.members, told=a.told)
                       for k, a in self.alerts.items() if k[0] in names}  # fmt: skip
        self._use(ruleset)

    def evaluate(self, now: float, silences: Sequence[Silence] = ()) -> list[Transition]:
        """One cycle: every rule whose inputs changed, that reads the clock, or that has an
        alert runs; the rest would give the answer they gave last time.
        """
        transitions: list[Transition] = []
        tracked: dict[str, set[str]] = {}
        for rule_name, key in self.alerts:
            tracked.setdefault(key, set()).add(rule_name)
        for scope, plan in self._plans.items():
            if not plan.rules:
                continue
            for key, signature in self.source.entries(scope):
                values, rules, history = self._prepare(plan, scope, key, signature, now, tracked)
                if rules:
                    self._run(rules, key, values, history, now, transitions)
        self._forget_removed(self.source.keys())
        self._group(now, transitions)
        for active in self.alerts.values():
            silence = silenced_by(list(silences), active.labels, now) if silences else None
            active.silenced_by = silence.id if silence else None
        self._inhibit()
        for t in transitions:
            log.info("alert alertname=%s state=%s %s=%s flapping=%s", t.rule.name, t.state.value,
                     t.rule.scope, t.key, t.flapping)  # fmt: skip
        return transitions

    def _prepare(
        self,
        plan: _Plan,
        scope: str,
        key: str,
        signature: Hashable | None,
        now: float,
        tracked: dict[str, set[str]],
    ) -> tuple[dict[str, Value], Sequence[Rule], History]:
        """Read the item again if its signature changed; pick the rules that must run."""
        history = self._history(scope, key)
        seen = self._seen.get((scope, key))
        unchanged = seen is not None and signature is not None and seen.signature == signature
        if not self.incremental:
            values, stamps = self.source.read(scope, key, now)
            if not unchanged:
                history.add(now, values, stamps)
                self._seen[(scope, key)] = _Seen(signature, {}, (), None)
            return values, plan.rules, history
        if unchanged:
            assert seen is not None
            if seen.data_at is not None:
                seen.values["seconds_since_data"] = max(0.0, now - seen.data_at)
            return seen.values, plan.affected(set(), tracked.get(key)), history
        values, stamps = self.source.read(scope, key, now)
        appended = history.add(now, values, stamps)
        inputs = tuple(values.get(name) for name in plan.names)
        age = values.get("seconds_since_data")
        data_at = now - age if isinstance(age, float) else None
        self._seen[(scope, key)] = _Seen(signature, values, inputs, data_at)
        if seen is None:
            return values, plan.rules, history
        changed = {n for n, a, b in zip(plan.names, inputs, seen.inputs, strict=True) if a != b}
        return values, plan.affected(changed | appended, tracked.get(key)), history

    def _run(
        self,
        rules: Sequence[Rule],
        key: str,
        values: dict[str, Value],
        history: History,
        now: float,
        transitions: list[Transition],
    ) -> None:
        for rule in rules:
            outcome = rule.expr.evaluate(values, history)
            condition = outcome is True
            active = self.alerts.get((rule.name, key))
            if active is not None and outcome is None:
                continue  # unknown (no data yet, e.g. after a restart): hold, do not clear
            if active is None:
                if not condition:
                    continue
                labels = _labels(rule, values)
                active = ActiveAlert(rule, key, Alert(), labels, rule.annotate(values, labels))
                self.alerts[(rule.name, key)] = active
            clear = rule.clear.is_true(values, history) if rule.clear is not None else not condition
            changed = active.alert.step(now, condition, clear, rule.timing)
            if changed is not None:
                active.annotations = rule.annotate(values, active.labels)
                transitions.append(Transition(rule, key, changed, now, active.labels,
                                              active.alert.flapping))  # fmt: skip
            if active.alert.forgettable:
                del self.alerts[(rule.name, key)]

    def _inhibit(self) -> None:
        """Mark alerts held back by a firing source alert with the same `equal` labels:
        from everyone, or (`recipients`) only from some roles."""
        sources: dict[tuple[str, tuple[str | None, ...]], ActiveAlert] = {}
        for inhibition in self.ruleset.inhibitions:
            for active in self.alerts.values():
                if (
                    active.rule.name == inhibition.source
                    and active.alert.state == AlertState.FIRING
                ):
                    values = tuple(active.labels.get(name) for name in inhibition.equal)
                    sources.setdefault((inhibition.source, values), active)
        for active in self.alerts.values():
            active.inhibited_by = None
            active.held_from = {}
            for inhibition in self.ruleset.inhibitions:
                if active.rule.name not in inhibition.targets:
                    continue
                values = tuple(active.labels.get(name) for name in inhibition.equal)
                source = sources.get((inhibition.source, values))
                if source is None:
                    continue
                if not inhibition.recipients:
                    active.inhibited_by = source.id
                    break
                for role in inhibition.recipients:
                    active.held_from.setdefault(role, source.id)

    def _group(self, now: float, transitions: list[Transition]) -> None:
        """Storm control: a group fires when `min_count` of its source alerts with the same
        `by` labels started firing within its window, and names them all until fewer than
        `clear_below` are firing."""
        for active in self.alerts.values():
            active.grouped_into = []
        for group in self.ruleset.groups:
            buckets: dict[tuple[str, ...], list[ActiveAlert]] = {}
            for active in self.alerts.values():
                if active.rule.name in group.sources and active.alert.state == AlertState.FIRING:
                    values = tuple(active.labels.get(name, "") for name in group.by)
                    buckets.setdefault(values, []).append(active)
            for (name, _), active in self.alerts.items():
                if name == group.name:
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
        key = ",".join(values)
        recent = sum(1 for m in members if (m.alert.fired_at or 0.0) > now - group.window_seconds)
        condition = recent >= group.min_count
        active = self.alerts.get((group.name, key))
        if active is None:
            if not condition:
                return
            active = self.alerts[(group.name, key)] = ActiveAlert(group, key, Alert(), {})
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
        if changed is not None:
            transitions.append(Transition(group, key, changed, now, active.labels,
                                          active.alert.flapping))  # fmt: skip
        if active.alert.forgettable:
            del self.alerts[(group.name, key)]

    def _history(self, scope: str, key: str) -> History:
        history = self.histories.get((scope, key))
        if history is None:
            names, runs, keep = self._history_spec[scope]
            history = self.histories[(scope, key)] = History(names, keep, runs)
        return history

    def _forget_removed(self, alive: set[str]) -> None:
        """Titik and APs that left the inventory take their alerts and history with them."""
        for key in [k for k, a in self.alerts.items()
                    if k[1] not in alive and a.rule.scope != "group"]:  # fmt: skip
            del self.alerts[key]
        for key in [k for k in self.histories if k[1] not in alive]:
            del self.histories[key]
        for key in [k for k in self._seen if k[1] not in alive]:
            del self._seen[key]

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
        return restored

    def active(self) -> Iterator[ActiveAlert]:
        """Pending and firing alerts (resolved ones are kept for their history only)."""
        for active in self.alerts.values():
            if active.alert.state in (AlertState.PENDING, AlertState.FIRING):
                yield active


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
