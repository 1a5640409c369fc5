"""Alert rules in YAML: what is wrong with a titik or an AP, checked strictly at load."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from wifimon.alerts.expr import ExprError, Expression, Value, compile_expression, parse_duration
from wifimon.alerts.lifecycle import DEFAULT_FLAP_THRESHOLD, Timing
from wifimon.alerts.routing import Routing, RoutingModel, compile_routing
from wifimon.alerts.templates import Template, check
from wifimon.errors import ConfigError
from wifimon.textfile import read_operator_text
from wifimon.yamlsource import SourceMap, load_yaml, validation_error

Scope = Literal["hotspot", "ap", "daemon"]
SCOPES: tuple[Scope, ...] = ("hotspot", "ap", "daemon")
Severity = Literal["critical", "warning", "info"]

# What a rule may read, per scope (the evaluation context provides exactly these).
HOTSPOT_NAMES = frozenset({
    "status", "up", "clients", "utilisation", "sla.min_mbps", "sla.capacity_users",
    "aps_total", "aps_down", "reboots", "auth_errors", "seconds_since_data",
    "download_mbps", "download_p10_mbps", "upload_mbps", "probe_ok", "probe_reason",
    "reachable", "loss_ratio", "rtt_avg_seconds", "rtt_max_seconds", "jitter_seconds",
    "uplink_mbps", "uplink_utilisation", "saturated",
    "hotspot", "kota", "kecamatan", "kelurahan", "rw", "provider",
})  # fmt: skip
AP_NAMES = frozenset({
    "status", "up", "clients", "uptime_seconds", "reboots", "auth_errors",
    "seconds_since_data", "cpu_percent", "memory_percent",
    "ap", "hotspot", "kota", "kecamatan", "kelurahan", "rw", "provider",
    "sla.min_mbps", "sla.capacity_users",
})  # fmt: skip
# wifimon itself: the worst poll start delay since the last cycle, time since a poll finished
DAEMON_NAMES = frozenset({"scheduler_lag_seconds", "seconds_since_last_poll"})
NAMES: dict[str, frozenset[str]] = {"hotspot": HOTSPOT_NAMES, "ap": AP_NAMES,
                                    "daemon": DAEMON_NAMES}  # fmt: skip
DURATION = r"^\d+(\.\d+)?[smhd]$"


ANNOTATION_FIELDS = ("summary", "description", "summary_en", "description_en")


class _Texts(BaseModel):
    """What an alert says (ANNOTATION_FIELDS): Jinja2 templates checked at load."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    summary: str = ""
    description: str = ""
    summary_en: str = ""  # English, for recipients who read English
    description_en: str = ""


class RuleModel(_Texts):
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    scope: Scope = "hotspot"
    expr: str = Field(min_length=1)
    clear: str | None = None
    for_: str = Field(default="0s", alias="for", pattern=DURATION)
    keep_firing_for: str = Field(default="0s", pattern=DURATION)
    flap_threshold: int = Field(default=DEFAULT_FLAP_THRESHOLD, ge=2, le=100)
    severity: Severity = "warning"
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _label_names(cls, labels: dict[str, str]) -> dict[str, str]:
        for name in labels:
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
                raise ValueError(f"label name {name!r} is not snake_case")
        return labels


