"""SIGKILL of a real daemon in the middle of a storm of 500 notifications to a slow channel:
after the restart every message is delivered, and none the channel had accepted is sent
again (only the few in flight at the kill may repeat, with the same idempotency key)."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from tests.notify_fakes import FakeGateway
from tests.test_daemon import RunningDaemon, _ready, free_tcp_port, kill_all
from wifimon.demo.fleet import write_fleet
from wifimon.notify.outbox import NewDelivery, Outbox

STORM = 500
CONCURRENCY = 8  # the sender's parallel deliveries


@pytest.fixture
def slow_gateway() -> Iterator[tuple[FakeGateway, str]]:
    """The fake in its own thread and loop, as a service outside the daemon would be."""
    fake = FakeGateway(to_field="recipient", text_field="body", delay=0.1)
    port, ready, loop = free_tcp_port(), threading.Event(), asyncio.new_event_loop()

    async def serve() -> web.AppRunner:
        runner = web.AppRunner(fake.app())
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner

    def run() -> None:
        asyncio.set_event_loop(loop)
        runner = loop.run_until_complete(serve())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    yield fake, f"http://127.0.0.1:{port}/send"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_sigkill_during_a_storm_loses_nothing_and_repeats_nothing_accepted(
    tmp_path: Path, slow_gateway: tuple[FakeGateway, str]
) -> None:
    fake, url = slow_gateway
    listen = f"127.0.0.1:{free_tcp_port()}"
    config = write_fleet(tmp_path, 9, listen, 60.0)  # no SNMP agent: polls fail, fine here
    data = yaml.safe_load(config.read_text())
    data["notifications"] = {"channels": {"hook": {"type": "webhook", "url": url}}}
    config.write_text(yaml.safe_dump(data))
    outbox = Outbox(tmp_path / data["daemon"]["data_dir"])
    storm = [NewDelivery(f"TitikMati:t{i:03d}|1|firing||rw_admin|hook|62812{i:08d}", "hook",
                         f"62812{i:08d}", f"PERINGATAN: Titik t{i:03d} mati", "Sejak 10:00 WIB")
             for i in range(STORM)]  # fmt: skip
    assert outbox.enqueue(storm, time.time()) == STORM
    outbox.close()
    log = tmp_path / "wifimon.log"
    first = RunningDaemon.spawn(config, listen, log)
    second = None
    try:
        first.wait_for(lambda: len(fake.received) >= 200, timeout=60, what="the storm going out")
        first.process.send_signal(signal.SIGKILL)
        killed_at = time.time()
        first.process.wait(timeout=10)
        accepted_before = dict(fake.accepted_at)
        assert len(accepted_before) < STORM  # killed mid-storm
        second = RunningDaemon.spawn(config, listen, log)
        second.wait_for(lambda: _ready(second), what="/-/ready")
        second.wait_for(lambda: len(fake.received) >= STORM, timeout=90, what="every message")
        time.sleep(1.0)  # anything sent twice would arrive now
    finally:
        kill_all(first, second)
    assert sorted(f["recipient"] for f in fake.received) == sorted(d.recipient for d in storm)
    repeats = {key for key in fake.requests if fake.requests.count(key) > 1}
    assert len(repeats) <= CONCURRENCY, repeats  # at most the ones in flight at the kill
    settled = {key for key, at in accepted_before.items() if at < killed_at - 0.5}
    assert settled and not settled & repeats  # accepted and recorded: never sent again
    outbox = Outbox(tmp_path / data["daemon"]["data_dir"])
    assert outbox.counts() == {("hook", "sent"): STORM}
