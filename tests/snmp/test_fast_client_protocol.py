"""The fast client against agents that misbehave: wrong source, late, duplicate, foreign
community, garbage, and many requests in flight with wrapping request ids."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from pyasn1.codec.ber import decoder as pyasn1_decoder
from pysnmp.proto import rfc1902

from tests.snmp.test_ber import V2C, reference_response
from wifimon.errors import SnmpError
from wifimon.secrets import Secret
from wifimon.snmp.fast_client import REQUEST_ID_LIMIT, FastSnmpClient
from wifimon.snmp.types import CommunityAuth, SnmpTarget

Behaviour = Callable[["Agent", bytes, tuple[str, int]], None]


@dataclass
class Agent(asyncio.DatagramProtocol):
    """A scripted SNMP agent: answers each request with the request's OIDs echoed as values."""

    behaviour: str = "normal"
    transport: asyncio.DatagramTransport | None = None
    other: asyncio.DatagramTransport | None = None
    request_ids: list[int] = field(default_factory=list)

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        self.transport = transport

    def answer(self, data: bytes, community: bytes | None = None) -> tuple[bytes, int]:
        message, _ = pyasn1_decoder.decode(data, asn1Spec=V2C.Message())
        pdu = V2C.apiMessage.get_pdu(message)
        request_id = int(V2C.apiPDU.get_request_id(pdu))
        oids = [str(o) for o, _ in V2C.apiPDU.get_varbinds(pdu)]
        varbinds = [(o, rfc1902.OctetString(o.encode())) for o in oids]
        own = bytes(message["community"]) if community is None else community
        return reference_response(1, own, request_id, varbinds), request_id

    def datagram_received(self, data: bytes, addr) -> None:  # type: ignore[no-untyped-def]
        assert self.transport is not None
        reply, request_id = self.answer(data)
        self.request_ids.append(request_id)
        kind = self.behaviour
        if kind == "normal":
            self.transport.sendto(reply, addr)
        elif kind == "duplicate":
            self.transport.sendto(reply, addr)
            self.transport.sendto(reply, addr)
        elif kind == "wrong_source" and self.other is not None:
            self.other.sendto(reply, addr)
        elif kind == "late":
            asyncio.get_running_loop().call_later(0.6, self.transport.sendto, reply, addr)
        elif kind == "wrong_community":
            self.transport.sendto(self.answer(data, b"other")[0], addr)
        elif kind == "garbage_first":
            self.transport.sendto(b"\x30\x03\x02\x01", addr)
            self.transport.sendto(reply[:-3], addr)  # same id, truncated
        elif kind == "slow_then_normal":
            asyncio.get_running_loop().call_later(
                0.05 * (request_id % 7), self.transport.sendto, reply, addr
            )


@pytest.fixture
async def agent() -> AsyncIterator[tuple[Agent, int]]:
    loop = asyncio.get_running_loop()
    other, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    transport, protocol = await loop.create_datagram_endpoint(Agent, local_addr=("127.0.0.1", 0))
    protocol.other = other
    yield protocol, transport.get_extra_info("sockname")[1]
    transport.close()
    other.close()


def target(port: int, timeout: float = 0.3, retries: int = 0) -> SnmpTarget:
    return SnmpTarget("127.0.0.1", port, "2c", CommunityAuth(Secret("public")), timeout, retries)


@pytest.fixture
async def client() -> AsyncIterator[FastSnmpClient]:
    c = FastSnmpClient()
    yield c
    await c.close()


async def test_normal_answer(agent, client) -> None:
    _, port = agent
    result = await client.get(target(port), ["1.3.6.1.2.1.1.5.0"])
    assert result[0][1].value == b"1.3.6.1.2.1.1.5.0"


async def test_answer_from_another_port_is_ignored(agent, client) -> None:
    protocol, port = agent
    protocol.behaviour = "wrong_source"
    with pytest.raises(SnmpError) as info:
        await client.get(target(port), ["1.3.6.1.2.1.1.5.0"])
    assert info.value.reason == "timeout"
    assert client.dropped["wrong_source"] == 1


async def test_late_answer_after_the_timeout_is_dropped(agent, client) -> None:
    protocol, port = agent
    protocol.behaviour = "late"
    with pytest.raises(SnmpError):
        await client.get(target(port, timeout=0.2), ["1.3.6.1.2.1.1.5.0"])
    protocol.behaviour = "normal"
    result = await client.get(target(port), ["1.3.6.1.2.1.1.6.0"])
    assert result[0][1].value == b"1.3.6.1.2.1.1.6.0"  # not the late answer to the first one
    await asyncio.sleep(0.6)
    assert client.dropped["unexpected_id"] == 1


async def test_late_answer_within_the_retries_is_taken(agent, client) -> None:
    protocol, port = agent
    protocol.behaviour = "late"
    result = await client.get(target(port, timeout=0.4, retries=2), ["1.3.6.1.2.1.1.5.0"])
    assert result[0][1].value == b"1.3.6.1.2.1.1.5.0"
    assert len(set(protocol.request_ids)) == 1  # a retry keeps its request id


async def test_duplicate_answer_is_used_once(agent, client) -> None:
    protocol, port = agent
    protocol.behaviour = "duplicate"
    first = await client.get(target(port), ["1.3.6.1.2.1.1.5.0"])
    await asyncio.sleep(0.05)
    protocol.behaviour = "normal"
    second = await client.get(target(port), ["1.3.6.1.2.1.1.6.0"])
    assert first[0][1].value == b"1.3.6.1.2.1.1.5.0"
    assert second[0][1].value == b"1.3.6.1.2.1.1.6.0"
    assert client.dropped["unexpected_id"] == 1


async def test_answer_with_another_community_is_ignored(agent, client) -> None:
    protocol, port = agent
    protocol.behaviour = "wrong_community"
    with pytest.raises(SnmpError):
        await client.get(target(port), ["1.3.6.1.2.1.1.5.0"])
    assert client.dropped["wrong_community"] == 1


async def test_garbage_and_a_malformed_answer_fail_the_request_as_malformed(agent, client) -> None:
    protocol, port = agent
    protocol.behaviour = "garbage_first"
    with pytest.raises(SnmpError) as info:
        await client.get(target(port), ["1.3.6.1.2.1.1.5.0"])
    assert info.value.reason in {"malformed", "timeout"}
    assert client.dropped["malformed"] >= 1


async def test_many_requests_in_flight_across_the_id_wrap(agent) -> None:
    protocol, port = agent
    protocol.behaviour = "slow_then_normal"
    client = FastSnmpClient(first_request_id=REQUEST_ID_LIMIT - 100)
    try:
        oids = [f"1.3.6.1.4.1.{i}.0" for i in range(400)]
        results = await asyncio.gather(*(client.get(target(port, timeout=2), [o]) for o in oids))
    finally:
        await client.close()
    assert [r[0][1].value for r in results] == [o.encode() for o in oids]
    assert len(set(protocol.request_ids)) == 400
    assert max(protocol.request_ids) <= REQUEST_ID_LIMIT and min(protocol.request_ids) >= 1
