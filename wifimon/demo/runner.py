"""`wifimon demo`: snmpsim plays the fleet, the daemon watches it, a status table updates."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import tempfile
from pathlib import Path

from wifimon.daemon import Daemon
from wifimon.demo.fleet import FLEET, community_of, write_fleet
from wifimon.demo.simulator import Simulator, free_udp_port
from wifimon.state import State, Status
from wifimon.web import start_web

STATUS_WORDS = {Status.UP: "hidup", Status.DOWN: "MATI", Status.UNKNOWN: "belum tahu"}


def status_table(state: State) -> str:
    """One screen: every titik with status, users against capacity and uplink throughput."""
    header = f"{'titik':<12} {'kelurahan':<21} {'status':<10} {'pengguna':>9} {'uplink Mbps':>12}"
    lines = [header, "-" * len(header)]
    for hotspot_id in sorted(state.hotspots):
        view = state.hotspot_view(hotspot_id)
        users = "?" if view.clients is None else str(view.clients)
        users = f"{users}/{view.hotspot.sla.capacity_users}"
        mbps = "-" if view.uplink_bps is None else f"{view.uplink_bps / 1e6:.1f}"
        lines.append(
            f"{hotspot_id:<12} {view.hotspot.kelurahan[:21]:<21} "
            f"{STATUS_WORDS[view.status]:<10} {users:>9} {mbps:>12}"
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
    config_path = write_fleet(workdir, port, listen, interval)
    simulator = Simulator(workdir / "recordings", port)
    await simulator.start(community_of(FLEET[0].aps[0]))
    daemon = Daemon(config_path)
    runner = await start_web(daemon)
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
        if temp is not None:
            temp.cleanup()
    return 0


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
