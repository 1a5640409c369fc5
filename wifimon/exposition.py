"""Metric families built from state, rendered either by prometheus_client or by a fast path.

prometheus_client's exposition validates and escapes every label of every sample; for
20,000 access points (about 500,000 samples) that took 4.3 s per scrape in
benchmarks/scale.py, against a 1 s target. The fast path renders the same families with the
leading label block (titik or AP identity, shared by all of its series) rendered once per
scrape. prometheus_client stays the reference: tests parse both outputs and require them to
be equal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric


class Family:
    """One metric family: name, type, help, label names and rows of (label values, value).

    The first `base` labels identify the titik or AP; rows sharing them render them once.
    """

    __slots__ = ("base", "help", "kind", "labels", "name", "rows")

    def __init__(
        self, name: str, help: str, labels: Sequence[str], kind: str = "gauge", base: int = 0
    ) -> None:
        self.name, self.help, self.kind = name, help, kind
        self.labels = tuple(labels)
        self.base = base
        self.rows: list[tuple[Sequence[str], float]] = []

    def add_metric(self, values: Sequence[str], value: float) -> None:
        self.rows.append((values, value))

    @property
    def sample_name(self) -> str:
        return f"{self.name}_total" if self.kind == "counter" else self.name

    def to_metric(self) -> Metric:
        """The same family as a prometheus_client object (the reference rendering)."""
        cls = CounterMetricFamily if self.kind == "counter" else GaugeMetricFamily
        metric = cls(self.name, self.help, labels=list(self.labels))
        for values, value in self.rows:
            metric.add_metric(list(values), value)
        return metric


def _escape_value(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return value


_SPECIAL = {math.inf: "+Inf", -math.inf: "-Inf"}


def _number(value: float) -> str:
    """Sample value text: repr() for finite numbers (any float form parses), NaN and Inf."""
    if value != value:
        return "NaN"
    return _SPECIAL.get(value) or repr(value)


def render(families: Iterable[Family]) -> str:
    """Prometheus text format 0.0.4 for the families (rows without labels allowed)."""
    out: list[str] = []
    append = out.append
    # The leading label block of an AP (7 labels) or titik (6), rendered once per scrape;
    # the tuple length tells which label names it belongs to.
    blocks: dict[tuple[str, ...], str] = {}
    for family in families:
        name = family.sample_name
        help_text = family.help.replace("\\", "\\\\").replace("\n", "\\n")
        append(f"# HELP {name} {help_text}\n# TYPE {name} {family.kind}\n")
        names, base = family.labels, family.base
        base_names, tail_names = names[:base], names[base:]
        for values, value in family.rows:
            if not names:
                append(f"{name} {_number(value)}\n")
                continue
            parts = []
            if base:
                head = tuple(values[:base])
                block = blocks.get(head)
                if block is None:
                    block = blocks[head] = _labels(base_names, head)
                parts.append(block)
            if tail_names:
                parts.append(_labels(tail_names, values[base:]))
            append(f"{name}{{{','.join(parts)}}} {_number(value)}\n")
    return "".join(out)


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    return ",".join(f'{n}="{_escape_value(v)}"' for n, v in zip(names, values, strict=True))
