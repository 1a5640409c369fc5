"""Reloading the config: what changed is applied, the rest kept, the event loop never held up
for the whole of it, and a refused reload changes nothing (in-process daemon, real snmpsim)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fleet_edit import titik
from wifimon.daemon import Daemon, polled_aps
from wifimon.demo.fleet import FLEET, community_of, write_fleet
from wifimon.demo.simulator import Simulator
from wifimon.errors import ConfigError
from wifimon.poller import SYSTEM_OIDS
from wifimon.snmp.pysnmp_client import PysnmpClient
from wifimon.snmp.types import CommunityAuth, SnmpTarget, VarBind
from wifimon.state import Status

INTERVAL = 2.0
BIG_FLEET = 5000  # access points, two per titik


class WatchedClient(PysnmpClient):
    """The real client, noting per community each poll's start and how many requests are in
    flight at once (one poll asks one question at a time: two at once are two polls)."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.polls: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.most_in_flight: Counter[str] = Counter()

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> list[VarBind]:
        assert isinstance(target.auth, CommunityAuth)
        community = target.auth.community.reveal()
        if list(oids) == list(SYSTEM_OIDS):
            self.polls[community] += 1
        self.in_flight[community] += 1
        self.most_in_flight[community] = max(
            self.most_in_flight[community], self.in_flight[community]
        )
        try:
            await asyncio.sleep(self.delay)
            return await super().get(target, oids)
        finally:
            self.in_flight[community] -= 1


def community(ap_id: str) -> str:
    (ap,) = [ap for h in FLEET for ap in h.aps if ap.id == ap_id]
    return community_of(ap)


@pytest.fixture
async def simulator(tmp_path: Path) -> AsyncIterator[Simulator]:
    """snmpsim playing the demo fleet's recordings (written by write_fleet)."""
    simulator = Simulator(tmp_path / "recordings")
    write_fleet(tmp_path, simulator.port, "127.0.0.1:9", INTERVAL)
    await simulator.start(community_of(FLEET[0].aps[0]))
    try:
        yield simulator
    finally:
        await simulator.stop()