class InhibitModel(BaseModel):
    """While a `source` alert fires, `target` alerts with the same `equal` labels are held
    (from every recipient, or only from the `recipients` roles listed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    target: list[str] = Field(min_length=1)
    equal: list[str] = Field(default_factory=lambda: ["hotspot"], min_length=1)
    recipients: list[Literal["rw_admin", "provider", "noc", "lurah", "camat"]] = Field(
        default_factory=list
    )


class GroupModel(_Texts):
    """Storm control: many firing `source` alerts sharing the `by` labels become one alert."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    source: list[str] = Field(min_length=1)
    by: list[Literal["kota", "kecamatan", "kelurahan", "provider"]] = Field(min_length=1)
    min_count: int = Field(ge=2, le=100_000)  # that many started firing within `window`
    window: str = Field(default="15m", pattern=DURATION)
    clear_below: int | None = Field(default=None, ge=1)  # resolved when fewer are firing
    severity: Severity = "critical"
    labels: dict[str, str] = Field(default_factory=dict)


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    evaluation_interval: str = Field(default="15s", pattern=DURATION)
    rules: list[RuleModel] = Field(default_factory=list)
    groups: list[GroupModel] = Field(default_factory=list)
    inhibit: list[InhibitModel] = Field(default_factory=list)
    routing: RoutingModel | None = None


@dataclass(frozen=True)
class Rule:
    """A checked rule: compiled expressions and timings."""

    name: str
    scope: Scope
    expr: Expression
    clear: Expression | None
    timing: Timing
    severity: Severity
    summary: str
    description: str
    labels: dict[str, str]
    annotations: dict[str, Template] = field(default_factory=dict, compare=False)

    def annotate(self, values: Mapping[str, Value], labels: Mapping[str, str]) -> dict[str, str]:
        """Summary and description for one alert, rendered from the rule's templates."""
        return {name: t.render(values, labels) for name, t in self.annotations.items()}

    def shows(self, name: str) -> bool:
        """Whether one of its templates reads `name` (`sla.min_mbps` as `sla`)."""
        head = name.partition(".")[0]
        return any(head in t.names for t in self.annotations.values())


@dataclass(frozen=True)
class GroupRule:
    """A checked group: which alerts it gathers, by what, and from how many it fires."""

    name: str
    sources: frozenset[str]
    by: tuple[str, ...]
    min_count: int
    window_seconds: float
    clear_below: int
    severity: Severity
    summary: str
    description: str
    labels: dict[str, str]
    annotations: dict[str, Template] = field(default_factory=dict, compare=False)
    scope: str = "group"
    timing: Timing = field(default_factory=Timing)

    def annotate(
        self, labels: Mapping[str, str], members: list[str], providers: list[str]
    ) -> dict[str, str]:
        """Summary and description naming the grouped titik and the likely provider."""
        extra = {"count": len(members), "members": members, "providers": providers}
        return {name: t.render({}, labels, **extra) for name, t in self.annotations.items()}


@dataclass(frozen=True)
class Inhibition:
    source: str
    targets: frozenset[str]
    equal: tuple[str, ...]
    recipients: frozenset[str] = frozenset()  # held back only from these; empty: from all


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    evaluation_interval: float
    path: Path | None = None
    inhibitions: tuple[Inhibition, ...] = ()
    groups: tuple[GroupRule, ...] = ()
    routing: Routing = field(default_factory=lambda: compile_routing(None))

    def expressions(self, scope: Scope) -> list[Expression]:
        """Every firing and clear expression of the rules of one scope."""
        return [e for r in self.rules if r.scope == scope for e in (r.expr, r.clear) if e]

    def history_names(self, scope: Scope) -> frozenset[str]:
        return frozenset().union(*(e.history_names for e in self.expressions(scope)))

    def run_names(self, scope: Scope) -> frozenset[str]:
        """History names read only by min/max/increase: a repeated value can be collapsed."""
        sampled = frozenset().union(*(e.sample_names for e in self.expressions(scope)))
        return self.history_names(scope) - sampled

    @property
    def longest_window(self) -> float:
        windows = [e.longest_window for r in self.rules for e in (r.expr, r.clear) if e]
        return max(windows, default=0.0)


def load_rules(path: Path) -> RuleSet:
    """Read and check a rules file; errors name the file, line, rule and position."""
    return parse_rules(read_operator_text(path), str(path), path)


