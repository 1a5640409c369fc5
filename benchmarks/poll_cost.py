"""CPU cost of one full poll (profile detection cached) against the demo fleet in snmpsim.

Prints one line per client (pysnmp, fast):
client=NAME aps=N polls=N cpu_per_poll_ms=X wall_per_poll_ms=Y requests_per_poll=Z
snmpsim runs in its own process, so the CPU figure is wifimon's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from wifimon.demo.fleet import FLEET, community_of, write_fleet
from wifimon.demo.simulator import Simulator
from wifimon.poller import poll_ap
from wifimon.secrets import Secret
from wifimon.snmp.client import ExchangeClient
from wifimon.snmp.fast_client import FastSnmpClient
from wifimon.snmp.profiles import load_profiles
from wifimon.snmp.pysnmp_client import PysnmpClient
from wifimon.snmp.types import CommunityAuth, SnmpTarget


def counting(base: type[ExchangeClient]) -> type[ExchangeClient]:
    """`base` with a count of the SNMP requests it sends."""

    class Counting(base):  # type: ignore[valid-type,misc]
        requests = 0

        async def _exchange(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            type(self).requests += 1
            return await super()._exchange(*args, **kwargs)

    return Counting


async def main(rounds: int) -> None:
    for name, base in (("pysnmp", PysnmpClient), ("fast", FastSnmpClient)):
        await measure(name, counting(base), rounds)


async def measure(name: str, client_class: type[ExchangeClient], rounds: int) -> None:
    aps = [ap for hotspot in FLEET for ap in hotspot.aps if not ap.offline]
    with tempfile.TemporaryDirectory() as tmp:
        simulator = Simulator(Path(tmp) / "recordings")
        write_fleet(Path(tmp), simulator.port, "127.0.0.1:9", 60)
        await simulator.start(community_of(aps[0]))
        client, profiles = client_class(), load_profiles()
        targets = {
            ap.id: SnmpTarget(
                "127.0.0.1", simulator.port, "2c", CommunityAuth(Secret(community_of(ap))), 2.0, 1
            )
            for ap in aps
        }
        known = {}
        for ap in aps:  # warm-up: engine, detection
            sample = await poll_ap(client, targets[ap.id], ap.id, profiles, "auto")
            known[ap.id] = sample.profile
        client_class.requests = 0  # type: ignore[attr-defined]
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(rounds):
            for ap in aps:
                await poll_ap(client, targets[ap.id], ap.id, profiles, "auto", known[ap.id])
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        polls = rounds * len(aps)
        await client.close()
        await simulator.stop()
    requests = client_class.requests  # type: ignore[attr-defined]
    print(
        f"client={name} aps={len(aps)} polls={polls} cpu_per_poll_ms={cpu / polls * 1000:.2f} "
        f"wall_per_poll_ms={wall / polls * 1000:.2f} "
        f"requests_per_poll={requests / polls:.1f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
