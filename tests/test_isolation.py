"""One dead access point never holds up the others (in-process daemon, real snmpsim)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

from wifimon.daemon import Daemon
from wifimon.demo.fleet import FLEET, community_of, write_fleet
from wifimon.demo.simulator import Simulator
from wifimon.snmp.pysnmp_client import PysnmpClient
from wifimon.snmp.types import CommunityAuth, SnmpTarget, VarBind

INTERVAL = 6.0  # the dead AP hangs this long; the live ones take about 2 s
DEAD_AP = FLEET[0].aps[0]


class OneDeadAgent(PysnmpClient):
    """The real client, except that one AP's agent never answers (it hangs, like a
    half-dead device behind a congested link)."""

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> list[VarBind]:
        assert isinstance(target.auth, CommunityAuth)
        if target.auth.community.reveal() == community_of(DEAD_AP):
            await asyncio.sleep(3600)
        return await super().get(target, oids)


async def test_a_hanging_ap_does_not_delay_the_fleet(tmp_path: Path) -> None:
    simulator = Simulator(tmp_path / "recordings")
    config = write_fleet(tmp_path, simulator.port, "127.0.0.1:9", interval=INTERVAL)
    await simulator.start(community_of(FLEET[1].aps[0]))
    daemon = Daemon(config, client=OneDeadAgent())
    try:
        ap_ids = list(daemon.state.aps)
        started = time.monotonic()
        tasks = {ap: asyncio.create_task(daemon.poll_once(ap, time.time())) for ap in ap_ids}
        live = [t for ap, t in tasks.items() if ap != DEAD_AP.id]
        await asyncio.wait_for(asyncio.gather(*live), timeout=2 * INTERVAL)
        dead_still_hanging = not tasks[DEAD_AP.id].done()
        await asyncio.wait_for(tasks[DEAD_AP.id], timeout=2 * INTERVAL)  # bounded by the interval
        dead_elapsed = time.monotonic() - started
    finally:
        await daemon.stop()
        await simulator.stop()
    offline = {ap.id for h in FLEET for ap in h.aps if ap.offline}
    assert all(
        daemon.state.aps[ap].last_success for ap in ap_ids if ap not in {DEAD_AP.id, *offline}
    )
    assert daemon.state.aps[DEAD_AP.id].last_success is None
    assert daemon.state.aps[DEAD_AP.id].errors_total["timeout"] == 1
    assert dead_still_hanging  # the fleet's polls all ended while the dead AP's still hung
    assert dead_elapsed < 1.5 * INTERVAL  # and its poll ends with the interval
