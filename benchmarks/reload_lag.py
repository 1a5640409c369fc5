"""Reloading a Jakarta-sized config while the daemon polls: does its HTTP keep answering?

Runs `wifimon run` on N access points (loopback `snmpd` agents, as benchmarks/scale.py),
asks GET /-/ready every 50 ms throughout, measures a quiet window, then a window in which the
config is reloaded --reloads times (SIGHUP, each after the previous one ended and a pause),
changing one titik's AP, every AP, or nothing (--change). Prints one line:

aps=N titik=N change=one reloads=N reload_seconds_p50=X reload_seconds_max=X
ready_latency_p99_quiet_ms=X ready_latency_max_quiet_ms=X ready_latency_p99_reload_ms=X
ready_latency_max_reload_ms=X lag_p99_quiet_s=X lag_p99_reload_s=X polls_quiet=N
polls_reload=N

A reload's seconds run from the SIGHUP to the daemon's "config reloaded" log line. The ready
latencies are those of the probes sent in each window; a probe that got no answer counts
with the time it waited. Needs snmpd (Debian). Traffic: 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from scale import free_port, lag_p99, scrape, start_agents, total, wait_ready, write_wifimon_config

PROBE_EVERY_SECONDS = 0.05
PROBE_TIMEOUT_SECONDS = 30.0
RELOADED = b"config reloaded"


class ReadyProbe(threading.Thread):
    """GET /-/ready every 50 ms, keeping (sent at, seconds to answer) of each."""

    def __init__(self, listen: str) -> None:
        super().__init__(daemon=True)
        self.url = f"http://{listen}/-/ready"
        self.results: list[tuple[float, float]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            sent = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=PROBE_TIMEOUT_SECONDS) as answer:
                    answer.read()
            except OSError:
                pass  # counted with the time it waited
            self.results.append((sent, time.monotonic() - sent))
            self.stopped.wait(max(0.0, sent + PROBE_EVERY_SECONDS - time.monotonic()))

    def between(self, start: float, end: float) -> list[float]:
        """Latencies (ms) of the probes sent in [start, end)."""
        return [1000 * took for sent, took in list(self.results) if start <= sent < end]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def inventories(work: Path, change: str) -> tuple[str, str]:
    """The inventory as written and as edited (JSON text, which YAML reads, written fast):
    the first titik's AP, or every AP, on a second credentials name; none: the same text."""
    data = yaml.load((work / "inventory.yaml").read_text(), Loader=yaml.CSafeLoader)
    first = json.dumps(data)
    edited: dict[str, Any] = json.loads(first)
    hotspots = edited["hotspots"] if change == "all" else edited["hotspots"][:1]
    if change != "none":
        for hotspot in hotspots:
            for ap in hotspot["access_points"]:
                ap["credentials"] = "v2b"
    return first, json.dumps(edited)


def add_second_credentials(config: Path) -> None:
    """`v2b`: the same community under another name, so an edit changes APs, not agents."""
    data = yaml.safe_load(config.read_text())
    data["snmp_credentials"]["v2b"] = dict(data["snmp_credentials"]["v2"])
    config.write_text(yaml.safe_dump(data))


class LogWatch:
    """Counts the daemon's "config reloaded" lines as they are written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.seen = 0
        self.partial = b""  # a line not yet ended

    def reloaded(self) -> int:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            chunk = log.read()
        self.offset += len(chunk)
        whole, _, self.partial = (self.partial + chunk).rpartition(b"\n")
        self.seen += whole.count(RELOADED)
        return self.seen


def reload_once(pid: int, watch: LogWatch, timeout: float) -> float:
    """SIGHUP the daemon and wait for its "config reloaded" line; returns the seconds."""
    wanted = watch.reloaded() + 1
    started = time.monotonic()
    os.kill(pid, signal.SIGHUP)
    while watch.reloaded() < wanted:
        if time.monotonic() - started > timeout:
            raise SystemExit("a reload did not finish: see the daemon's log")
        time.sleep(0.02)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aps", type=int, default=20000)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--window", type=float, default=30.0, help="the quiet window")
    parser.add_argument("--reloads", type=int, default=5)
    parser.add_argument("--pause", type=float, default=3.0, help="seconds between reloads")
    parser.add_argument("--change", choices=["none", "one", "all"], default="one")
    parser.add_argument("--agents", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wifimon-reload-") as tmp:
        work = Path(tmp)
        agents, ports = start_agents(work, args.agents)
        listen = f"127.0.0.1:{free_port()}"
        config = write_wifimon_config(work, args.aps, ports, args.interval, listen, 15.0)
        add_second_credentials(config)
        variants = inventories(work, args.change)
        (work / "inventory.yaml").write_text(variants[0])
        log_path = work / "wifimon.log"
        command = [sys.executable, "-m", "wifimon.cli", "--log-level", "info", "run",
                   "--config", str(config)]  # fmt: skip
        with log_path.open("wb") as log:
            daemon = subprocess.Popen(command, stdout=log, stderr=log)
        url = f"http://{listen}/metrics"
        probe = ReadyProbe(listen)
        try:
            wait_ready(listen)
            probe.start()
            time.sleep(args.warmup)
            quiet_a, _ = scrape(url)
            quiet_start = time.monotonic()
            time.sleep(args.window)
            quiet_end = time.monotonic()
            quiet_b, _ = scrape(url)
            watch = LogWatch(log_path)
            busy_a, _ = scrape(url)
            busy_start = time.monotonic()
            seconds = []
            for n in range(args.reloads):
                (work / "inventory.yaml").write_text(variants[(n + 1) % 2])
                seconds.append(reload_once(daemon.pid, watch, 600.0))
                time.sleep(args.pause)
            busy_end = time.monotonic()
            busy_b, _ = scrape(url)
        finally:
            probe.stopped.set()
            daemon.terminate()
            daemon.wait(timeout=60)
            for agent in agents:
                agent.terminate()
                agent.wait(timeout=10)
        quiet, busy = probe.between(quiet_start, quiet_end), probe.between(busy_start, busy_end)
        polls = "wifimon_polls_total"
        print(
            f"aps={args.aps} titik={(args.aps + 1) // 2} change={args.change} "
            f"reloads={len(seconds)} reload_seconds_p50={statistics.median(seconds):.2f} "
            f"reload_seconds_max={max(seconds):.2f} "
            f"ready_latency_p99_quiet_ms={percentile(quiet, 0.99):.0f} "
            f"ready_latency_max_quiet_ms={max(quiet):.0f} "
            f"ready_latency_p99_reload_ms={percentile(busy, 0.99):.0f} "
            f"ready_latency_max_reload_ms={max(busy):.0f} "
            f"lag_p99_quiet_s={lag_p99(quiet_a, quiet_b):g} "
            f"lag_p99_reload_s={lag_p99(busy_a, busy_b):g} "
            f"polls_quiet={total(quiet_b, polls) - total(quiet_a, polls):.0f} "
            f"polls_reload={total(busy_b, polls) - total(busy_a, polls):.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
