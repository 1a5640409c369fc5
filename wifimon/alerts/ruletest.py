"""`wifimon rules test`: timelines of values per titik/AP and the alerts expected over time.

    rule_files: [rules.yaml]
    evaluation_interval: 1m
    tests:
      - name: titik mati lima menit
        series:
          - {hotspot: jp-glr-01, name: status, values: "up down*7"}
        alerts:
          - {at: 4m, pending: [{alertname: TitikMati, hotspot: jp-glr-01}], firing: []}
          - {at: 6m, firing: [{alertname: TitikMati, hotspot: jp-glr-01}]}

Values are one per interval: numbers, true/false, `_` for unknown, other words as text;
`v*N` repeats. Each value counts as a new measurement at its step. Names not given take
defaults (sla.min_mbps 50, sla.capacity_users 50).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from wifimon.alerts.engine import RuleEngine
from wifimon.alerts.expr import Value, parse_duration
from wifimon.alerts.lifecycle import AlertState
from wifimon.alerts.rules import NAMES, RuleSet, load_rules
from wifimon.alerts.source import Reader, reader_from_rows
from wifimon.textfile import read_operator_text
from wifimon.yamlsource import load_yaml, validation_error

DEFAULTS: dict[str, Value] = {
    "sla.min_mbps": 50.0, "sla.capacity_users": 50.0,
    # where the titik is, unless a test's series say otherwise (templates and labels read these)
    "kota": "-", "kecamatan": "-", "kelurahan": "-", "rw": "-", "provider": "-",
}  # fmt: skip
DURATION = r"^\d+(\.\d+)?[smhd]$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeriesModel(_Strict):
    hotspot: str | None = None
    ap: str | None = None
    name: str
    values: str

    @model_validator(mode="after")
    def _one_target(self) -> SeriesModel:
        if self.hotspot is None and self.ap is None:
            raise ValueError("give hotspot, ap, or both (an AP of that hotspot)")
        return self


class ExpectedAlert(_Strict):
    alertname: str
    hotspot: str | None = None
    ap: str | None = None
    summary: str | None = None  # the rendered summary, when the test checks the wording


class Expectation(_Strict):
    at: str = Field(pattern=DURATION)
    firing: list[ExpectedAlert] | None = None
    pending: list[ExpectedAlert] | None = None


class CaseModel(_Strict):
    name: str
    series: list[SeriesModel]
    alerts: list[Expectation]


class TestFile(_Strict):
    rule_files: list[str] = Field(min_length=1)
    evaluation_interval: str = Field(default="1m", pattern=DURATION)
    tests: list[CaseModel] = Field(min_length=1)


def expand(text: str) -> list[Value]:
    """`40 42*2 _ down true` -> [40.0, 42.0, 42.0, None, 'down', True]."""
    result: list[Value] = []
    for token in text.split():
        match = re.fullmatch(r"(.+?)\*(\d+)", token)
        word, times = (match.group(1), int(match.group(2))) if match else (token, 1)
        result.extend([_value(word)] * times)
    return result


def _value(word: str) -> Value:
    if word == "_":
        return None
    if word in ("true", "false"):
        return word == "true"
    try:
        return float(word)
    except ValueError:
        return word


@dataclass
class Timeline:
    """A rule source playing back the test's series, one step per evaluation."""

    step: float
    hotspots: dict[str, dict[str, list[Value]]] = field(default_factory=dict)
    aps: dict[str, dict[str, list[Value]]] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)

    def changed(self, scope: str) -> None:
        """Every series is read again at every step (a test has few)."""
        return None

    def moved_by(self, scope: str) -> dict[str, int]:
        return {}  # any data may move any name

    def reader(self, scope: str, names: Sequence[str]) -> Reader:
        return reader_from_rows(self, scope, names)

    def stamps(self, scope: str, key: str, now: float) -> dict[str, float]:
        return self._values(scope, key, now)[1]

    def keys(self, scope: str) -> Collection[str]:
        return self.hotspots if scope == "hotspot" else self.aps if scope == "ap" else ()

    def columns(self, scope: str) -> tuple[str, ...]:
        return tuple(sorted(NAMES[scope]))

    def row(self, scope: str, key: str, now: float) -> tuple[tuple[Value, ...], dict[str, float]]:
        values, stamps = self._values(scope, key, now)
        return tuple(values.get(name) for name in self.columns(scope)), stamps

    def _values(
        self, scope: str, key: str, now: float
    ) -> tuple[dict[str, Value], dict[str, float]]:
        index = round(now / self.step)
        series = (self.hotspots if scope == "hotspot" else self.aps)[key]
        values: dict[str, Value] = dict(DEFAULTS)
        values["hotspot" if scope == "hotspot" else "ap"] = key
        if scope == "ap" and key in self.parent:
            values["hotspot"] = self.parent[key]
        for name, points in series.items():
            values[name] = points[min(index, len(points) - 1)] if points else None
        return values, dict.fromkeys(series, now)


