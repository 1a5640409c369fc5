"""The speedtest endpoint: paced downloads and counted uploads, on loopback."""

from __future__ import annotations

import pytest
from aiohttp import web

from wifimon.probes.http import ThroughputSettings, http_throughput
from wifimon.probes.speedtest_server import build_app


@pytest.fixture
async def server_url():
    runner = web.AppRunner(build_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/download"
    await runner.cleanup()


async def test_paced_download_measures_the_pace(server_url: str) -> None:
    settings = ThroughputSettings(streams=2, warmup_seconds=0.5, duration_seconds=1.5)
    result = await http_throughput(f"{server_url}?mbps=10", settings)
    assert result.ok, result.error
    assert result.download_bps == pytest.approx(20e6, rel=0.1)  # two streams of 10 Mbit/s


async def test_bad_pace_is_a_client_error(server_url: str) -> None:
    result = await http_throughput(
        f"{server_url}?mbps=fast",
        ThroughputSettings(streams=1, warmup_seconds=0, duration_seconds=1),
    )
    assert not result.ok and result.reason == "http_status"
    assert "HTTP 400" in (result.error or "")


async def test_a_cancelled_probe_leaves_no_stream_running(server_url: str) -> None:
    """The daemon cancels probes in flight when it stops: their streams must end with them."""
    import asyncio

    def streams() -> list[asyncio.Task[object]]:
        return [t for t in asyncio.all_tasks()
                if getattr(t.get_coro(), "__name__", "") == "_download_stream"]  # fmt: skip

    settings = ThroughputSettings(streams=3, warmup_seconds=0, duration_seconds=30)
    probe = asyncio.create_task(http_throughput(f"{server_url}?mbps=5", settings))
    await asyncio.sleep(0.5)  # streams are downloading
    assert len(streams()) == 3
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert streams() == []
