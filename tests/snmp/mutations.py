"""Structure-aware mutations of real recordings, for the fuzz test and its benchmark.

A device can send any bytes; what wifimon must survive falls in two layers:
- varbinds the codec accepts but a profile does not expect (wrong SNMP types, extreme
  values, huge or non-UTF-8 strings, long OIDs, missing or duplicated rows), mutated from a
  real recording and replayed through the poller, its decoders and the validation step;
- bytes the codec must refuse (truncated, flipped, padded or random messages), made by
  encoding a real recording as a Response and damaging it.

Everything draws from one `random.Random`, so the test (hypothesis supplies the Random) and
the benchmark (a seeded Random) share the mutations.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from wifimon.snmp import ber
from wifimon.snmp.types import SnmpValue, VarBind

KINDS_BY_TAG = {
    "integer": ber.INTEGER, "octets": ber.OCTET_STRING, "oid": ber.OBJECT_ID,
    "ipaddress": ber.IP_ADDRESS, "counter32": ber.COUNTER32, "gauge32": ber.GAUGE32,
    "timeticks": ber.TIMETICKS, "opaque": ber.OPAQUE, "counter64": ber.COUNTER64,
    "null": ber.NULL, "noSuchObject": ber.NO_SUCH_OBJECT,
    "noSuchInstance": ber.NO_SUCH_INSTANCE, "endOfMibView": ber.END_OF_MIB_VIEW,
}  # fmt: skip


def any_value(rng: random.Random) -> SnmpValue:
    """A value of any type the codec can deliver, with a bias to the extremes."""
    kind = rng.choice(list(KINDS_BY_TAG))
    if kind == "integer":
        return SnmpValue(kind, rng.choice([-(1 << 31), -1, 0, 1, 51, (1 << 31) - 1,
                                           rng.randint(-(1 << 31), (1 << 31) - 1)]))  # fmt: skip
    if kind in ("counter32", "gauge32", "timeticks"):
        return SnmpValue(kind, rng.choice([0, 51, (1 << 32) - 1, rng.randrange(1 << 32)]))
    if kind == "counter64":
        return SnmpValue(kind, rng.choice([0, (1 << 64) - 1, 1 << 63, rng.randrange(1 << 64)]))
    if kind in ("octets", "opaque"):
        return SnmpValue(kind, any_octets(rng))
    if kind == "oid":
        return SnmpValue(kind, any_oid(rng))
    if kind == "ipaddress":
        return SnmpValue(kind, ".".join(str(rng.randrange(256)) for _ in range(4)))
    return SnmpValue(kind)  # type: ignore[arg-type]


def any_octets(rng: random.Random) -> bytes:
    """Strings a careless or hostile firmware sends where text or a number belongs."""
    return rng.choice([
        b"", b"\xff\xfe\xfd", b"-5", b"  42 ", b"1e9", b"0x10", b"9" * rng.choice([5, 21, 5000]),
        "Kelurahan Cikini Ampél".encode("latin-1"), bytes(rng.randrange(256) for _ in range(64)),
        b"A" * rng.choice([255, 4096, 60000]),
    ])  # fmt: skip


def any_oid(rng: random.Random, under: str | None = None) -> str:
    """An OID (under `under` when given), sometimes very long or with 32-bit arcs."""
    base = under or rng.choice(["1.3.6.1.2.1.1.2.0", "1.3.6.1.4.1.14988.1", "0.0"])
    arcs = [rng.choice([0, 1, 255, 4096, (1 << 32) - 1, rng.randrange(1 << 32)])
            for _ in range(rng.choice([1, 2, 6, 40, 100]))]  # fmt: skip
    return base + "." + ".".join(map(str, arcs))


def mutate_records(records: list[VarBind], rng: random.Random) -> list[VarBind]:
    """A recording with a few of its varbinds changed in type, value, OID or number."""
    out = list(records)
    for _ in range(rng.choice([1, 2, 4, 16])):
        if not out:
            break
        n = rng.randrange(len(out))
        oid, value = out[n]
        action = rng.choice(["value", "value", "value", "oid", "drop", "duplicate", "exception"])
        if action == "value":
            out[n] = (oid, any_value(rng))
        elif action == "oid":
            out[n] = (any_oid(rng, under=oid.rsplit(".", 1)[0]), value)
        elif action == "drop":
            del out[n]
        elif action == "duplicate":
            out.insert(n, (oid, any_value(rng)))
        else:
            out[n] = (oid, SnmpValue(rng.choice(["noSuchObject", "noSuchInstance", "null"])))
    return out


# ------------------------------------------------------------------ bytes on the wire


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes((tag, n)) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + body


def _integer(value: int, tag: int = ber.INTEGER) -> bytes:
    length = max(1, (value + (value < 0)).bit_length() // 8 + 1)
    return _tlv(tag, value.to_bytes(length, "big", signed=True))


def _unsigned(value: int, tag: int) -> bytes:
    return _tlv(tag, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def encode_value(value: SnmpValue) -> bytes:
    """BER of one value (the agent's side of the codec, for tests only)."""
    tag = KINDS_BY_TAG[value.kind]
    raw = value.value
    if value.kind == "integer":
        assert isinstance(raw, int)
        return _integer(raw)
    if isinstance(raw, int):
        return _unsigned(raw, tag)
    if value.kind == "oid":
        return _tlv(tag, ber.encode_oid(str(raw)))
    if value.kind == "ipaddress":
        return _tlv(tag, bytes(int(part) for part in str(raw).split(".")))
    return _tlv(tag, raw if isinstance(raw, bytes) else b"")


def encode_response(
    request_id: int, varbinds: list[VarBind], community: bytes = b"public"
) -> bytes:
    """An SNMPv2c Response message carrying `varbinds`."""
    body = b"".join(_tlv(ber.SEQUENCE, _tlv(ber.OBJECT_ID, ber.encode_oid(oid)) + encode_value(v))
                    for oid, v in varbinds)  # fmt: skip
    pdu = _tlv(ber.RESPONSE, _integer(request_id) + _integer(0) + _integer(0)
               + _tlv(ber.SEQUENCE, body))  # fmt: skip
    return _tlv(ber.SEQUENCE, _integer(ber.VERSION_2C) + _tlv(ber.OCTET_STRING, community) + pdu)


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def _flip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.choice([1, 2, 8])):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _insert(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + bytes(rng.randrange(256) for _ in range(rng.choice([1, 3, 200]))) + data[at:]


def _long_lengths(data: bytes, rng: random.Random) -> bytes:
    """A length field that claims gigabytes."""
    at = rng.randrange(len(data))
    return data[:at] + b"\x84\xff\xff\xff\xff" + data[at + 2 :]


def _random(data: bytes, rng: random.Random) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 2, 30, 1500])))


BYTE_MUTATIONS: list[Callable[[bytes, random.Random], bytes]] = [
    _truncate, _flip, _flip, _insert, _long_lengths, _random,
]  # fmt: skip


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """One damaged copy of a message."""
    return rng.choice(BYTE_MUTATIONS)(data, rng)
