"""Sharding: every titik in exactly one shard, stable, minimal movement when resharding."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from tests.test_daemon import RunningDaemon, free_tcp_port
from wifimon.alerts.templates import WIB
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
        deadline = time.monotonic() + 60
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
        logs = "\n".join(d.log.read_text()[-2000:] for d in daemons)
        assert set(polled) == all_aps, logs
        assert all(len(shards) == 1 for shards in polled.values()), polled
        for ap, (k,) in polled.items():
            hotspot = next(h.id for h in FLEET if any(a.id == ap for a in h.aps))
            assert owner(hotspot, 3) == k
        assert daemons[0].value("wifimon_shard_info", shard="1", shards="3") == 1
        data = tmp_path / "data"
        for k in (1, 2, 3):  # each shard its own runtime state, silences stay shared
            assert (data / f"shard-{k}-of-3" / "history.sqlite").exists()
            assert (data / f"shard-{k}-of-3" / "wifimon.lock").read_text().strip() == str(
                daemons[k - 1].process.pid
            )
        assert not (data / "history.sqlite").exists()
        assert_second_instance_refused(config, tmp_path, daemons[1])
        assert_report_reads_every_shard(config, polled)
    finally:
        for d in daemons:
            d.process.terminate()
            d.process.wait(timeout=10)
        loop.run_until_complete(simulator.stop())
        loop.close()


def assert_second_instance_refused(config: Path, tmp_path: Path, running: RunningDaemon) -> None:
    """A second `--shard 2/3` on the same data_dir exits with a clear error; the first runs on."""
    log = tmp_path / "second.log"
    second = RunningDaemon.spawn(config, f"127.0.0.1:{free_tcp_port()}", log, "--shard", "2/3")
    assert second.process.wait(timeout=30) != 0
    text = log.read_text()
    assert "shard-2-of-3: another wifimon (pid " + str(running.process.pid) + ")" in text, text
    assert "Traceback" not in text
    assert running.process.poll() is None
    assert running.get("/metrics")[0] == 200


def assert_report_reads_every_shard(config: Path, polled: dict[str, list[int]]) -> None:
    """`report uptime --shards 3` covers every titik, each from its own shard's history."""
    now = datetime.now(WIB)
    command = [sys.executable, "-m", "wifimon.cli", "report", "uptime", "--config", str(config),
               "--from", now.strftime("%Y-%m-%d 00:00"), "--to", "2099-01-01", "--by", "hotspot",
               "--format", "json", "--shards", "3"]  # fmt: skip
    deadline = time.monotonic() + 30  # the writers commit a batch every 5 s
    rows: dict[str, dict] = {}  # type: ignore[type-arg]
    while time.monotonic() < deadline:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        rows = {r["group"]: r for r in json.loads(result.stdout)["rows"]}
        if all(r["coverage_percent"] for r in rows.values()):
            break
        time.sleep(1)
    assert set(rows) == {h.id for h in FLEET}
    assert all(r["coverage_percent"] > 0 for r in rows.values()), rows
    unsharded = subprocess.run(
        [sys.executable, "-m", "wifimon.cli", "report", "uptime", "--config", str(config)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert unsharded.returncode == 2
    assert "no history at" in unsharded.stderr and "history.sqlite" in unsharded.stderr
