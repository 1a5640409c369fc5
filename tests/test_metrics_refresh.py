"""Pre-rendered /metrics for large fleets: served from the background render, kept fresh."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

from wifimon.daemon import Daemon
from wifimon.demo.fleet import FLEET, community_of, write_fleet
from wifimon.demo.simulator import Simulator


async def test_state_metrics_are_served_from_the_background_render(tmp_path: Path) -> None:
    simulator = Simulator(tmp_path / "recordings")
    config = write_fleet(tmp_path, simulator.port, "127.0.0.1:9", interval=1.0)
    data = yaml.safe_load(config.read_text())
    data["daemon"]["metrics_refresh_seconds"] = 1.0
    config.write_text(yaml.safe_dump(data))
    await simulator.start(community_of(FLEET[0].aps[0]))
    daemon = Daemon(config)
    try:
        await daemon.start()
        await asyncio.sleep(2.5)
        first = await daemon.metrics_body()
        second = await daemon.metrics_body()
        state_part = first.split(b"# HELP wifimon_poll_duration_seconds")[0]
        assert state_part == second.split(b"# HELP wifimon_poll_duration_seconds")[0]
        assert b'wifimon_ap_up{hotspot="jp-glr-01"' in first
        assert b"wifimon_metrics_render_seconds " in first
        await asyncio.sleep(1.5)
        third = await daemon.metrics_body()
        assert third.split(b"# HELP wifimon_poll_duration_seconds")[0] != state_part
    finally:
        await daemon.stop()
        await simulator.stop()
