"""SnmpClient for SNMPv1/v2c on the small BER codec and one UDP socket per address family.

SNMPv3 goes to the pysnmp client. Replies are matched by request id and must come from the
address the request went to, with the same community; anything else (late, duplicate,
foreign, malformed) is counted and dropped.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import random
import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from wifimon.errors import SnmpError
from wifimon.snmp import ber
from wifimon.snmp.client import ExchangeClient, PduKind
from wifimon.snmp.pysnmp_client import PysnmpClient
from wifimon.snmp.types import CommunityAuth, SnmpTarget, VarBind
from wifimon.snmp.walk import DEFAULT_MAX_ROWS, DEFAULT_VARBINDS_PER_REQUEST

log = logging.getLogger(__name__)

REQUEST_ID_LIMIT = 2**31 - 1
_PDU_TYPES = {"get": ber.GET_REQUEST, "next": ber.GET_NEXT_REQUEST, "bulk": ber.GET_BULK_REQUEST}


@dataclass
class _Pending:
    address: tuple[str, int]
    community: bytes
    future: asyncio.Future[ber.Response]


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, client: FastSnmpClient) -> None:
        self.client = client

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.client._received(data, (addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        log.debug("udp error: %s", exc)


class FastSnmpClient(ExchangeClient):
    """The polling hot path; `dropped` counts replies ignored, by why."""

    def __init__(
        self,
        varbinds_per_request: int = DEFAULT_VARBINDS_PER_REQUEST,
        v3_client: PysnmpClient | None = None,
        first_request_id: int | None = None,
    ) -> None:
        super().__init__(varbinds_per_request)
        self._v3 = v3_client or PysnmpClient(varbinds_per_request)
        self._transports: dict[int, asyncio.DatagramTransport] = {}
        self._opening: dict[int, asyncio.Lock] = {}
        self._pending: dict[int, _Pending] = {}
        # ids are handed out in sequence from here (random unless a test pins it)
        self._next_id = first_request_id or random.randrange(1, REQUEST_ID_LIMIT)
        self.dropped: Counter[str] = Counter()

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> list[VarBind]:
        if target.version == "3":
            return await self._v3.get(target, oids)
        return await super().get(target, oids)

    async def walk_many(
        self, target: SnmpTarget, roots: Sequence[str], max_rows: int = DEFAULT_MAX_ROWS
    ) -> dict[str, list[VarBind]]:
        if target.version == "3":
            return await self._v3.walk_many(target, roots, max_rows)
        return await super().walk_many(target, roots, max_rows)

    async def _transport(self, family: int) -> asyncio.DatagramTransport:
        """One socket per address family, opened on first use."""
        lock = self._opening.setdefault(family, asyncio.Lock())
        async with lock:
            if family not in self._transports:
                bind = ("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0)
                transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                    lambda: _Protocol(self), local_addr=bind, family=family
                )
                self._transports[family] = transport
            return self._transports[family]

    def _request_id(self) -> int:
        """Next id not in flight; ids wrap below 2^31."""
        while True:
            self._next_id = self._next_id % REQUEST_ID_LIMIT + 1
            if self._next_id not in self._pending:
                return self._next_id

    async def _exchange(
        self, target: SnmpTarget, kind: PduKind, oids: Sequence[str], repetitions: int = 0
    ) -> tuple[str, int, list[VarBind]]:
        if not isinstance(target.auth, CommunityAuth):
            raise SnmpError(f"{target.describe()}: needs a community", reason="protocol")
        family, address = _address(target)
        transport = await self._transport(family)
        community = target.auth.community.reveal().encode()
        request_id = self._request_id()
        version = ber.VERSION_1 if target.version == "1" else ber.VERSION_2C
        try:
            packet = ber.encode_request(
                version, community, request_id, _PDU_TYPES[kind], list(oids), 0, repetitions
            )
        except ber.BerError as exc:
            raise SnmpError(f"{target.describe()}: {exc}", reason="protocol") from exc
        future: asyncio.Future[ber.Response] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = _Pending(address, community, future)
        try:
            response = await self._send_with_retries(transport, packet, address, future, target)
        finally:
            self._pending.pop(request_id, None)
        return (
            response.error_name if response.error_status else "",
            response.error_index,
            (response.varbinds),
        )

    async def _send_with_retries(
        self,
        transport: asyncio.DatagramTransport,
        packet: bytes,
        address: tuple[str, int],
        future: asyncio.Future[ber.Response],
        target: SnmpTarget,
    ) -> ber.Response:
        """Send, wait `timeout`, resend up to `retries` times (same id: a late reply counts)."""
        for _ in range(target.retries + 1):
            try:
                transport.sendto(packet, address)
            except OSError as exc:
                raise SnmpError(f"{target.describe()}: {exc.strerror}", reason="network") from exc
            try:
                return await asyncio.wait_for(asyncio.shield(future), target.timeout)
            except TimeoutError:
                continue
        raise SnmpError(f"{target.describe()}: no answer", reason="timeout")

    def _received(self, data: bytes, source: tuple[str, int]) -> None:
        """Match a datagram to its request, or drop it with a reason."""
        request_id = ber.peek_request_id(data)
        if request_id is None:
            self.dropped["malformed"] += 1
            return
        pending = self._pending.get(request_id)
        if pending is None or pending.future.done():
            self.dropped["unexpected_id"] += 1  # late, duplicate or not ours
            return
        if _normal(source) != pending.address:
            self.dropped["wrong_source"] += 1
            return
        try:
            response = ber.decode_response(data)
        except ber.BerError as exc:
            pending.future.set_exception(
                SnmpError(f"{source[0]}:{source[1]}: malformed response ({exc})", "malformed")
            )
            return
        if response.community != pending.community:
            self.dropped["wrong_community"] += 1
            return
        pending.future.set_result(response)

    async def close(self) -> None:
        for transport in self._transports.values():
            transport.close()
        self._transports.clear()
        await self._v3.close()


@functools.lru_cache(maxsize=65536)
def _address_of(host: str, port: int) -> tuple[int, tuple[str, int]]:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return -1, (host, port)
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return family, (str(ip), port)


def _address(target: SnmpTarget) -> tuple[int, tuple[str, int]]:
    """(family, normalised address) of a target; targets are IP literals."""
    family, address = _address_of(target.host, target.port)
    if family < 0:
        raise SnmpError(f"{target.describe()}: not an IP address", reason="address")
    return family, address


@functools.lru_cache(maxsize=65536)
def _normal(source: tuple[str, int]) -> tuple[str, int]:
    host = source[0].split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return source
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip), source[1]
