"""Evaluates the rules over state: one alert lifecycle per (rule, titik or AP)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from wifimon.alerts.context import History, ap_values, hotspot_values, observed_at
from wifimon.alerts.expr import Value
from wifimon.alerts.lifecycle import Alert, AlertState
from wifimon.alerts.rules import Rule, RuleSet
from wifimon.alerts.silences import Silence, silenced_by
from wifimon.alerts.store import alert_from_dict, alert_to_dict
from wifimon.state import State

log = logging.getLogger(__name__)
LABEL_NAMES = ("hotspot", "kota", "kecamatan", "kelurahan", "rw", "provider")


@dataclass(frozen=True)
class Transition:
    """An alert changing state, for logs, metrics and (later) notifications."""

    rule: Rule
    key: str
    state: AlertState
    at: float
    labels: dict[str, str]
    flapping: bool


@dataclass
class ActiveAlert:
    rule: Rule
    key: str
    alert: Alert
    labels: dict[str, str]
    silenced_by: str | None = None  # id of the active silence matching it, if any
    inhibited_by: str | None = None  # the firing alert that holds this one back, if any


Item = tuple[str, dict[str, Value], dict[str, float]]


class Source(Protocol):
    """Where the engine reads titik and APs: (key, values, when each value was measured)."""

    def items(self, scope: str, now: float) -> Iterable[Item]: ...

    def keys(self) -> set[str]:
        """Every titik and AP that exists now."""
        ...


class StateSource:
    """The daemon's state as a rule source."""

    def __init__(self, state: State) -> None:
        self.state = state

    def keys(self) -> set[str]:
        return set(self.state.hotspots) | set(self.state.aps)

    def items(self, scope: str, now: float) -> Iterator[Item]:
        if scope == "hotspot":
            for hotspot_id in self.state.hotspots:
                yield (hotspot_id, hotspot_values(self.state, hotspot_id, now),
                       observed_at(self.state, hotspot_id, now))  # fmt: skip
        else:
            for ap_id, ap_state in self.state.aps.items():
                yield ap_id, ap_values(self.state, ap_state, now), {}


class RuleEngine:
    """Owns the alerts and the rules' history; `evaluate(now)` is one cycle."""

    def __init__(self, ruleset: RuleSet, source: State | Source) -> None:
        self.source: Source = StateSource(source) if isinstance(source, State) else source
        self.ruleset = ruleset
        self.alerts: dict[tuple[str, str], ActiveAlert] = {}
        self.histories: dict[tuple[str, str], History] = {}

    def replace_rules(self, ruleset: RuleSet) -> None:
        """New rules keep the alerts of rules that still exist (by name)."""
        names = {rule.name: rule for rule in ruleset.rules}
        self.alerts = {k: ActiveAlert(names[k[0]], a.key, a.alert, a.labels)
                       for k, a in self.alerts.items() if k[0] in names}  # fmt: skip
        self.ruleset = ruleset
        self.histories.clear()

    def evaluate(self, now: float, silences: Sequence[Silence] = ()) -> list[Transition]:
        """Run every rule on every titik and AP once; mark alerts under an active silence."""
        transitions: list[Transition] = []
        hotspot_rules = [r for r in self.ruleset.rules if r.scope == "hotspot"]
        ap_rules = [r for r in self.ruleset.rules if r.scope == "ap"]
        for scope, rules in (("hotspot", hotspot_rules), ("ap", ap_rules)):
            if rules:
                for key, values, stamps in self.source.items(scope, now):
                    self._run(rules, scope, key, values, stamps, now, transitions)
        self._forget_removed(self.source.keys())
        for active in self.alerts.values():
            silence = silenced_by(list(silences), active.labels, now) if silences else None
            active.silenced_by = silence.id if silence else None
        self._inhibit()
        for t in transitions:
            log.info("alert alertname=%s state=%s %s=%s flapping=%s", t.rule.name, t.state.value,
                     t.rule.scope, t.key, t.flapping)  # fmt: skip
        return transitions

    def _run(
        self,
        rules: list[Rule],
        scope: str,
        key: str,
        values: dict[str, Value],
        stamps: dict[str, float],
        now: float,
        transitions: list[Transition],
    ) -> None:
        history = self._history(scope, key)
        history.add(now, values, stamps)
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
                self.alerts[(rule.name, key)] = active
            clear = rule.clear.is_true(values, history) if rule.clear is not None else not condition
            changed = active.alert.step(now, condition, clear, rule.timing)
            if changed is not None:
                transitions.append(Transition(rule, key, changed, now, active.labels,
                                              active.alert.flapping))  # fmt: skip
            if active.alert.state == AlertState.INACTIVE:
                del self.alerts[(rule.name, key)]

    def _inhibit(self) -> None:
        """Mark alerts held back by a firing source alert with the same `equal` labels."""
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
            for inhibition in self.ruleset.inhibitions:
                if active.rule.name not in inhibition.targets:
                    continue
                values = tuple(active.labels.get(name) for name in inhibition.equal)
                source = sources.get((inhibition.source, values))
                if source is not None:
                    active.inhibited_by = f"{source.rule.name}({source.key})"
                    break

    def _history(self, scope: str, key: str) -> History:
        history = self.histories.get((scope, key))
        if history is None:
            names = self.ruleset.history_names(scope)  # type: ignore[arg-type]
            keep = max(self.ruleset.longest_window, 24 * self.ruleset.evaluation_interval)
            history = self.histories[(scope, key)] = History(names, keep)
        return history

    def _forget_removed(self, alive: set[str]) -> None:
        """Titik and APs that left the inventory take their alerts and history with them."""
        for key in [k for k in self.alerts if k[1] not in alive]:
            del self.alerts[key]
        for key in [k for k in self.histories if k[1] not in alive]:
            del self.histories[key]

    def snapshot(self) -> list[dict[str, Any]]:
        """Every alert with its timers and labels, for the store."""
        return [
            {"rule": rule, "key": key, "labels": active.labels, **alert_to_dict(active.alert)}
            for (rule, key), active in self.alerts.items()
        ]

    def restore(self, records: list[dict[str, Any]]) -> int:
        """Alerts saved by an earlier run (for rules that still exist); returns how many."""
        rules = {rule.name: rule for rule in self.ruleset.rules}
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
                rule, key, alert, dict(record.get("labels", {}))
            )
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
