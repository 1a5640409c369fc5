"""Probe scheduling rules on real links: one per titik, a global cap, never while down."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.netsite import SPEEDTEST_PORT, site
from wifimon import config as config_module
from wifimon.measurements import ApSample
from wifimon.metrics import StateCollector
from wifimon.probes.runner import ProbeRunner
from wifimon.state import State, Status


def write_config(tmp: Path, sites: dict[str, str], max_concurrent: int = 4) -> Path:
    hotspots = [
        {
            "id": hotspot_id,
            "name": f"Titik {hotspot_id}",
            "kota": "Cilegon",
            "kecamatan": "Citangkil",
            "kelurahan": "Citangkil",
            "rw": "01",
            "latitude": -6.0,
            "longitude": 106.03,
            "provider": "ISP Lokal Citangkil",
            "probe": {"ping": address, "http_url": f"http://{address}:{SPEEDTEST_PORT}/download"},
            "access_points": [{"id": f"{hotspot_id}-a", "address": address, "credentials": "v2"}],
        }
        for hotspot_id, address in sites.items()
    ]
    (tmp / "inventory.yaml").write_text(yaml.safe_dump({"hotspots": hotspots}))
    (tmp / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "secrets": {"c": {"env": "C"}},
                "snmp_credentials": {"v2": {"version": "2c", "community": "c"}},
                "probes": {
                    "throughput": {
                        "max_concurrent": max_concurrent,
                        "streams": 2,
                        "warmup_seconds": 0.5,
                        "duration_seconds": 1.5,
                    }
                },
                "inventory": ["inventory.yaml"],
            }
        )
    )
    return tmp / "config.yaml"


def runner_for(path: Path) -> tuple[State, ProbeRunner]:
    cfg = config_module.load(path, environ={"C": "x"})
    state = State(cfg.inventory)
    return state, ProbeRunner(state, cfg)


def scrape(state: State) -> dict[tuple[str, str], float]:
    registry = CollectorRegistry()
    registry.register(StateCollector(state))
    result = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            result[(sample.name, sample.labels.get("kind", ""))] = sample.value
    return result


async def test_results_reach_state_and_metrics(tmp_path: Path) -> None:
    with site(21, rate_mbit=40) as s:
        s.start_speedtest_server()
        state, runner = runner_for(write_config(tmp_path, {"cg-ctk-01": s.address}))
        try:
            await runner.reachability("cg-ctk-01")
            await runner.throughput("cg-ctk-01")
        finally:
            runner.close()
    hstate = state.hotspot_states["cg-ctk-01"]
    assert hstate.reachability is not None and hstate.reachability.ok
    assert hstate.throughput is not None and hstate.throughput.ok
    assert state.hotspot_view("cg-ctk-01").below_sla is True
    m = scrape(state)
    assert m[("wifimon_probe_reachable", "icmp")] == 1
    assert m[("wifimon_probe_loss_ratio", "icmp")] == 0
    assert m[("wifimon_probe_download_bits_per_second", "http")] == pytest.approx(40e6, rel=0.1)
    assert m[("wifimon_probe_below_sla", "http")] == 1
    assert m[("wifimon_hotspot_sla_min_bits_per_second", "")] == 50e6
    assert m[("wifimon_probe_duration_seconds", "http")] > 1.5


async def test_one_probe_per_titik_at_a_time(tmp_path: Path) -> None:
    with site(22, rate_mbit=80) as s:
        s.start_speedtest_server()
        state, runner = runner_for(write_config(tmp_path, {"cg-ctk-02": s.address}))
        try:
            first, second = await asyncio.gather(
                runner.throughput("cg-ctk-02"), runner.throughput("cg-ctk-02")
            )
        finally:
            runner.close()
    assert first is not None and first.ok
    assert second is None
    skips = state.hotspot_states["cg-ctk-02"].probe_skips_total
    assert skips[("http", "already_running")] == 1


async def test_global_cap_runs_probes_one_after_another(tmp_path: Path) -> None:
    with site(23, rate_mbit=80) as a, site(24, rate_mbit=80) as b:
        a.start_speedtest_server()
        b.start_speedtest_server()
        path = write_config(tmp_path, {"t-a": a.address, "t-b": b.address}, max_concurrent=1)
        _, runner = runner_for(path)
        try:
            started = time.monotonic()
            results = await asyncio.gather(runner.throughput("t-a"), runner.throughput("t-b"))
            elapsed = time.monotonic() - started
        finally:
            runner.close()
    assert all(r is not None and r.ok for r in results)
    # each probe takes warm-up + duration = 2 s; serialised they need at least 4 s
    assert elapsed >= 4.0
    # and each kept its own link's rate: they did not share one
    assert all(r.download_bps == pytest.approx(80e6, rel=0.1) for r in results if r)


async def test_no_throughput_probe_while_the_titik_is_down(tmp_path: Path) -> None:
    state, runner = runner_for(write_config(tmp_path, {"t-down": "198.18.25.2"}))
    for _ in range(2):
        state.record(ApSample(ap_id="t-down-a", timestamp=time.time(), reachable=False))
    assert state.hotspot_view("t-down").status == Status.DOWN
    try:
        assert await runner.throughput("t-down") is None
    finally:
        runner.close()
    assert state.hotspot_states["t-down"].probe_skips_total[("http", "hotspot_down")] == 1
