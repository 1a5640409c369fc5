"""A real Prometheus scrapes a running wifimon watching the simulated fleet; every recording
rule and every dashboard panel query must return data."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.test_daemon import free_tcp_port
from wifimon.demo.fleet import FLEET, community_of, write_fleet
from wifimon.demo.simulator import Simulator

ROOT = Path(__file__).resolve().parents[2]
PROM_DIR = ROOT / "deploy" / "prometheus"
RULE_FILES = sorted(PROM_DIR.glob("wifimon-*.rules.yml"))
DASHBOARDS = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))
# Real values from the simulated fleet for every dashboard variable.
VARIABLES = {
    "kota": "Jakarta Pusat",
    "kecamatan": "Johar Baru",
    "kelurahan": "Galur",
    "hotspot": "jp-glr-01",
    "provider": "JakWifi Mitra A",
    "__range": "5m",
    "__rate_interval": "15s",
    "__interval": "5s",
}
# Panels about portal sessions are checked on the demo's titik behind a hotspot portal.
PORTAL_VARIABLES = {**VARIABLES, "kota": "Jakarta Barat", "kecamatan": "Cengkareng",
                    "kelurahan": "Duri Kosambi", "hotspot": "jb-dks-02",
                    "provider": "JakWifi Mitra C"}  # fmt: skip
pytestmark = pytest.mark.skipif(
    shutil.which("prometheus") is None,
    reason="prometheus is not installed (deploy/test.sh installs it)",
)


def panel_queries() -> list[tuple[str, str, str]]:
    found = []
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for t in panel.get("targets", []):
                found.append((board["uid"], f"{panel['title']} [{t['refId']}]", t["expr"]))
    return found


def substitute(expr: str, variables: dict[str, str] = VARIABLES) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return variables[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)


class Prometheus:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url, self.process, self.log = url, process, log

    def query(self, expr: str) -> dict[str, Any]:
        params = urllib.parse.urlencode({"query": expr})
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/query?{params}", timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return json.loads(exc.read())

    def has(self, expr: str) -> bool:
        try:
            data = self.query(expr)
        except urllib.error.URLError:
            return False  # not listening yet
        return data.get("status") == "success" and bool(data["data"]["result"])


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    work = tmp_path_factory.mktemp("stack")
    simulator = Simulator(work / "recordings")
    speed_port, listen = free_tcp_port(), f"127.0.0.1:{free_tcp_port()}"
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wifimon.probes.speedtest_server",
                "--host",
                "127.0.0.1",
                "--port",
                str(speed_port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    config = write_fleet(
        work,
        simulator.port,
        listen,
        2.0,
        f"http://127.0.0.1:{speed_port}/download",
        throughput_interval=10,
    )
    loop = asyncio.new_event_loop()
    loop.run_until_complete(simulator.start(community_of(FLEET[0].aps[0])))
    processes.append(
        subprocess.Popen(
            [sys.executable, "-m", "wifimon.cli", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=(work / "wifimon.log").open("wb"),
        )
    )
    prom_port = free_tcp_port()
    (work / "prometheus.yml").write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(p) for p in RULE_FILES],
                "scrape_configs": [
                    {"job_name": "wifimon", "static_configs": [{"targets": [listen]}]}
                ],
            }
        )
    )
    log = work / "prometheus.log"
    processes.append(
        subprocess.Popen(
            [
                "prometheus",
                f"--config.file={work / 'prometheus.yml'}",
                f"--storage.tsdb.path={work / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
    )
    prom = Prometheus(f"http://127.0.0.1:{prom_port}", processes[-1], log)
    try:
        deadline = time.monotonic() + 90
        wanted = [
            'wifimon_probe_download_bits_per_second{hotspot="jp-glr-01"}',
            "wifimon_interface_receive_bits_per_second",
            "wifimon:hotspot_state",
            "wifimon_hotspot_saturated",
            'ALERTS{alertname="WifimonTitikMati"}',
            "wifimon:scheduler_lag_seconds:p99_5m >= 0",
        ]
        while time.monotonic() < deadline and not all(prom.has(w) for w in wanted):
            time.sleep(1)
        missing = [w for w in wanted if not prom.has(w)]
        assert not missing, (
            f"no data for {missing}; wifimon log:\n" + (work / "wifimon.log").read_text()[-2000:]
        )
        time.sleep(16)  # let [15s] rate windows fill
        yield prom
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        loop.run_until_complete(simulator.stop())
        loop.close()


@pytest.mark.parametrize(
    "uid,panel,expr", panel_queries(), ids=[f"{u}:{p}" for u, p, _ in panel_queries()]
)
def test_every_panel_query_returns_data(
    prometheus: Prometheus, uid: str, panel: str, expr: str
) -> None:
    query = substitute(expr, PORTAL_VARIABLES if "portal" in panel.lower() else VARIABLES)
    data = prometheus.query(query)
    assert data["status"] == "success", f"{query}: {data.get('error')}"
    assert data["data"]["result"], f"{uid} / {panel}: no data for {query}"


def recording_rules() -> list[str]:
    return [
        rule["record"]
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    ]


@pytest.mark.parametrize("record", recording_rules())
def test_every_recording_rule_returns_data(prometheus: Prometheus, record: str) -> None:
    assert prometheus.has(record), record


def test_map_states_match_the_fleet(prometheus: Prometheus) -> None:
    data = prometheus.query("wifimon:hotspot_state")["data"]["result"]
    states = {r["metric"]["hotspot"]: r["value"][1] for r in data}
    assert len(states) == len(FLEET)
    assert states["jt-crc-04"] == "4"  # the offline titik is down
    assert states["jt-cbu-02"] == "3"  # its link is paced to 48 Mbit/s: slow
    assert states["jp-glr-01"] in {"1", "2"}


def test_alerting_rules_fire_into_alerts(prometheus: Prometheus) -> None:
    data = prometheus.query('ALERTS{alertname="WifimonTitikMati"}')["data"]["result"]
    assert {r["metric"]["hotspot"] for r in data} == {"jt-crc-04"}
    assert data[0]["metric"]["alertstate"] in {"pending", "firing"}
