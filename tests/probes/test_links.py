"""Probes on real links: network-namespace sites, shaped with tc tbf (needs root).

Every test caps its traffic: at most 3 s measured after a 1 s warm-up per probe.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time

import pytest

from tests.netsite import IPERF3_PORT, SPEEDTEST_PORT, site
from wifimon.probes.http import ThroughputSettings, http_throughput
from wifimon.probes.icmp import IcmpProber
from wifimon.probes.iperf3 import iperf3_throughput

SHORT = ThroughputSettings(streams=4, warmup_seconds=1.0, duration_seconds=3.0)
SLA_MIN_BPS = 50e6


def url(address: str, port: int = SPEEDTEST_PORT) -> str:
    return f"http://{address}:{port}/download"


@pytest.mark.parametrize("rate,below_sla", [(40, True), (80, False)])
async def test_http_throughput_of_a_shaped_site(rate: int, below_sla: bool) -> None:
    with site(10 + rate // 40, rate_mbit=rate) as s:
        s.start_speedtest_server()
        result = await http_throughput(url(s.address), SHORT)
    assert result.ok, result.error
    assert result.download_bps == pytest.approx(rate * 1e6, rel=0.10)
    assert result.download_p10_bps is not None
    assert result.download_p10_bps <= result.download_bps
    assert (result.download_bps < SLA_MIN_BPS) is below_sla
    assert result.bytes > 0
    assert result.duration_seconds < SHORT.warmup_seconds + SHORT.duration_seconds + 2


async def test_http_upload_is_measured_too() -> None:
    with site(13, rate_mbit=80, upload_mbit=20) as s:
        s.start_speedtest_server()
        result = await http_throughput(
            url(s.address),
            ThroughputSettings(streams=2, warmup_seconds=1.0, duration_seconds=3.0, upload=True),
        )
    assert result.ok, result.error
    assert result.download_bps == pytest.approx(80e6, rel=0.10)
    # counted at the sender in 1 s buckets; TCP through the 20 Mbit/s shaper carries ~19
    assert result.upload_bps == pytest.approx(20e6, rel=0.2)


async def test_icmp_rtt_is_measured() -> None:
    prober = IcmpProber()
    try:
        with site(14, rate_mbit=40) as s:
            result = await prober.ping(s.address, count=5, spacing=0.05, timeout=1.0)
    finally:
        prober.close()
    assert result.kind == "icmp" and result.ok
    assert result.loss_ratio == 0.0
    assert result.rtt_avg_seconds is not None and 0 < result.rtt_avg_seconds < 0.05
    assert result.jitter_seconds is not None


async def test_link_down_means_total_loss_and_unreachable() -> None:
    prober = IcmpProber()
    try:
        with site(15) as s:
            s.start_speedtest_server()
            s.link_down()
            started = time.monotonic()
            ping = await prober.ping(s.address, count=3, spacing=0.05, timeout=0.5)
            http = await http_throughput(url(s.address), SHORT)
            elapsed = time.monotonic() - started
    finally:
        prober.close()
    assert ping.loss_ratio == 1.0 and ping.reachable is False and not ping.ok
    assert not http.ok and http.error and http.reason in {"connect", "stalled"}
    assert elapsed < 1.5 + SHORT.warmup_seconds + SHORT.duration_seconds + 3


async def test_reply_from_an_unexpected_source_is_ignored() -> None:
    """Site 17 is down; site 16 answers with echo replies carrying the right id and seq."""
    prober = IcmpProber(first_ident=4000)  # the probe below uses identifier 4001
    forge = (
        "import time\n"
        "from scapy.all import IP, ICMP, Raw, send, conf\n"
        "conf.verb = 0\n"
        "end = time.time() + 4\n"
        "while time.time() < end:\n"
        "    for seq in range(5):\n"
        "        send(IP(dst='198.18.16.1')/ICMP(type=0, id=4001, seq=seq)/Raw(b'wifimon-probe'))\n"
        "    time.sleep(0.05)\n"
    )
    try:
        with site(16) as liar, site(17) as silent:
            silent.link_down()
            forger = liar.spawn(sys.executable, "-c", forge)
            await asyncio.sleep(1.5)  # scapy takes a moment to import in the forger
            result = await prober.ping(silent.address, count=5, spacing=0.1, timeout=0.5)
            forger.wait(timeout=10)
    finally:
        prober.close()
    assert result.received == 0 and result.loss_ratio == 1.0


async def test_server_that_accepts_then_stalls_ends_at_the_deadline() -> None:
    stall = (
        "import socket, time\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "s.bind(('198.18.18.2', 8081)); s.listen(16); held = []\n"
        "end = time.time() + 30\n"
        "s.settimeout(0.5)\n"
        "while time.time() < end:\n"
        "    try: held.append(s.accept())\n"
        "    except OSError: pass\n"
    )
    with site(18) as s:
        s.spawn(sys.executable, "-c", stall)
        from tests.netsite import wait_for_tcp

        wait_for_tcp(s.address, 8081)
        started = time.monotonic()
        result = await http_throughput(url(s.address, 8081), SHORT)
        elapsed = time.monotonic() - started
    assert not result.ok
    assert result.reason == "stalled"
    assert "stalled" in (result.error or "")
    assert elapsed < SHORT.warmup_seconds + SHORT.duration_seconds + 1.5


async def test_refused_connection_is_a_clear_error_at_once() -> None:
    with site(19) as s:
        started = time.monotonic()
        result = await http_throughput(url(s.address), SHORT)
    assert not result.ok and result.reason == "refused"
    assert result.error == f"download from {url(s.address)}: connection refused"
    assert time.monotonic() - started < 2


async def blocking_client(address: str, port: int, timeout: float = 20.0
                          ) -> subprocess.Popen[bytes]:  # fmt: skip
    """An iperf3 client that holds the server for a few seconds, once its test is under way
    (its control and data connections are up). A client that meets the server still busy
    with an earlier connection exits at once; it is started again."""
    deadline = time.monotonic() + timeout
    blocker: subprocess.Popen[bytes] | None = None
    while time.monotonic() < deadline:
        if blocker is None or blocker.poll() is not None:
            blocker = subprocess.Popen(
                ["iperf3", "--client", address, "--port", str(port), "--time", "4", "--reverse"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        listing = subprocess.run(["ss", "-Htn", "state", "established", f"dport = :{port}"],
                                 capture_output=True, text=True).stdout  # fmt: skip
        if len(listing.splitlines()) >= 2:
            return blocker
        await asyncio.sleep(0.1)
    if blocker is not None:
        blocker.kill()
    raise AssertionError("the blocking iperf3 client never got its test under way")


@pytest.mark.skipif(
    shutil.which("iperf3") is None,
    reason="iperf3 is not installed (deploy/test.sh installs it when run as root)",
)
async def test_iperf3_against_a_real_server_including_busy() -> None:
    with site(20, rate_mbit=40) as s:
        s.start_iperf3_server()
        blocker = await blocking_client(s.address, IPERF3_PORT)
        busy = await iperf3_throughput(s.address, SHORT, busy_retries=0)
        retried = await iperf3_throughput(s.address, SHORT, busy_retries=4, busy_delay=1.5)
        blocker.wait(timeout=20)
    assert not busy.ok and busy.reason == "busy"
    assert "busy" in (busy.error or "")
    assert retried.ok, retried.error
    assert retried.download_bps == pytest.approx(40e6, rel=0.10)
    assert retried.download_p10_bps is not None and retried.bytes > 0
