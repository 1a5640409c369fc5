"""Sharding: every titik in exactly one shard, stable, minimal movement when resharding."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.test_daemon import RunningDaemon, free_tcp_port
from wifimon.demo.fleet import FLEET, community_of, write_fleet
from wifimon.demo.simulator import Simulator
from wifimon.errors import ConfigError
from wifimon.shard import Shard, owner

IDS = [f"jkt-{i:05d}" for i in range(9000)]


def test_every_titik_has_exactly_one_owner_and_shares_are_even() -> None:
    owners = Counter(owner(h, 3) for h in IDS)
    assert set(owners) == {1, 2, 3}
    assert all(2700 < n < 3300 for n in owners.values())
    shards = [Shard(k, 3) for k in (1, 2, 3)]
    assert all(sum(s.owns(h) for s in shards) == 1 for h in IDS[:500])


def test_resharding_3_to_4_moves_only_what_the_new_shard_takes() -> None:
    moved = [h for h in IDS if owner(h, 3) != owner(h, 4)]
    assert all(owner(h, 4) == 4 for h in moved)
    assert 0.2 < len(moved) / len(IDS) < 0.3  # about a quarter, not three quarters


def test_owner_is_stable() -> None:
    assert [owner(h, 5) for h in IDS[:50]] == [owner(h, 5) for h in IDS[:50]]
    assert owner("jp-glr-01", 1) == 1


@pytest.mark.parametrize("text", ["0/3", "4/3", "2", "a/b", "1/0"])
def test_bad_shard_specs(text: str) -> None:
    with pytest.raises(ConfigError):
        Shard.parse(text)


def test_three_shards_split_one_fleet(tmp_path: Path) -> None:
    simulator = Simulator(tmp_path / "recordings")
    config = write_fleet(tmp_path, simulator.port, "127.0.0.1:9", 2.0)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(simulator.start(community_of(FLEET[0].aps[0])))
    daemons = []
    try:
        for k in (1, 2, 3):
            listen = f"127.0.0.1:{free_tcp_port()}"
            log = tmp_path / f"shard{k}.log"
            daemons.append(RunningDaemon.spawn(config, listen, log, "--shard", f"{k}/3"))
        deadline = time.monotonic() + 30
        all_aps = {ap.id for h in FLEET for ap in h.aps}
        polled: dict[str, list[int]] = {}
        while time.monotonic() < deadline:
            polled = {}
            for k, d in enumerate(daemons, start=1):
                try:
                    samples = d.samples()
                except OSError:
                    continue
                for (name, labels), _ in samples.items():
                    if name == "wifimon_ap_up":
                        polled.setdefault(dict(labels)["ap"], []).append(k)
            if set(polled) == all_aps:
                break
            time.sleep(0.5)
        assert set(polled) == all_aps
        assert all(len(shards) == 1 for shards in polled.values()), polled
        for ap, (k,) in polled.items():
            hotspot = next(h.id for h in FLEET if any(a.id == ap for a in h.aps))
            assert owner(hotspot, 3) == k
        assert daemons[0].value("wifimon_shard_info", shard="1", shards="3") == 1
    finally:
        for d in daemons:
            d.process.terminate()
            d.process.wait(timeout=10)
        loop.run_until_complete(simulator.stop())
        loop.close()