def edit_inventory(directory: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Hand the inventory document to `edit` and write it back."""
    path = directory / "inventory.yaml"
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


async def until(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def poll_jobs(daemon: Daemon) -> list[str]:
    """The APs with a poll job, as APScheduler holds them (one each, or a key twice)."""
    return sorted(job.id.removeprefix("poll:") for job in daemon.scheduler.jobs()
                  if job.id.startswith("poll:"))  # fmt: skip


def sample(daemon: Daemon, name: str, **labels: str) -> float | None:
    return daemon.registry.get_sample_value(name, labels)


def polled_since(daemon: Daemon, ap_id: str, since: float) -> bool:
    state = daemon.state.aps.get(ap_id)
    return state is not None and (state.last_success or 0) > since


async def test_a_reload_adds_removes_and_changes_aps(tmp_path: Path, simulator: Simulator) -> None:
    client = WatchedClient()
    daemon = Daemon(tmp_path / "config.yaml", client=client)
    kept, changed, removed = "jt-cbu-01-a", "jt-cbu-02-a", "jp-glr-02-a"
    try:
        await daemon.start()
        live = {ap.id for h in FLEET for ap in h.aps if not ap.offline}
        started = time.time()
        await until(lambda: all(polled_since(daemon, ap, 0) for ap in live), 20, "first polls")
        kept_state = daemon.state.aps[kept]

        def edit(data: dict[str, Any]) -> None:
            data["hotspots"] = [h for h in data["hotspots"] if h["id"] != "jp-glr-02"]
            galur = titik(data, "jp-glr-01")
            galur["access_points"].append({**galur["access_points"][0], "id": "jp-glr-01-c"})
            titik(data, "jt-cbu-02")["access_points"][0]["uplink"] = "ether1"

        edit_inventory(tmp_path, edit)
        await daemon.reload()
        reloaded = time.time()
        client.polls.clear()
        assert daemon.state.aps[kept] is kept_state  # its counters and rates go on
        assert daemon.state.aps[changed].ap.uplink == "ether1"
        assert daemon.state.aps[changed].status == Status.UNKNOWN  # a new AP, as far as known
        assert removed not in daemon.state.aps and "jp-glr-02" not in daemon.state.hotspots
        assert daemon.polls.scheduled_keys() == polled_aps(daemon.config.inventory)
        assert poll_jobs(daemon) == sorted(polled_aps(daemon.config.inventory))
        await until(
            lambda: all(polled_since(daemon, ap, reloaded) for ap in ("jp-glr-01-c", changed)),
            3 * INTERVAL + 5,
            "the added and the changed AP to be polled",
        )
        await until(lambda: polled_since(daemon, kept, reloaded), 3 * INTERVAL, "kept AP polled")
        assert client.polls[community(removed)] == 0
        assert daemon.state.hotspot_view("jp-glr-01").aps.aps_total == 3
        assert kept_state.last_success and kept_state.last_success > started
    finally:
        await daemon.stop()


async def test_reloads_while_polls_run_neither_lose_nor_double_a_poll(
    tmp_path: Path, simulator: Simulator
) -> None:
    client = WatchedClient(delay=0.2)  # every poll is in flight for a while
    daemon = Daemon(tmp_path / "config.yaml", client=client)
    live = {ap.id for h in FLEET for ap in h.aps if not ap.offline}
    try:
        await daemon.start()
        await until(lambda: sum(client.in_flight.values()) > 0, 10, "polls in flight")
        for n in range(6):  # one AP changed and changed back, the rest kept, during polls
            uplink = "ether1" if n % 2 == 0 else None

            def edit(data: dict[str, Any], uplink: str | None = uplink) -> None:
                titik(data, "jt-cbu-02")["access_points"][0]["uplink"] = uplink

            edit_inventory(tmp_path, edit)
            await daemon.reload()
            await asyncio.sleep(0.3)
        reloaded = time.time()
        client.polls.clear()
        await asyncio.sleep(3 * INTERVAL)
        polls = {ap: client.polls[community(ap)] for ap in live}
        assert poll_jobs(daemon) == sorted(polled_aps(daemon.config.inventory))
        assert all(polled_since(daemon, ap, reloaded) for ap in live), polls
        assert all(2 <= n <= 4 for n in polls.values()), polls  # once an interval
        assert max(client.most_in_flight.values()) == 1  # never two polls of one AP at once
    finally:
        await daemon.stop()


async def test_a_refused_reload_changes_nothing(tmp_path: Path, simulator: Simulator) -> None:
    daemon = Daemon(tmp_path / "config.yaml", client=WatchedClient())
    try:
        await daemon.start()
        config, aps, hotspots = daemon.config, daemon.state.aps, daemon.state.hotspots
        jobs = sorted(job.id for job in daemon.scheduler.jobs())
        path = tmp_path / "inventory.yaml"
        good = path.read_bytes()
        bad_files = [
            good.replace(b"latitude: -6.1808", b"latitude: utara", 1),  # refused as invalid
            good.replace(b"Galur", "G\u00e2lur".encode("latin-1"), 1),  # not UTF-8
        ]
        for n, bad in enumerate(bad_files, start=1):
            path.write_bytes(bad)
            with pytest.raises(ConfigError) as refused:
                await daemon.reload()
            assert "Traceback" not in str(refused.value)
            assert daemon.config is config
            assert daemon.state.aps is aps and daemon.state.hotspots is hotspots
            assert sorted(job.id for job in daemon.scheduler.jobs()) == jobs
            assert sample(daemon, "wifimon_config_last_reload_successful") == 0
            assert sample(daemon, "wifimon_config_reloads_total", result="failure") == n
        path.write_bytes(good)
        await daemon.reload()
        assert sample(daemon, "wifimon_config_last_reload_successful") == 1
    finally:
        await daemon.stop()


def big_fleet(directory: Path, aps: int) -> Path:
    """A config of `aps` APs (two per titik) at a loopback port where nothing answers,
    polled rarely: the reload, not the polls, is what the event loop has to get through."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    place = {"kota": "Jakarta Timur", "kecamatan": "Jatinegara", "kelurahan": "Cipinang",
             "rw": "03", "latitude": -6.2, "longitude": 106.85, "provider": "Mitra A"}  # fmt: skip
    hotspots = [
        {"id": f"t-{h:05d}", "name": f"Titik {h}", **place, "access_points": [
            {"id": f"ap-{i:05d}", "address": f"127.0.0.1:{port}", "credentials": "v2"}
            for i in (2 * h, 2 * h + 1)]}
        for h in range(aps // 2)
    ]  # fmt: skip
    (directory / "inventory.yaml").write_text(json.dumps({"hotspots": hotspots}))
    (directory / "community").write_text("public\n")
    config = {
        "daemon": {"listen": "127.0.0.1:9", "data_dir": "data"},
        "polling": {"interval_seconds": 3600, "timeout_seconds": 1, "retries": 0},
        "probes": {"icmp": {"enabled": False}, "throughput": {"enabled": False}},
        "secrets": {"community": {"file": "community"}},
        "snmp_credentials": {
            name: {"version": "2c", "community": "community"} for name in ("v2", "v2b")
        },
        "inventory": ["inventory.yaml"],
    }
    path = directory / "wifimon.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def every_ap_on(directory: Path, credentials: str, first: int | None = None) -> None:
    """Move every AP (or the first titik's) to other credentials: each is a changed AP."""
    path = directory / "inventory.yaml"
    data = json.loads(path.read_text())
    for hotspot in data["hotspots"][:first]:
        for ap in hotspot["access_points"]:
            ap["credentials"] = credentials
    path.write_text(json.dumps(data))


async def widest_gap(stop: asyncio.Event) -> float:
    """The longest time between two turns of this task on the event loop until `stop`."""
    widest, last = 0.0, time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        widest, last = max(widest, now - last), now
    return widest


async def test_the_event_loop_keeps_turning_while_a_large_fleet_is_reloaded(
    tmp_path: Path,
) -> None:
    daemon = Daemon(big_fleet(tmp_path, BIG_FLEET))
    try:
        await daemon.start()
        every_ap_on(tmp_path, "v2b")  # every AP changed: every poll job replaced
        stop = asyncio.Event()
        watcher = asyncio.create_task(widest_gap(stop))
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        await daemon.reload()
        took = time.perf_counter() - started
        stop.set()
        gap = await watcher
    finally:
        await daemon.stop()
    assert len(daemon.state.aps) == BIG_FLEET
    assert all(s.ap.credentials == "v2b" for s in daemon.state.aps.values())
    assert gap < took / 4, f"the loop stood still {gap:.3f} s of a {took:.3f} s reload"


async def test_a_reload_that_changes_one_titik_works_out_only_that_titik_again(
    tmp_path: Path,
) -> None:
    daemon = Daemon(big_fleet(tmp_path, BIG_FLEET))
    try:
        await daemon.start()
        views = {h: daemon.state.hotspot_view(h) for h in daemon.state.hotspots}
        jobs = {job.id: job for job in daemon.scheduler.jobs()}
        every_ap_on(tmp_path, "v2b", first=1)
        await daemon.reload()
        kept = dict(daemon.state.views)
        after = {job.id: job for job in daemon.scheduler.jobs()}
    finally:
        await daemon.stop()
    assert set(views) - set(kept) == {"t-00000"}  # only the changed titik's view is redone
    assert all(kept[h] is views[h] for h in kept)
    replaced = {job for job in jobs if after[job] is not jobs[job]}
    assert replaced == {"poll:ap-00000", "poll:ap-00001"}
