"""`wifimon demo`: snmpsim plays the fleet, the daemon watches it, a status table updates."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from wifimon import config as config_module
from wifimon.daemon import Daemon
from wifimon.demo.fleet import FLEET, community_of, write_fleet
from wifimon.demo.simulator import Simulator, free_udp_port
from wifimon.history.document import report_file
from wifimon.history.query import ReportQuery, make_report
from wifimon.history.report import Period
from wifimon.probes.speedtest_server import build_app
from wifimon.state import State, condition
from wifimon.web import start_web

CONDITION_WORDS = {
    "up": "hidup",
    "slow": "lambat",
    "full": "penuh",
    "down": "MATI",
    "unknown": "belum tahu",
}


@dataclass
class LocalSpeedtest:
    runner: web.AppRunner
    url: str


async def start_speedtest() -> LocalSpeedtest:
    """A speedtest endpoint on loopback for the demo's paced throughput probes."""
    runner = web.AppRunner(build_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return LocalSpeedtest(runner, f"http://127.0.0.1:{port}/download")


def status_table(state: State) -> str:
    """One screen: every titik with its condition, users, uplink and tested throughput."""
    header = (
        f"{'titik':<12} {'kelurahan':<21} {'kondisi':<10} {'pengguna':>9} "
        f"{'uplink Mbps':>12} {'tes Mbps':>9}"
    )
    lines = [header, "-" * len(header)]
    for hotspot_id in sorted(state.hotspots):
        view = state.hotspot_view(hotspot_id)
        users = "?" if view.clients is None else str(view.clients)
        users = f"{users}/{view.hotspot.sla.capacity_users}"
        uplink = "-" if view.uplink_bps is None else f"{view.uplink_bps / 1e6:.1f}"
        tested = state.hotspot_states[hotspot_id].throughput
        probe = (
            "-"
            if tested is None or tested.download_bps is None
            else (f"{tested.download_bps / 1e6:.1f}")
        )
        lines.append(
            f"{hotspot_id:<12} {view.hotspot.kelurahan[:21]:<21} "
            f"{CONDITION_WORDS[condition(view)]:<10} {users:>9} {uplink:>12} {probe:>9}"
        )
    return "\n".join(lines)


async def run_demo(listen: str, interval: float, duration: float, workdir: Path | None) -> int:
    """Run until Ctrl-C (or `duration` seconds), printing the status every interval."""
    temp = None
    if workdir is None:
        temp = tempfile.TemporaryDirectory(prefix="wifimon-demo-")
        workdir = Path(temp.name)
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_udp_port()
    speedtest = await start_speedtest()
    config_path = write_fleet(workdir, port, listen, interval, speedtest.url)
    simulator = Simulator(workdir / "recordings", port)
    await simulator.start(community_of(FLEET[0].aps[0]))
    daemon = Daemon(config_path)
    runner = await start_web(daemon)
    started_at = time.time()
    await daemon.start()
    _announce(listen, config_path, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if duration:
        loop.call_later(duration, stop.set)
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
            print(status_table(daemon.state), flush=True)
            print(flush=True)
    finally:
        await daemon.stop()
        await runner.cleanup()
        await simulator.stop()
        await speedtest.runner.cleanup()
        kept = workdir if temp is None else Path(tempfile.mkdtemp(prefix="wifimon-demo-report-"))
        await asyncio.to_thread(write_report, config_path, kept, started_at)
        if temp is not None:
            temp.cleanup()
    return 0


def write_report(config_path: Path, directory: Path, started_at: float) -> None:
    """The uptime report of the demo's run, per titik, as HTML and PDF to look at."""
    config = config_module.load(config_path)
    now = time.time()
    query = ReportQuery(Period(started_at, now), by="hotspot")
    report = make_report(config, query, now)
    for form in ("html", "pdf"):
        path = directory / f"uptime-report.{form}"
        path.write_bytes(report_file(report, form, config.model.reports.language,
                                     config.model.reports))  # fmt: skip
    print(f"uptime report of this run: {directory / 'uptime-report.html'} and .pdf",
          file=sys.stderr, flush=True)  # fmt: skip


def _announce(listen: str, config_path: Path, port: int) -> None:
    print(
        f"""wifimon demo: {len(FLEET)} titik, {sum(len(h.aps) for h in FLEET)} access points
  simulated agents: snmpsim on udp 127.0.0.1:{port}
  config:           {config_path}
  metrics:          http://{listen}/metrics
  health:           http://{listen}/-/healthy
Status below refreshes every poll interval; Ctrl-C stops.
""",
        file=sys.stderr,
        flush=True,
    )