@dataclass
class Outcome:
    name: str
    failures: list[str]


def run_file(path: Path) -> list[Outcome]:
    """Run every test case of a rule test file."""
    data, source = load_yaml(read_operator_text(path), str(path))
    try:
        model = TestFile.model_validate(data or {})
    except ValidationError as exc:
        raise validation_error(exc, source) from exc
    base = path.resolve().parent  # relative to the file itself (config/ holds links)
    rules = [load_rules(base / name) for name in model.rule_files]
    ruleset = RuleSet(tuple(r for rs in rules for r in rs.rules),
                      parse_duration(model.evaluation_interval))  # fmt: skip
    return [run_case(case, ruleset) for case in model.tests]


def run_case(case: CaseModel, ruleset: RuleSet) -> Outcome:
    step = ruleset.evaluation_interval
    timeline = Timeline(step)
    for series in case.series:
        table = timeline.aps if series.ap else timeline.hotspots
        key = series.ap or series.hotspot
        if series.ap and series.hotspot:
            timeline.parent[series.ap] = series.hotspot
        assert key is not None
        table.setdefault(key, {})[series.name] = expand(series.values)
    engine = RuleEngine(ruleset, timeline)
    checks = sorted((parse_duration(e.at) if e.at != "0s" else 0.0, e) for e in case.alerts)
    failures: list[str] = []
    last = max(at for at, _ in checks)
    checks_by_step = {round(at / step): e for at, e in checks}
    for index in range(round(last / step) + 1):
        engine.evaluate(index * step)
        expectation = checks_by_step.get(index)
        if expectation is not None:
            failures.extend(_compare(engine, expectation))
    return Outcome(case.name, failures)


def _compare(engine: RuleEngine, expectation: Expectation) -> list[str]:
    problems = []
    for state, wanted in ((AlertState.FIRING, expectation.firing),
                          (AlertState.PENDING, expectation.pending)):  # fmt: skip
        if wanted is None:
            continue
        got = sorted((a.rule.name, a.key) for a in engine.active() if a.alert.state == state)
        want = sorted((e.alertname, e.hotspot or e.ap or "") for e in wanted)
        if got != want:
            problems.append(f"at {expectation.at}: {state.value} expected {_show(want)}, "
                            f"got {_show(got)}")  # fmt: skip
            continue
        for expected in wanted:
            active = engine.alerts[(expected.alertname, expected.hotspot or expected.ap or "")]
            summary = active.annotations.get("summary", "")
            if expected.summary is not None and summary != expected.summary:
                problems.append(f"at {expectation.at}: {expected.alertname} summary expected "
                                f"{expected.summary!r}, got {summary!r}")  # fmt: skip
    return problems


def _show(alerts: list[tuple[str, str]]) -> str:
    return "[" + ", ".join(f"{name}({key})" for name, key in alerts) + "]"
