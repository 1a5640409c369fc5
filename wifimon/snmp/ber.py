"""A small BER encoder/decoder for SNMPv1/v2c messages: the polling hot path.

pysnmp (with pyasn1) stays the reference and the SNMPv3 implementation; this codec exists
because the scale benchmark (benchmarks/scale.py) showed pyasn1 decoding dominating the cost
of a poll. It handles exactly what a manager needs: GET, GETNEXT and GETBULK requests out,
Response PDUs in. Every malformed input raises `BerError`; nothing else escapes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from wifimon.snmp.types import SnmpValue, VarBind

SEQUENCE = 0x30
INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_ID = 0x06
IP_ADDRESS = 0x40
COUNTER32 = 0x41
GAUGE32 = 0x42
TIMETICKS = 0x43
OPAQUE = 0x44
COUNTER64 = 0x46
NO_SUCH_OBJECT = 0x80
NO_SUCH_INSTANCE = 0x81
END_OF_MIB_VIEW = 0x82

GET_REQUEST = 0xA0
GET_NEXT_REQUEST = 0xA1
RESPONSE = 0xA2
GET_BULK_REQUEST = 0xA5

VERSION_1 = 0
VERSION_2C = 1
MAX_OID_ARCS = 128
_UNSIGNED = {COUNTER32: "counter32", GAUGE32: "gauge32", TIMETICKS: "timeticks"}
_EXCEPTIONS = {
    NO_SUCH_OBJECT: "noSuchObject",
    NO_SUCH_INSTANCE: "noSuchInstance",
    END_OF_MIB_VIEW: "endOfMibView",
}
ERROR_STATUS_NAMES = (
    "noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess",
    "wrongType", "wrongLength", "wrongEncoding", "wrongValue", "noCreation",
    "inconsistentValue", "resourceUnavailable", "commitFailed", "undoFailed",
    "authorizationError", "notWritable", "inconsistentName",
)  # fmt: skip


class BerError(ValueError):
    """The bytes are not a well-formed SNMP message of the kind expected."""


# --------------------------------------------------------------------------- encoding


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _length(len(body)) + body


def _integer(value: int) -> bytes:
    length = max(1, (value + (value < 0)).bit_length() // 8 + 1)
    return _tlv(INTEGER, value.to_bytes(length, "big", signed=True))


@functools.lru_cache(maxsize=65536)
def encode_oid(oid: str) -> bytes:
    """BER contents of a dotted OID."""
    try:
        arcs = [int(part) for part in oid.strip(".").split(".")]
    except ValueError as exc:
        raise BerError(f"bad OID {oid!r}") from exc
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40) or min(arcs) < 0:
        raise BerError(f"bad OID {oid!r}")
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


def encode_request(
    version: int,
    community: bytes,
    request_id: int,
    pdu_type: int,
    oids: list[str],
    non_repeaters: int = 0,
    max_repetitions: int = 0,
) -> bytes:
    """A GET/GETNEXT/GETBULK message with NULL values."""
    varbinds = b"".join(_tlv(SEQUENCE, _tlv(OBJECT_ID, encode_oid(oid)) + b"\x05\x00")
                        for oid in oids)  # fmt: skip
    second, third = (non_repeaters, max_repetitions) if pdu_type == GET_BULK_REQUEST else (0, 0)
    pdu = _tlv(pdu_type, _integer(request_id) + _integer(second) + _integer(third)
               + _tlv(SEQUENCE, varbinds))  # fmt: skip
    return _tlv(SEQUENCE, _integer(version) + _tlv(OCTET_STRING, community) + pdu)


# --------------------------------------------------------------------------- decoding


@dataclass(frozen=True, slots=True)
class Response:
    """A decoded Response PDU."""

    version: int
    community: bytes
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[VarBind]

    @property
    def error_name(self) -> str:
        if 0 <= self.error_status < len(ERROR_STATUS_NAMES):
            return ERROR_STATUS_NAMES[self.error_status]
        return f"error{self.error_status}"


def _header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at `pos`, checked against `end`."""
    if pos + 2 > end:
        raise BerError("truncated header")
    tag = data[pos]
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise BerError("unsupported length form")
        if pos + count > end:
            raise BerError("truncated length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise BerError("value longer than its container")
    return tag, pos, pos + length


def _expect(data: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    found, start, stop = _header(data, pos, end)
    if found != tag:
        raise BerError(f"expected tag 0x{tag:02x}, found 0x{found:02x}")
    return start, stop


def _int(data: bytes, start: int, stop: int) -> int:
    if stop == start:
        raise BerError("empty integer")
    if stop - start > 9:
        raise BerError("integer too long")
    return int.from_bytes(data[start:stop], "big", signed=True)


def _unsigned(data: bytes, start: int, stop: int, bits: int) -> int:
    if stop == start or stop - start > bits // 8 + 1:
        raise BerError("bad unsigned length")
    value = int.from_bytes(data[start:stop], "big", signed=False)
    if value >= 1 << bits:
        raise BerError("unsigned value out of range")
    return value


# Pollers read the same table OIDs from every AP every minute: decode each once. The cache
# is bounded in entries and in bytes, and only short OIDs enter it (every table OID wifimon
# reads is; a device that sends long crafted OIDs gets them decoded, not remembered).
_OID_CACHE: dict[bytes, str] = {}
OID_CACHE_LIMIT = 200_000
OID_CACHE_MAX_BYTES = 32 << 20  # raw and text of every entry, counted together
CACHED_OID_MAX_BYTES = 48
MAX_ARC = (1 << 32) - 1  # RFC 2578: sub-identifiers are 32-bit unsigned
_cache_bytes = 0


def decode_oid(data: bytes, start: int, stop: int) -> str:
    """Dotted text of BER OID contents (memoised by their bytes)."""
    global _cache_bytes
    raw = data[start:stop]
    text = _OID_CACHE.get(raw)
    if text is not None:
        return text
    text = _decode_oid(raw)
    if len(raw) <= CACHED_OID_MAX_BYTES:
        size = len(raw) + len(text)
        if len(_OID_CACHE) >= OID_CACHE_LIMIT or _cache_bytes + size > OID_CACHE_MAX_BYTES:
            _OID_CACHE.clear()
            _cache_bytes = 0
        _OID_CACHE[raw] = text
        _cache_bytes += size
    return text


def oid_cache_size() -> tuple[int, int]:
    """(entries, bytes of raw and text) in the OID cache, for tests and benchmarks."""
    return len(_OID_CACHE), _cache_bytes


def _decode_oid(raw: bytes) -> str:
    """Dotted text of BER OID contents."""
    data, start, stop = raw, 0, len(raw)
    if stop == start:
        raise BerError("empty OID")
    arcs: list[int] = []
    value = 0
    continued = False
    for pos in range(start, stop):
        byte = data[pos]
        if not continued and byte == 0x80:
            raise BerError("OID arc with a leading zero byte")
        value = (value << 7) | (byte & 0x7F)
        continued = bool(byte & 0x80)
        if value > MAX_ARC + 80:  # the first sub-identifier holds two arcs (2 * 40 + arc)
            raise BerError("OID arc larger than 32 bits")
        if not continued:
            arcs.append(value)
            value = 0
            if len(arcs) > MAX_OID_ARCS:
                raise BerError("OID too long")
    if continued:
        raise BerError("truncated OID arc")
    if max(arcs[1:], default=0) > MAX_ARC:
        raise BerError("OID arc larger than 32 bits")
    first = arcs[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    return ".".join(str(arc) for arc in (*head, *arcs[1:]))


def _value(data: bytes, tag: int, start: int, stop: int) -> SnmpValue:
    if tag == INTEGER:
        value = _int(data, start, stop)
        if not -(1 << 31) <= value < 1 << 31:
            raise BerError("Integer32 out of range")
        return SnmpValue("integer", value)
    if tag == OCTET_STRING:
        return SnmpValue("octets", data[start:stop])
    if tag in _UNSIGNED:
        return SnmpValue(_UNSIGNED[tag], _unsigned(data, start, stop, 32))  # type: ignore[arg-type]
    if tag == COUNTER64:
        return SnmpValue("counter64", _unsigned(data, start, stop, 64))
    if tag == OBJECT_ID:
        return SnmpValue("oid", decode_oid(data, start, stop))
    if tag == IP_ADDRESS:
        if stop - start != 4:
            raise BerError("IpAddress must be 4 bytes")
        return SnmpValue("ipaddress", ".".join(str(b) for b in data[start:stop]))
    if tag == OPAQUE:
        return SnmpValue("opaque", data[start:stop])
    if tag == NULL:
        if stop != start:
            raise BerError("NULL with contents")
        return SnmpValue("null")
    if tag in _EXCEPTIONS:
        if stop != start:
            raise BerError("exception value with contents")
        return SnmpValue(_EXCEPTIONS[tag])  # type: ignore[arg-type]
    raise BerError(f"unknown value tag 0x{tag:02x}")


def _envelope(data: bytes) -> tuple[int, bytes, int, int]:
    """(version, community, PDU content start, PDU content end) of a Response message."""
    end = len(data)
    start, stop = _expect(data, 0, end, SEQUENCE)
    if stop != end:
        raise BerError("trailing bytes after the message")
    v_start, v_stop = _expect(data, start, stop, INTEGER)
    version = _int(data, v_start, v_stop)
    if version not in (VERSION_1, VERSION_2C):
        raise BerError(f"not SNMPv1/v2c (version {version})")
    c_start, c_stop = _expect(data, v_stop, stop, OCTET_STRING)
    p_start, p_stop = _expect(data, c_stop, stop, RESPONSE)
    if p_stop != stop:
        raise BerError("trailing bytes after the PDU")
    return version, bytes(data[c_start:c_stop]), p_start, p_stop


def peek_request_id(data: bytes) -> int | None:
    """The request id of a Response whose envelope parses (its varbinds may not), else None."""
    try:
        _, _, p_start, p_stop = _envelope(data)
        f_start, f_stop = _expect(data, p_start, p_stop, INTEGER)
        return _int(data, f_start, f_stop)
    except BerError:
        return None


def decode_response(data: bytes) -> Response:
    """Decode an SNMPv1/v2c Response message; `BerError` on anything else or malformed."""
    version, community, pos, p_stop = _envelope(data)
    fields = []
    for _ in range(3):
        f_start, f_stop = _expect(data, pos, p_stop, INTEGER)
        fields.append(_int(data, f_start, f_stop))
        pos = f_stop
    l_start, l_stop = _expect(data, pos, p_stop, SEQUENCE)
    if l_stop != p_stop:
        raise BerError("trailing bytes after the varbind list")
    varbinds: list[VarBind] = []
    pos = l_start
    while pos < l_stop:
        b_start, b_stop = _expect(data, pos, l_stop, SEQUENCE)
        o_start, o_stop = _expect(data, b_start, b_stop, OBJECT_ID)
        tag, val_start, val_stop = _header(data, o_stop, b_stop)
        if val_stop != b_stop:
            raise BerError("trailing bytes in a varbind")
        varbinds.append((decode_oid(data, o_start, o_stop), _value(data, tag, val_start, val_stop)))
        pos = b_stop
    return Response(version, community, fields[0], fields[1], fields[2], varbinds)