def parse_rules(text: str, filename: str, path: Path | None = None) -> RuleSet:
    data, source = load_yaml(text, filename)
    try:
        model = RulesFile.model_validate(data or {})
    except ValidationError as exc:
        raise validation_error(exc, source) from exc
    rules, seen = [], set()
    for index, rule in enumerate(model.rules):
        if rule.name in seen:
            where = source.where(("rules", index, "name"))
            raise ConfigError(f"{where}: rules[{index}].name: rule {rule.name!r} appears twice")
        seen.add(rule.name)
        rules.append(_compile(rule, index, source))
    interval = parse_duration(model.evaluation_interval)
    groups = []
    for index, group in enumerate(model.groups):
        where = source.where(("groups", index))
        if group.name in seen:
            raise ConfigError(f"{where}: groups[{index}].name: {group.name!r} is already a name")
        for name in group.source:
            if name not in {r.name for r in rules}:
                raise ConfigError(f"{where}: groups[{index}].source: unknown rule {name!r}")
        groups.append(_compile_group(group, index, source))
        seen.add(group.name)
    inhibitions = []
    for index, inhibit in enumerate(model.inhibit):
        for name in (inhibit.source, *inhibit.target):
            if name not in seen:
                where = source.where(("inhibit", index))
                raise ConfigError(f"{where}: inhibit[{index}]: unknown rule {name!r}")
        targets, equal = frozenset(inhibit.target), tuple(inhibit.equal)
        held_from = frozenset(inhibit.recipients)
        inhibitions.append(Inhibition(inhibit.source, targets, equal, held_from))
    routing = compile_routing(model.routing)
    return RuleSet(tuple(rules), interval, path, tuple(inhibitions), tuple(groups), routing)


def _compile_group(group: GroupModel, index: int, source: SourceMap) -> GroupRule:
    annotations = _annotations(group, ("groups", index), f"group {group.name}", source, (),
                               grouped=True)  # fmt: skip
    return GroupRule(
        name=group.name,
        sources=frozenset(group.source),
        by=tuple(group.by),
        min_count=group.min_count,
        window_seconds=parse_duration(group.window),
        clear_below=group.clear_below or group.min_count,
        severity=group.severity,
        summary=group.summary,
        description=group.description,
        labels=dict(group.labels),
        annotations=annotations,
    )


def _compile(rule: RuleModel, index: int, source: SourceMap) -> Rule:
    names = NAMES[rule.scope]

    def compiled(field: str, text: str) -> Expression:
        try:
            return compile_expression(text, names)
        except ExprError as exc:
            where = source.where(("rules", index, field))
            raise ConfigError(f"{where}: rule {rule.name}: {field}: {exc}") from exc

    annotations = _annotations(rule, ("rules", index), f"rule {rule.name}", source, names)
    return Rule(
        name=rule.name,
        scope=rule.scope,
        expr=compiled("expr", rule.expr),
        clear=compiled("clear", rule.clear) if rule.clear else None,
        timing=Timing(
            parse_duration(rule.for_) if rule.for_ != "0s" else 0.0,
            parse_duration(rule.keep_firing_for) if rule.keep_firing_for != "0s" else 0.0,
            rule.flap_threshold,
        ),
        severity=rule.severity,
        summary=rule.summary,
        description=rule.description,
        labels=dict(rule.labels),
        annotations=annotations,
    )


def _annotations(
    model: RuleModel | GroupModel,
    path: tuple[str, int],
    what: str,
    source: SourceMap,
    names: Iterable[str],
    grouped: bool = False,
) -> dict[str, Template]:
    """Summary and description templates, checked; errors name the line and the rule."""
    annotations = {}
    for field_name in ANNOTATION_FIELDS:
        text = getattr(model, field_name)
        if text:
            try:
                annotations[field_name] = check(text, names, grouped, labels=model.labels)
            except ValueError as exc:
                where = source.where((*path, field_name))
                raise ConfigError(f"{where}: {what}: {field_name}: {exc}") from exc
    return annotations
