"""Jakarta-sized fleets on one machine: wifimon against prometheus-snmp-exporter.

Builds a fleet of N logical access points served by a few net-snmp `snmpd` processes on
loopback, runs `wifimon run` polling all of them every --interval seconds, measures a
steady-state window, then drives prometheus-snmp-exporter at the same rate on the same agents
and OIDs (the `generic` profile: system group and IF-MIB columns). One line per fleet size:

aps=N polls_per_s=X cpu_per_poll_ms=X ratio_vs_snmp_exporter=X lag_p99_s=X rss_mb=X
metrics_scrape_s=X (plus missed_polls, metrics_render_s, cpu_cores, exporter_cpu_per_scrape_ms)

Needs snmpd and prometheus-snmp-exporter (Debian packages). Sends traffic to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

IF_COLUMNS = {
    "ifDescr": ("1.3.6.1.2.1.2.2.1.2", "DisplayString"),
    "ifSpeed": ("1.3.6.1.2.1.2.2.1.5", "gauge"),
    "ifOperStatus": ("1.3.6.1.2.1.2.2.1.8", "gauge"),
    "ifInOctets": ("1.3.6.1.2.1.2.2.1.10", "counter"),
    "ifOutOctets": ("1.3.6.1.2.1.2.2.1.16", "counter"),
    "ifName": ("1.3.6.1.2.1.31.1.1.1.1", "DisplayString"),
    "ifHCInOctets": ("1.3.6.1.2.1.31.1.1.1.6", "counter"),
    "ifHCOutOctets": ("1.3.6.1.2.1.31.1.1.1.10", "counter"),
    "ifHighSpeed": ("1.3.6.1.2.1.31.1.1.1.15", "gauge"),
    "hrProcessorLoad": ("1.3.6.1.2.1.25.3.3.1.2", "gauge"),
}
SYSTEM = {
    "sysDescr": "1.3.6.1.2.1.1.1.0",
    "sysObjectID": "1.3.6.1.2.1.1.2.0",
    "sysUpTime": "1.3.6.1.2.1.1.3.0",
    "sysName": "1.3.6.1.2.1.1.5.0",
}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_agents(work: Path, count: int) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    processes, ports = [], []
    for index in range(count):
        port = free_port(socket.SOCK_DGRAM)
        conf = work / f"snmpd-{index}.conf"
        conf.write_text(f"agentAddress udp:127.0.0.1:{port}\nrocommunity public 127.0.0.1\n")
        processes.append(
            subprocess.Popen(
                [
                    "snmpd",
                    "-f",
                    "-Lf",
                    "/dev/null",
                    "-C",
                    "-c",
                    str(conf),
                    "-p",
                    str(work / f"snmpd-{index}.pid"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        ports.append(port)
    time.sleep(1.5)
    return processes, ports


def write_wifimon_config(
    work: Path, aps: int, ports: list[int], interval: float, listen: str, refresh: float = 0.0
) -> Path:
    hotspots = []
    for h in range((aps + 1) // 2):
        members = [i for i in (2 * h, 2 * h + 1) if i < aps]
        hotspots.append(
            {
                "id": f"titik-{h:05d}",
                "name": f"Titik {h}",
                "kota": "Jakarta Timur",
                "kecamatan": f"Kecamatan {h % 10}",
                "kelurahan": f"Kelurahan {h % 65}",
                "rw": f"{h % 20:02d}",
                "latitude": -6.2,
                "longitude": 106.85,
                "provider": f"Mitra {h % 5}",
                "access_points": [
                    {
                        "id": f"ap-{i:05d}",
                        "address": f"127.0.0.1:{ports[i % len(ports)]}",
                        "credentials": "v2",
                        "profile": "generic",
                    }
                    for i in members
                ],
            }
        )
    (work / "inventory.yaml").write_text(yaml.safe_dump({"hotspots": hotspots}))
    (work / "community").write_text("public\n")
    config = {
        "daemon": {"listen": listen, "metrics_refresh_seconds": refresh},
        "polling": {
            "interval_seconds": interval,
            "timeout_seconds": 2,
            "retries": 1,
            "concurrency": 512,
        },
        "probes": {"icmp": {"enabled": False}, "throughput": {"enabled": False}},
        "secrets": {"community": {"file": "community"}},
        "snmp_credentials": {"v2": {"version": "2c", "community": "community"}},
        "inventory": ["inventory.yaml"],
    }
    path = work / "wifimon.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def scrape(url: str) -> tuple[dict[str, list[tuple[dict[str, str], float]]], float]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        body = response.read().decode()
    elapsed = time.perf_counter() - started
    families: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            families.setdefault(sample.name, []).append((sample.labels, sample.value))
    return families, elapsed


def total(
    families: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str
) -> float:
    return sum(v for lab, v in families.get(name, []) if labels.items() <= lab.items())


def lag_p99(before: dict, after: dict) -> float:
    """p99 of scheduler lag within the window, from histogram bucket deltas."""

    def buckets(families: dict) -> dict[float, float]:
        return {
            float(lab["le"]): v
            for lab, v in families.get("wifimon_scheduler_lag_seconds_bucket", [])
        }

    b, a = buckets(before), buckets(after)
    deltas = sorted((le, a[le] - b.get(le, 0.0)) for le in a)
    count = deltas[-1][1] if deltas else 0
    for le, cumulative in deltas:
        if cumulative >= 0.99 * count:
            return le
    return float("inf")


@dataclass
class WifimonRun:
    polls: float
    cpu: float
    window: float
    lag_p99: float
    rss: float
    scrape_seconds: float
    expected: float
    render_seconds: float


def run_wifimon(
    work: Path,
    aps: int,
    ports: list[int],
    interval: float,
    warmup: float,
    window: float,
    refresh: float,
) -> WifimonRun:
    listen = f"127.0.0.1:{free_port()}"
    config = write_wifimon_config(work, aps, ports, interval, listen, refresh)
    log = (work / f"wifimon-{aps}.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wifimon.cli",
            "--log-level",
            "warning",
            "run",
            "--config",
            str(config),
        ],
        stdout=log,
        stderr=log,
    )
    url = f"http://{listen}/metrics"
    try:
        wait_ready(listen)
        time.sleep(warmup)
        before, _ = scrape(url)
        cpu_before, started = cpu_seconds(process.pid), time.monotonic()
        time.sleep(window)
        cpu_after, ended = cpu_seconds(process.pid), time.monotonic()
        after, _ = scrape(url)
        last, scrape_seconds = scrape(url)
        polls = total(after, "wifimon_polls_total") - total(before, "wifimon_polls_total")
        return WifimonRun(
            polls,
            cpu_after - cpu_before,
            ended - started,
            lag_p99(before, after),
            rss_mb(process.pid),
            scrape_seconds,
            aps * (ended - started) / interval,
            total(last, "wifimon_metrics_render_seconds"),
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_ready(listen: str, seconds: float = 180.0) -> None:
    """Until wifimon's /-/ready answers (loading a large fleet takes a while)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://{listen}/-/ready", timeout=2)
            return
        time.sleep(0.5)
    raise SystemExit("wifimon did not become ready")


