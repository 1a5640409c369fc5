"""ICMP reply matching without a network: late, foreign and malformed packets are ignored."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest
from scapy.layers.inet import ICMP, IP
from scapy.packet import Raw

from wifimon.probes.icmp import PAYLOAD, IcmpProber, summarise


def reply(src: str, ident: int, seq: int) -> bytes:
    return bytes(IP(src=src, dst="198.18.0.1") / ICMP(type=0, id=ident, seq=seq) / Raw(PAYLOAD))


async def test_only_the_awaited_source_identifier_and_sequence_resolve() -> None:
    prober = IcmpProber()
    loop = asyncio.get_running_loop()
    future: asyncio.Future[float] = loop.create_future()
    from wifimon.probes.icmp import _Pending

    prober._pending[("198.18.1.2", 77, 3)] = _Pending(time.monotonic(), future)
    for foreign in (
        reply("198.18.9.2", 77, 3),
        reply("198.18.1.2", 78, 3),
        reply("198.18.1.2", 77, 4),
        b"\x00garbage",
        bytes(IP(src="198.18.1.2") / ICMP(type=8, id=77, seq=3)),
    ):
        prober.handle_packet(foreign, time.monotonic())
    assert not future.done()
    prober.handle_packet(reply("198.18.1.2", 77, 3), time.monotonic())
    assert future.done() and future.result() >= 0


def test_summary_of_mixed_outcomes() -> None:
    result = summarise("icmp", "198.18.1.2", time.time(), [0.010, "timeout", 0.014, 0.012])
    assert result.ok and result.reachable
    assert (result.sent, result.received, result.loss_ratio) == (4, 3, 0.25)
    assert result.rtt_max_seconds == 0.014
    assert result.jitter_seconds == pytest.approx(0.003)


def test_summary_of_total_loss_names_the_reason() -> None:
    result = summarise("icmp", "198.18.1.2", time.time(), ["timeout"] * 3)
    assert not result.ok and result.reachable is False
    assert result.loss_ratio == 1.0
    assert result.error == "no reply from 198.18.1.2 (timeout)"


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping CAP_NET_RAW needs root to start from")
def test_without_raw_socket_permission_it_says_so_once_and_uses_tcp() -> None:
    code = (
        "import asyncio, logging\n"
        "logging.basicConfig(level=logging.WARNING)\n"
        "from wifimon.probes.icmp import IcmpProber\n"
        "async def main():\n"
        "    p = IcmpProber(tcp_port=9)\n"
        "    a = await p.ping('127.0.0.1', count=2, spacing=0.05, timeout=0.5)\n"
        "    b = await p.ping('127.0.0.1', count=2, spacing=0.05, timeout=0.5)\n"
        "    print(a.kind, a.received, b.kind, b.received)\n"
        "asyncio.run(main())\n"
    )
    result = subprocess.run(
        ["setpriv", "--bounding-set", "-net_raw", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["tcp", "2", "tcp", "2"]  # refused port 9 = host is there
    assert result.stderr.count("CAP_NET_RAW") == 1
