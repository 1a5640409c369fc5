"""ICMP echo over one shared raw socket (scapy builds and parses), TCP connect as fallback."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import random
import socket
import time
from dataclasses import dataclass

from wifimon.probes.results import ProbeResult
from wifimon.probes.stats import jitter

log = logging.getLogger(__name__)

DEFAULT_COUNT = 10
DEFAULT_SPACING_SECONDS = 0.2
DEFAULT_TIMEOUT_SECONDS = 1.0
DEFAULT_TCP_PORT = 80
PAYLOAD = b"wifimon-probe"


def echo_request(ident: int, seq: int) -> bytes:
    """An ICMP echo request (no IP header: the kernel adds it)."""
    from scapy.layers.inet import ICMP
    from scapy.packet import Raw

    return bytes(ICMP(type=8, id=ident, seq=seq) / Raw(PAYLOAD))


def parse_echo_reply(data: bytes) -> tuple[str, int, int] | None:
    """(source, identifier, sequence) of an IPv4 echo reply; None for anything else."""
    from scapy.layers.inet import ICMP, IP

    try:
        packet = IP(data)
    except Exception:  # scapy raises many types on garbage; garbage is simply not a reply
        return None
    icmp = packet.getlayer(ICMP)
    if icmp is None or icmp.type != 0:
        return None
    return str(packet.src), int(icmp.id), int(icmp.seq)


@dataclass
class _Pending:
    sent_at: float
    future: asyncio.Future[float]


class IcmpProber:
    """One raw ICMP socket for every probe; replies matched by source, identifier, sequence.

    Without raw-socket permission it says so once and answers with TCP connect probes.
    """

    def __init__(self, tcp_port: int = DEFAULT_TCP_PORT, first_ident: int | None = None) -> None:
        self.tcp_port = tcp_port
        self._sock: socket.socket | None = None
        self._raw_unavailable = False
        self._pending: dict[tuple[str, int, int], _Pending] = {}
        # Identifiers are handed out in sequence from here (random unless a test pins it).
        self._next_ident = first_ident if first_ident is not None else random.randrange(1, 0xFFFF)

    @property
    def uses_raw_socket(self) -> bool:
        return self._open() is not None

    def _open(self) -> socket.socket | None:
        """Open the shared socket on first use; remember a permission failure."""
        if self._sock is not None or self._raw_unavailable:
            return self._sock
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        except PermissionError:
            self._raw_unavailable = True
            log.warning(
                "ICMP needs root or CAP_NET_RAW; wifimon has neither, so reachability is "
                "measured with TCP connects to port %d instead",
                self.tcp_port,
            )
            return None
        sock.setblocking(False)
        echo_request(0, 0)  # import and warm scapy now, not inside the first measurement
        asyncio.get_running_loop().add_reader(sock.fileno(), self._readable, sock)
        self._sock = sock
        return sock

    def _readable(self, sock: socket.socket) -> None:
        """Drain the socket; anything not awaited (late, foreign, other traffic) is dropped."""
        while True:
            try:
                data, _ = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("icmp socket error: %s", exc)
                return
            self.handle_packet(data, time.monotonic())

    def handle_packet(self, data: bytes, received_at: float) -> None:
        """Resolve the probe waiting for this reply, if any."""
        parsed = parse_echo_reply(data)
        if parsed is None:
            return
        pending = self._pending.pop(parsed, None)
        if pending is not None and not pending.future.done():
            pending.future.set_result(received_at - pending.sent_at)

    def _ident(self) -> int:
        self._next_ident = self._next_ident % 0xFFFF + 1
        return self._next_ident

    async def ping(
        self,
        target: str,
        count: int = DEFAULT_COUNT,
        spacing: float = DEFAULT_SPACING_SECONDS,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> ProbeResult:
        """`count` echoes `spacing` apart; each waits up to `timeout` for its reply."""
        started = time.time()
        sock = self._open() if ipaddress.ip_address(target).version == 4 else None
        if sock is None:
            return await tcp_ping(target, self.tcp_port, count, spacing, timeout)
        ident = self._ident()
        waits = []
        for seq in range(count):
            waits.append(asyncio.ensure_future(self._one(sock, target, ident, seq, timeout)))
            if seq < count - 1:
                await asyncio.sleep(spacing)
        outcomes = await asyncio.gather(*waits)
        return summarise("icmp", target, started, list(outcomes))

    async def _one(
        self, sock: socket.socket, target: str, ident: int, seq: int, timeout: float
    ) -> float | str:
        """RTT of one echo, or the reason it has none."""
        key = (target, ident, seq)
        packet = echo_request(ident, seq)
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._pending[key] = _Pending(time.monotonic(), future)
        try:
            sock.sendto(packet, (target, 0))
        except OSError as exc:
            self._pending.pop(key, None)
            return _os_reason(exc)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return "timeout"
        finally:
            self._pending.pop(key, None)

    def close(self) -> None:
        if self._sock is not None:
            asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None


def _os_reason(exc: OSError) -> str:
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "unreachable"
    return "send_error"


async def tcp_ping(
    target: str, port: int, count: int, spacing: float, timeout: float
) -> ProbeResult:
    """Reachability by TCP connect: an answer (accept or refuse) proves the host is there."""
    started = time.time()
    outcomes: list[float | str] = []
    for seq in range(count):
        began = time.monotonic()
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(target, port), timeout)
            writer.close()
            outcomes.append(time.monotonic() - began)
        except ConnectionRefusedError:
            outcomes.append(time.monotonic() - began)
        except TimeoutError:
            outcomes.append("timeout")
        except OSError as exc:
            outcomes.append(_os_reason(exc))
        if seq < count - 1:
            await asyncio.sleep(spacing)
    return summarise("tcp", target, started, outcomes)


def summarise(kind: str, target: str, started: float, outcomes: list[float | str]) -> ProbeResult:
    """Loss, RTT statistics and jitter from per-echo outcomes (RTT or failure reason)."""
    rtts = [o for o in outcomes if isinstance(o, float)]
    failures = [o for o in outcomes if isinstance(o, str)]
    result = ProbeResult(
        kind=kind,  # type: ignore[arg-type]
        target=target,
        ok=bool(rtts),
        started=started,
        duration_seconds=time.time() - started,
        sent=len(outcomes),
        received=len(rtts),
        loss_ratio=1 - len(rtts) / len(outcomes) if outcomes else None,
    )
    if rtts:
        result.rtt_min_seconds = min(rtts)
        result.rtt_max_seconds = max(rtts)
        result.rtt_avg_seconds = sum(rtts) / len(rtts)
        result.jitter_seconds = jitter(rtts)
    else:
        reason = max(set(failures), key=failures.count) if failures else "timeout"
        result.reason = reason
        result.error = f"no reply from {target} ({reason})"
    return result
