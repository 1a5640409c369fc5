"""The fast exposition renders exactly what prometheus_client renders for the same families."""

from __future__ import annotations

import math

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.test_metrics import _sample
from tests.test_state import inventory
from wifimon.exposition import Family, render
from wifimon.metrics import StateCollector
from wifimon.probes.results import ProbeResult
from wifimon.state import State


def parsed(text: str) -> dict[str, tuple[str, frozenset]]:
    result = {}
    for family in text_string_to_metric_families(text):
        samples = frozenset(
            (s.name, frozenset(s.labels.items()), "NaN" if math.isnan(s.value) else s.value)
            for s in family.samples
        )
        result[family.name] = (family.type, samples)
    return result


class _Families:
    def __init__(self, families: list[Family]) -> None:
        self.families = families

    def collect(self):  # type: ignore[no-untyped-def]
        for family in self.families:
            yield family.to_metric()


def reference(families: list[Family]) -> str:
    registry = CollectorRegistry()
    registry.register(_Families(families))
    return generate_latest(registry).decode()


def test_awkward_labels_and_values() -> None:
    base = ["hotspot", "kota", "kecamatan", "kelurahan", "rw", "provider"]
    families = [
        Family("wifimon_x", "help with \\ and\nnewline", [*base, "extra"], base=6),
        Family("wifimon_y", "counter", base, "counter", base=6),
        Family("wifimon_z", "no labels", []),
    ]
    tricky = ['jp-"glr"-01', "Jakarta\\Pusat", "Johar\nBaru", "Galur", "01", "Mitra ü"]
    for value in (0.0, -1.5, 1e-9, 5e7, 1795385672.649415, math.inf, -math.inf, math.nan, 3):
        families[0].add_metric([*tricky, f"v{value}"], value)
    families[1].add_metric(tricky, 42)
    families[1].add_metric(["b", "c", "d", "e", "f", "g"], 0)
    families[2].add_metric([], 7)
    assert parsed(render(families)) == parsed(reference(families))


async def test_a_polled_state_renders_the_same_both_ways() -> None:
    state = State(inventory("ap1", "ap2"))
    for at in (1000.0, 1060.0):
        state.record(
            await _sample("mikrotik-t0.snmprec" if at == 1000.0 else "mikrotik-t1.snmprec", at)
        )
    state.record_probe(
        "jp-glr-01",
        ProbeResult("http", "u", True, 5.0, download_bps=4e7, download_p10_bps=3.9e7, bytes=10),
    )
    state.record_probe(
        "jp-glr-01", ProbeResult("icmp", "t", False, 6.0, sent=3, loss_ratio=1.0, reason="timeout")
    )
    families = list(StateCollector(state).families())
    fast, slow = parsed(render(families)), parsed(reference(families))
    assert fast == slow
    assert len(fast) > 30
