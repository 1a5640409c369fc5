"""The state collector on a fresh registry: names, labels, unknowns left out."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.test_state import _sample, inventory
from wifimon.measurements import ApSample, ClientReading, PollIssue
from wifimon.metrics import SelfMetrics, StateCollector
from wifimon.state import State


def scrape(state: State) -> dict[str, list[tuple[dict[str, str], float]]]:
    registry = CollectorRegistry()
    registry.register(StateCollector(state))
    SelfMetrics(registry)
    families: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            families.setdefault(sample.name, []).append((sample.labels, sample.value))
    return families


async def test_polled_ap_exports_clients_rates_and_counters() -> None:
    state = State(inventory("ap1"))
    state.record(await _sample("mikrotik-t0.snmprec", 1000.0))
    state.record(await _sample("mikrotik-t1.snmprec", 1060.0))
    m = scrape(state)
    ((labels, value),) = m["wifimon_ap_clients"]
    assert value == 15
    assert labels == {
        "hotspot": "jp-glr-01",
        "kota": "Jakarta Pusat",
        "kecamatan": "Johar Baru",
        "kelurahan": "Galur",
        "rw": "01",
        "provider": "Mitra A",
        "ap": "ap1",
    }
    rx = {lab["interface"]: v for lab, v in m["wifimon_interface_receive_bits_per_second"]}
    assert rx == {"ether1": 1_000_000.0, "wlan1": 80_000.0}
    total = {lab["interface"]: v for lab, v in m["wifimon_interface_receive_bytes_total"]}
    assert total["ether1"] == 7_500_000
    ((_, utilisation),) = m["wifimon_hotspot_utilisation_ratio"]
    assert utilisation == 15 / 50
    assert m["wifimon_hotspot_sla_min_bits_per_second"][0][1] == 50e6
    assert m["wifimon_ap_reboots_total"][0][1] == 0


def test_unknown_clients_and_unpolled_aps_export_nothing_misleading() -> None:
    state = State(inventory("ap1", "ap2"))
    state.record(
        ApSample(ap_id="ap1", timestamp=1.0, reachable=True, clients=ClientReading(total=None))
    )
    m = scrape(state)
    assert "wifimon_ap_clients" not in m
    assert "wifimon_hotspot_clients" not in m
    assert {lab["ap"]: v for lab, v in m["wifimon_ap_up"]} == {"ap1": 1.0}  # ap2 unknown: absent
    info = m["wifimon_hotspot_info"][0][0]
    assert (info["name"], info["latitude"], info["longitude"]) == (
        "RPTRA Galur",
        "-6.180000",
        "106.850000",
    )


def test_errors_by_reason_are_counters() -> None:
    state = State(inventory("ap1"))
    for _ in range(3):
        state.record(
            ApSample(
                ap_id="ap1", timestamp=1.0, reachable=False, issues=[PollIssue("timeout", "x")]
            )
        )
    m = scrape(state)
    assert m["wifimon_ap_poll_errors_total"] == [
        (
            {
                "hotspot": "jp-glr-01",
                "kota": "Jakarta Pusat",
                "kecamatan": "Johar Baru",
                "kelurahan": "Galur",
                "rw": "01",
                "provider": "Mitra A",
                "ap": "ap1",
                "reason": "timeout",
            },
            3.0,
        )
    ]
    assert m["wifimon_ap_up"][0][1] == 0.0
