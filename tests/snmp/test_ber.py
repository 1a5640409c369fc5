"""The BER codec against pysnmp/pyasn1 (the reference), and against malformed input."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder as pyasn1_decoder
from pyasn1.codec.ber import encoder as pyasn1_encoder
from pysnmp.proto import api, rfc1902, rfc1905

from wifimon.snmp import ber
from wifimon.snmp.pysnmp_client import to_value

V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]

oids = st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=20).map(
    lambda arcs: "1.3." + ".".join(str(a) for a in arcs)
)
values = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(rfc1902.Integer32),
    st.binary(max_size=300).map(rfc1902.OctetString),
    oids.map(rfc1902.ObjectIdentifier),
    st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: rfc1902.IpAddress(".".join(map(str, t)))),
    st.integers(0, 2**32 - 1).map(rfc1902.Counter32),
    st.integers(0, 2**32 - 1).map(rfc1902.Gauge32),
    st.integers(0, 2**32 - 1).map(rfc1902.TimeTicks),
    st.integers(0, 2**64 - 1).map(rfc1902.Counter64),
    st.binary(max_size=20).map(rfc1902.Opaque),
    st.sampled_from(["noSuchObject", "noSuchInstance", "endOfMibView"]).map(
        lambda name: getattr(rfc1905, name)
    ),
)


def reference_response(
    version: int,
    community: bytes,
    request_id: int,
    varbinds,
    error_status: int = 0,
    error_index: int = 0,
) -> bytes:
    """A Response message encoded by pysnmp/pyasn1."""
    pdu = V2C.ResponsePDU()
    V2C.apiPDU.set_defaults(pdu)
    V2C.apiPDU.set_request_id(pdu, request_id)
    V2C.apiPDU.set_error_status(pdu, error_status)
    V2C.apiPDU.set_error_index(pdu, error_index)
    V2C.apiPDU.set_varbinds(pdu, [(rfc1902.ObjectName(o), v) for o, v in varbinds])
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_version(message, version)
    V2C.apiMessage.set_community(message, community)
    V2C.apiMessage.set_pdu(message, pdu)
    return pyasn1_encoder.encode(message)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(oids, values), max_size=30),
    st.integers(0, 2**31 - 1),
    st.binary(min_size=1, max_size=40),
    st.integers(0, 18),
)
def test_decodes_what_pysnmp_encodes(varbinds, request_id, community, status) -> None:
    data = reference_response(1, community, request_id, varbinds, status, min(status, 3))
    decoded = ber.decode_response(data)
    assert decoded.version == 1 and decoded.community == community
    assert decoded.request_id == request_id and decoded.error_status == status
    assert decoded.varbinds == [(oid, to_value(value)) for oid, value in varbinds]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(oids, min_size=1, max_size=30),
    st.integers(0, 2**31 - 1),
    st.sampled_from([ber.GET_REQUEST, ber.GET_NEXT_REQUEST, ber.GET_BULK_REQUEST]),
    st.integers(0, 100),
    st.integers(0, 100),
    st.sampled_from([0, 1]),
)
def test_pysnmp_decodes_what_we_encode(
    request_oids, request_id, pdu_type, nr, reps, version
) -> None:
    data = ber.encode_request(version, b"public", request_id, pdu_type, request_oids, nr, reps)
    message, rest = pyasn1_decoder.decode(data, asn1Spec=V2C.Message())
    assert rest == b""
    assert int(message["version"]) == version and bytes(message["community"]) == b"public"
    pdu = V2C.apiMessage.get_pdu(message)
    assert V2C.apiPDU.get_request_id(pdu) == request_id
    assert [str(o) for o, _ in V2C.apiPDU.get_varbinds(pdu)] == request_oids
    if pdu_type == ber.GET_BULK_REQUEST:
        assert V2C.apiBulkPDU.get_non_repeaters(pdu) == nr
        assert V2C.apiBulkPDU.get_max_repetitions(pdu) == reps


def test_every_value_type_explicitly() -> None:
    varbinds = [
        ("1.3.6.1.2.1.1.3.0", rfc1902.TimeTicks(4294967295)),
        ("1.3.6.1.2.1.31.1.1.1.6.1", rfc1902.Counter64(2**64 - 1)),
        ("1.3.6.1.2.1.2.2.1.10.1", rfc1902.Counter32(0)),
        ("1.3.6.1.4.1.1.1", rfc1902.Integer32(-(2**31))),
        ("1.3.6.1.4.1.1.2", rfc1902.IpAddress("198.18.0.1")),
        ("1.3.6.1.4.1.1.3", rfc1902.OctetString(b"\x00\xffRT\r\n")),
        ("2.999.1", rfc1902.ObjectIdentifier("1.3.6.1.4.1.14988.1")),
        ("1.3.6.1.4.1.1.5", rfc1905.noSuchInstance),
    ]
    decoded = ber.decode_response(reference_response(1, b"c", 7, varbinds))
    assert [v for _, v in decoded.varbinds] == [to_value(v) for _, v in varbinds]
    assert decoded.varbinds[6][0] == "2.999.1"


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_raise_only_ber_error(data: bytes) -> None:
    with contextlib.suppress(ber.BerError):
        ber.decode_response(data)
    ber.peek_request_id(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(oids, values), min_size=1, max_size=10), st.data())
def test_truncated_and_corrupted_messages_are_refused(varbinds, data) -> None:
    message = reference_response(1, b"public", 42, varbinds)
    cut = data.draw(st.integers(1, len(message) - 1))
    with pytest.raises(ber.BerError):
        ber.decode_response(message[:cut])
    position = data.draw(st.integers(0, len(message) - 1))
    corrupted = bytearray(message)
    corrupted[position] ^= data.draw(st.integers(1, 255))
    with contextlib.suppress(ber.BerError):
        ber.decode_response(bytes(corrupted))


@pytest.mark.parametrize(
    "data,reason",
    [
        (bytes.fromhex("3005020101"), "longer than its container"),
        (bytes.fromhex("30800201010400a2"), "unsupported length form"),
        (reference_response(1, b"c", 1, []) + b"\x00", "trailing bytes"),
        (bytes.fromhex("3008020103040163a200"), "not SNMPv1/v2c"),
    ],
)
def test_specific_malformations(data: bytes, reason: str) -> None:
    with pytest.raises(ber.BerError, match=reason):
        ber.decode_response(data)


def test_oversized_counter_is_refused() -> None:
    good = reference_response(1, b"c", 1, [("1.3.6.1.1", rfc1902.Counter32(5))])
    bad = good.replace(bytes.fromhex("410105"), bytes.fromhex("410601ffffffffff"))
    bad = bytes([bad[0], bad[1] + 5]) + bad[2:]  # the outer length no longer matches either
    with pytest.raises(ber.BerError):
        ber.decode_response(bad)