def exporter_config(work: Path) -> Path:
    metrics = [
        {"name": name, "oid": oid.rsplit(".", 1)[0], "type": "gauge", "help": name}
        for name, oid in SYSTEM.items()
        if name == "sysUpTime"
    ]
    for name, (oid, kind) in IF_COLUMNS.items():
        metrics.append(
            {
                "name": name,
                "oid": oid,
                "type": kind,
                "help": name,
                "indexes": [{"labelname": "ifIndex", "type": "gauge"}],
            }
        )
    module = {
        "walk": [oid for oid, _ in IF_COLUMNS.values()],
        "get": list(SYSTEM.values()),
        "metrics": metrics,
        "version": 2,
        "max_repetitions": 25,
        "retries": 1,
        "timeout": "2s",
        "auth": {"community": "public"},
    }
    path = work / "snmp.yml"
    path.write_text(yaml.safe_dump({"wifimon": module}))
    return path


async def drive(url: str, ports: list[int], rate: float, window: float) -> int:
    import aiohttp

    done = 0
    limit = asyncio.Semaphore(256)

    async def one(session: aiohttp.ClientSession, port: int) -> None:
        nonlocal done
        async with (
            limit,
            session.get(
                url, params={"target": f"127.0.0.1:{port}", "module": "wifimon"}
            ) as response,
        ):
            await response.read()
            if response.status == 200:
                done += 1

    async with aiohttp.ClientSession() as session:
        tasks = []
        start = time.monotonic()
        sent = 0
        while time.monotonic() - start < window:
            due = int((time.monotonic() - start) * rate)
            while sent < due:
                tasks.append(asyncio.create_task(one(session, ports[sent % len(ports)])))
                sent += 1
            await asyncio.sleep(0.01)
        await asyncio.gather(*tasks, return_exceptions=True)
    return done


def run_exporter(work: Path, ports: list[int], rate: float, window: float) -> float:
    """CPU-seconds of snmp_exporter per scrape of one AP, driven at `rate` scrapes/s."""
    port = free_port()
    process = subprocess.Popen(
        [
            "prometheus-snmp-exporter",
            f"--config.file={exporter_config(work)}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(work / "exporter.log").open("wb"),
    )
    try:
        time.sleep(1.5)
        url = f"http://127.0.0.1:{port}/snmp"
        asyncio.run(drive(url, ports, rate, 3))  # warm-up
        before = cpu_seconds(process.pid)
        scrapes = asyncio.run(drive(url, ports, rate, window))
        return (cpu_seconds(process.pid) - before) / max(scrapes, 1)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--skip-exporter", action="store_true")
    parser.add_argument(
        "--metrics-refresh",
        type=float,
        default=15.0,
        help="daemon.metrics_refresh_seconds for wifimon (0: render per scrape)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wifimon-scale-") as tmp:
        work = Path(tmp)
        agents, ports = start_agents(work, args.agents)
        try:
            for aps in (int(s) for s in args.sizes.split(",")):
                w = run_wifimon(
                    work, aps, ports, args.interval, args.warmup, args.window, args.metrics_refresh
                )
                rate = w.polls / w.window
                cpu_per_poll = w.cpu / max(w.polls, 1)
                ratio = "n/a"
                exporter_ms = "n/a"
                if not args.skip_exporter:
                    exporter = run_exporter(work, ports, rate, min(args.window, 30))
                    ratio = f"{cpu_per_poll / exporter:.2f}"
                    exporter_ms = f"{exporter * 1000:.3f}"
                print(
                    f"aps={aps} polls_per_s={rate:.1f} cpu_per_poll_ms={cpu_per_poll * 1000:.3f}"
                    f" ratio_vs_snmp_exporter={ratio} lag_p99_s={w.lag_p99:g}"
                    f" rss_mb={w.rss:.0f} metrics_scrape_s={w.scrape_seconds:.3f}"
                    f" missed_polls={max(0, round(w.expected - w.polls))}"
                    f" metrics_render_s={w.render_seconds:.3f}"
                    f" cpu_cores={w.cpu / w.window:.2f} exporter_cpu_per_scrape_ms={exporter_ms}",
                    flush=True,
                )
        finally:
            for agent in agents:
                agent.terminate()
                agent.wait(timeout=10)


if __name__ == "__main__":
    main()
