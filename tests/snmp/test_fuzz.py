"""Any answer a device can send: never a crash, never an impossible number (issue #24).

Real recordings (ours and ../shared/devices) are mutated structure-aware (tests/snmp/
mutations.py) and replayed through the poller with the profile each recording is for, and
encoded as Response messages, damaged, and fed to the codec and to the client over UDP.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from ipaddress import ip_network
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DEVICE_RECORDINGS
from tests.snmp.mutations import encode_response, mutate_bytes, mutate_records
from tests.snmp.oracle import impossible_values
from wifimon.errors import SnmpError
from wifimon.measurements import ApSample
from wifimon.poller import poll_ap
from wifimon.secrets import Secret
from wifimon.snmp import ber, snmprec
from wifimon.snmp.fake import FakeSnmpClient
from wifimon.snmp.fast_client import FastSnmpClient
from wifimon.snmp.profiles import load_profiles
from wifimon.snmp.types import CommunityAuth, SnmpTarget, SnmpValue, VarBind

PROFILES = load_profiles()
TARGET = SnmpTarget("192.0.2.1")


def _recordings() -> list[tuple[Path, str]]:
    """Each device recording with the profile its expectation names."""
    found = []
    for path in sorted(DEVICE_RECORDINGS.glob("*.snmprec")):
        expect = yaml.safe_load(path.with_suffix(".expect.yaml").read_text())
        found.append((path, expect["profile"]))
    return found


RECORDINGS = _recordings()
LOADED = {path: snmprec.load(path) for path, _ in RECORDINGS}
SETTINGS = settings(max_examples=400, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


def poll_records(records: list[VarBind], profile: str, pools: bool = False) -> ApSample:
    """One poll of a (mutated) recording, with an address pool sometimes."""
    client = FakeSnmpClient(records=records)
    pool = [ip_network("10.5.0.0/16")] if pools else []
    return asyncio.run(poll_ap(client, TARGET, "ap", PROFILES, profile, address_pools=pool))


@SETTINGS
@given(rng=st.randoms(use_true_random=False), recording=st.sampled_from(RECORDINGS))
def test_mutated_answers_never_crash_a_poll_or_reach_a_sample_as_impossible_numbers(
    rng: random.Random, recording: tuple[Path, str]
) -> None:
    path, profile = recording
    records = mutate_records(LOADED[path], rng)
    sample = poll_records(records, profile, pools=rng.random() < 0.2)
    assert impossible_values(sample, PROFILES.get(profile)) == []


@SETTINGS
@given(rng=st.randoms(use_true_random=False), recording=st.sampled_from(RECORDINGS))
def test_mutated_answers_through_detection_never_crash(
    rng: random.Random, recording: tuple[Path, str]
) -> None:
    path, _ = recording
    sample = poll_records(mutate_records(LOADED[path], rng), "auto")
    if sample.profile is not None:
        assert impossible_values(sample, PROFILES.get(sample.profile)) == []


@SETTINGS
@given(rng=st.randoms(use_true_random=False), recording=st.sampled_from(RECORDINGS))
def test_damaged_messages_raise_only_the_codecs_error(
    rng: random.Random, recording: tuple[Path, str]
) -> None:
    records = LOADED[recording[0]]
    start = rng.randrange(len(records))
    message = encode_response(7, mutate_records(records[start : start + 12], rng))
    damaged = mutate_bytes(message, rng)
    try:
        response = ber.decode_response(damaged)
    except ber.BerError:
        return
    for _, value in response.varbinds:
        assert_codec_domain(value)


def assert_codec_domain(value: SnmpValue) -> None:
    """What the codec hands on is within its SNMP type."""
    bits = {"integer": 32, "counter32": 32, "gauge32": 32, "timeticks": 32, "counter64": 64}
    if value.kind in bits:
        assert isinstance(value.value, int)
        low = -(1 << 31) if value.kind == "integer" else 0
        high = (1 << 31) - 1 if value.kind == "integer" else (1 << bits[value.kind]) - 1
        assert low <= value.value <= high


def test_crafted_oids_never_grow_the_oid_cache_past_its_bound() -> None:
    """Long OIDs are decoded but not remembered; many short ones stay within the bytes."""
    rng = random.Random(24)
    for n in range(3000):
        arcs = ".".join(str(rng.randrange(1 << 32)) for _ in range(100))
        message = encode_response(n, [(f"1.3.6.1.{arcs}", SnmpValue("integer", 1))])
        ber.decode_response(message)
    entries, size = ber.oid_cache_size()
    assert size <= ber.OID_CACHE_MAX_BYTES and entries <= ber.OID_CACHE_LIMIT
    assert all(len(raw) <= ber.CACHED_OID_MAX_BYTES for raw in list(ber._OID_CACHE))


@pytest.mark.parametrize(
    "contents",
    [
        b"\x2b" + b"\xff" * 40 + b"\x7f",  # one arc of 287 bits
        b"\x2b" + b"\x90\x80\x80\x80\x00",  # 2^32: one past a 32-bit arc
        b"\x2b" + b"\x01" * 200,  # 201 arcs
    ],
)
def test_an_oid_no_agent_can_send_is_refused_by_the_codec(contents: bytes) -> None:
    with pytest.raises(ber.BerError):
        ber.decode_oid(contents, 0, len(contents))


# ------------------------------------------------------------------ through the client


class _DamagingAgent(asyncio.DatagramProtocol):
    """Answers every request with a damaged or type-mutated copy of a recording's rows,
    carrying the request's id so that the client takes it for its answer."""

    def __init__(self, records: list[VarBind], rng: random.Random) -> None:
        self.records, self.rng = records, rng
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        request_id = _request_id(data)
        start = self.rng.randrange(len(self.records))
        rows = mutate_records(self.records[start : start + 10], self.rng)
        message = encode_response(request_id, rows)
        if self.rng.random() < 0.5:
            message = mutate_bytes(message, self.rng)
        assert self.transport is not None
        self.transport.sendto(message[:65000], addr)


def _request_id(data: bytes) -> int:
    """The request id of a GET/GETNEXT/GETBULK (the client's own, well-formed message)."""
    _, start, stop = ber._header(data, 0, len(data))
    for _ in range(2):  # version, community
        _, _, start = ber._header(data, start, stop)
    _, pdu_start, pdu_stop = ber._header(data, start, stop)
    _, id_start, id_stop = ber._header(data, pdu_start, pdu_stop)
    return ber._int(data, id_start, id_stop)


@settings(SETTINGS, max_examples=60)
@given(rng=st.randoms(use_true_random=False), recording=st.sampled_from(RECORDINGS))
def test_damaged_answers_over_udp_leave_the_client_only_with_its_own_errors(
    rng: random.Random, recording: tuple[Path, str]
) -> None:
    path, profile = recording

    async def run() -> ApSample:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _DamagingAgent(LOADED[path], rng), local_addr=("127.0.0.1", 0)
        )
        port = transport.get_extra_info("sockname")[1]
        target = SnmpTarget("127.0.0.1", port, "2c", CommunityAuth(Secret("public")), 0.2, 0)
        client = FastSnmpClient()
        try:
            with contextlib.suppress(SnmpError):
                await client.get(target, ["1.3.6.1.2.1.1.5.0"])
            return await poll_ap(client, target, "ap", PROFILES, profile)
        finally:
            await client.close()
            transport.close()

    sample = asyncio.run(run())
    assert impossible_values(sample, PROFILES.get(profile)) == []
