"""RADIUS accounting server (RFC 2866) that counts hotspot sessions, built on pyrad.

A MikroTik hotspot (or any NAS) sends its accounting here, alone or as a second accounting
server next to the provider's own. Each Accounting-Request is checked in this order, and a
packet that fails a step is dropped without an answer (`on_drop(reason)`):

1. `unknown_nas`: its source address has no secret;
2. `malformed`: too short, the Length field lies, attributes do not tile the packet, or it
   is not an Accounting-Request;
3. `bad_authenticator`: the Request Authenticator is not MD5(Code, Identifier, Length,
   16 zero octets, Attributes, secret), i.e. a wrong secret or a forged packet;
4. `malformed` again: no Acct-Status-Type, or no Acct-Session-Id on Start, Interim-Update
   or Stop, or a known attribute with a value of the wrong size;
5. `store_error`: the session file refused the write (the NAS will retransmit).

Everything else is answered with an Accounting-Response, so the NAS stops retransmitting,
and reported with `on_accept(kind)`: `start`, `interim`, `stop`, `accounting_on`,
`accounting_off`, or `other` (a status type wifimon does not count, e.g. Failed). A session
whose NAS maps to no titik is answered too, and reported as `on_drop("unknown_titik")`.

Unknown attributes are ignored. Only the NAS-naming attributes, Acct-Status-Type,
Acct-Session-Id, Acct-Delay-Time and Acct-Interim-Interval are read: user names, client
MACs and framed addresses are never decoded, stored or logged.

A session's NAS is its source address plus its NAS-Identifier (several NAS behind one NAT
address keep their sessions apart). Times are wifimon's clock at arrival minus
Acct-Delay-Time; Event-Timestamp is not used (NAS clocks are often wrong).

The table is called on the event loop: the packets that arrive within BATCH_SECONDS are
stored in one SQLite transaction (see `wifimon.sessions.table`), and each answer is sent
after that commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import ipaddress
import logging
import socket
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from pyrad.dictionary import Dictionary
from pyrad.packet import AccountingRequest, AcctPacket, PacketError

from wifimon.errors import ConfigError, WifimonError
from wifimon.sessions.model import NasIdentity
from wifimon.sessions.table import SessionStoreError, SessionTable

logger = logging.getLogger(__name__)

HEADER_LENGTH = 20
MAX_PACKET_LENGTH = 4096  # RFC 2865 section 3
MAX_DELAY_SECONDS = 86400.0  # a larger Acct-Delay-Time is taken as a day
MAX_WARNED = 1024  # unknown NAS / unmapped NAS warned about once each, up to this many

# RFC 2865, 2866, 2869 and 3162 attributes, as pyrad reads dictionaries. Only those marked
# (read) are ever decoded; the rest are named so a debugger shows them, nothing more.
ACCOUNTING_DICTIONARY = """\
ATTRIBUTE	User-Name		1	string
ATTRIBUTE	NAS-IP-Address		4	ipaddr
ATTRIBUTE	NAS-Port		5	integer
ATTRIBUTE	Service-Type		6	integer
ATTRIBUTE	Framed-IP-Address	8	ipaddr
ATTRIBUTE	Class			25	octets
ATTRIBUTE	Session-Timeout		27	integer
ATTRIBUTE	Idle-Timeout		28	integer
ATTRIBUTE	Called-Station-Id	30	string
ATTRIBUTE	Calling-Station-Id	31	string
ATTRIBUTE	NAS-Identifier		32	string
ATTRIBUTE	Proxy-State		33	octets
ATTRIBUTE	Acct-Status-Type	40	integer
ATTRIBUTE	Acct-Delay-Time		41	integer
ATTRIBUTE	Acct-Input-Octets	42	integer
ATTRIBUTE	Acct-Output-Octets	43	integer
ATTRIBUTE	Acct-Session-Id		44	string
ATTRIBUTE	Acct-Authentic		45	integer
ATTRIBUTE	Acct-Session-Time	46	integer
ATTRIBUTE	Acct-Input-Packets	47	integer
ATTRIBUTE	Acct-Output-Packets	48	integer
ATTRIBUTE	Acct-Terminate-Cause	49	integer
ATTRIBUTE	Acct-Multi-Session-Id	50	string
ATTRIBUTE	Acct-Link-Count		51	integer
ATTRIBUTE	Acct-Input-Gigawords	52	integer
ATTRIBUTE	Acct-Output-Gigawords	53	integer
ATTRIBUTE	Event-Timestamp		55	date
ATTRIBUTE	NAS-Port-Type		61	integer
ATTRIBUTE	Message-Authenticator	80	octets
ATTRIBUTE	Acct-Interim-Interval	85	integer
ATTRIBUTE	NAS-Port-Id		87	string
ATTRIBUTE	NAS-IPv6-Address	95	ipv6addr

VALUE	Acct-Status-Type	Start			1
VALUE	Acct-Status-Type	Stop			2
VALUE	Acct-Status-Type	Interim-Update		3
VALUE	Acct-Status-Type	Accounting-On		7
VALUE	Acct-Status-Type	Accounting-Off		8
VALUE	Acct-Status-Type	Failed			15
"""

KINDS = {  # Acct-Status-Type value name -> on_accept kind
    "Start": "start",
    "Interim-Update": "interim",
    "Stop": "stop",
    "Accounting-On": "accounting_on",
    "Accounting-Off": "accounting_off",
}
SESSION_KINDS = frozenset({"start", "interim", "stop"})


class RadiusError(WifimonError):
    """The accounting server could not start."""


class _Drop(Exception):
    """Why a packet is dropped unanswered (a label for metrics, never user data)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Request:
    """What wifimon takes from an Accounting-Request; nothing about the user."""

    kind: str
    session_id: str | None
    identity: NasIdentity
    delay: float
    interim: float | None


@functools.cache
def accounting_dictionary() -> Dictionary:
    """Parsed once; pyrad reads a file-like object as well as a path."""
    return Dictionary(io.StringIO(ACCOUNTING_DICTIONARY))


@functools.lru_cache(maxsize=4096)
def _address(text: str) -> str:
    """One spelling per address: IPv4-mapped IPv6 (a dual-stack socket) as IPv4."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _secrets(secrets: Mapping[str, bytes]) -> dict[str, bytes]:
    """Secrets by normalised NAS address; a bad entry is a config error naming it."""
    out = {}
    for key, secret in secrets.items():
        try:
            address = _address(key)
        except ValueError:
            raise ConfigError(f"RADIUS secrets: {key!r} is not an IP address") from None
        if not isinstance(secret, bytes) or not secret:
            raise ConfigError(f"RADIUS secrets: the secret of {address} is empty or not bytes")
        out[address] = secret
    return out


class AccountingServer:
    """UDP RADIUS accounting listener that feeds a SessionTable."""

    def __init__(
        self,
        table: SessionTable,
        secrets: Mapping[str, bytes],
        on_drop: Callable[[str], None] | None = None,
        on_accept: Callable[[str], None] | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table
        self._secrets = _secrets(secrets)
        self._on_drop = on_drop
        self._on_accept = on_accept
        self._clock = clock
        self._transport: asyncio.DatagramTransport | None = None
        self._closed: asyncio.Event | None = None
        self._warned: set[tuple[str, ...]] = set()
        self.listening_since: float | None = None  # for SessionTable.expire
        accounting_dictionary()

    @property
    def port(self) -> int:
        """The bound UDP port (useful after starting on port 0)."""
        if self._transport is None:
            raise RadiusError("the accounting server is not running")
        return int(self._transport.get_extra_info("sockname")[1])

    async def start(self, host: str, port: int) -> None:
        """Bind and serve until stop()."""
        if self._transport is not None:
            raise RadiusError("the accounting server is already running")
        loop = asyncio.get_running_loop()
        self._closed = asyncio.Event()
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Protocol(self), local_addr=(host, port)
            )
        except OSError as exc:
            raise RadiusError(
                f"cannot listen for RADIUS accounting on {host}:{port}: {exc}"
            ) from exc
        self._transport = transport
        _widen_receive_buffer(transport)
        self.listening_since = self._clock()
        logger.info("radius accounting listening host=%s port=%d nas=%d", host, self.port,
                    len(self._secrets))  # fmt: skip

    async def stop(self) -> None:
        """Stop listening; packets in flight are not answered."""
        transport, closed = self._transport, self._closed
        self._transport = None
        if transport is None or closed is None:
            return
        transport.close()
        await closed.wait()

    def not_stored(self) -> None:
        """A packet whose changes the table could not keep: dropped, unanswered."""
        self._notify(self._on_drop, "store_error")

    def batch(self) -> contextlib.AbstractContextManager[None]:
        """Handle several packets in one commit of the session table."""
        return self._table.batch()

    def handle(self, data: bytes, source: str) -> bytes | None:
        """One datagram from `source` (an IP address): the answer to send, or None."""
        nas = _address(source)
        try:
            reply = self._handle(data, nas)
        except _Drop as drop:
            logger.debug("radius packet dropped reason=%s nas=%s", drop.reason, nas)
            self._notify(self._on_drop, drop.reason)
            return None
        return reply

    def _handle(self, data: bytes, nas: str) -> bytes:
        secret = self._secrets.get(nas)
        if secret is None:
            self._warn_once(("unknown_nas", nas), "radius packet from a NAS without a secret "
                            "nas=%s", nas)  # fmt: skip
            raise _Drop("unknown_nas")
        packet = _decode(data, secret)
        if not packet.VerifyAcctRequest():
            raise _Drop("bad_authenticator")
        request = _read(packet)
        self._apply(request, nas)
        return bytes(packet.CreateReply().ReplyPacket())

    def _apply(self, request: _Request, nas: str) -> None:
        """Change the table; a session of no titik is answered but reported unknown_titik."""
        at = self._clock() - request.delay
        identity = request.identity
        nas_key = f"{nas}/{identity.identifier}" if identity.identifier else nas
        titik: str | None = None
        try:
            if request.kind in ("accounting_on", "accounting_off"):
                closed = self._table.nas_restarted(nas_key, at)
                logger.info("radius nas restarted kind=%s nas=%s closed=%d", request.kind, nas,
                            closed)  # fmt: skip
            elif request.kind in SESSION_KINDS:
                titik = self._session(request, nas_key, at)
                if titik is None:
                    self._unknown_titik(nas, identity)
                    self._notify(self._on_drop, "unknown_titik")
                    return
        except SessionStoreError as exc:
            self._warn_once(("store_error", str(exc)), "radius packets not recorded, the NAS "
                            "will retransmit nas=%s error=%s", nas, exc)  # fmt: skip
            raise _Drop("store_error") from exc
        logger.debug("radius accounting kind=%s nas=%s titik=%s", request.kind, nas, titik)
        self._notify(self._on_accept, request.kind)

    def _session(self, request: _Request, nas_key: str, at: float) -> str | None:
        assert request.session_id is not None  # _read guarantees it for session kinds
        sid, identity = request.session_id, request.identity
        if request.kind == "start":
            return self._table.start(identity, nas_key, sid, at, request.interim)
        if request.kind == "interim":
            return self._table.interim(identity, nas_key, sid, at, request.interim)
        return self._table.stop(identity, nas_key, sid, at)

    def _unknown_titik(self, nas: str, identity: NasIdentity) -> None:
        self._warn_once(
            ("unknown_titik", nas, str(identity.identifier), str(identity.ip),
             str(identity.called_station_id)),
            "radius sessions of a NAS no titik claims nas=%s nas_identifier=%s nas_ip=%s "
            "called_station_id=%s", nas, identity.identifier, identity.ip,
            identity.called_station_id,
        )  # fmt: skip

    def _warn_once(self, key: tuple[str, ...], message: str, *args: object) -> None:
        """Operators learn about a misconfigured NAS once, not 2,000 times a second."""
        if key in self._warned or len(self._warned) >= MAX_WARNED:
            logger.debug(message, *args)
            return
        self._warned.add(key)
        logger.warning(message, *args)

    @staticmethod
    def _notify(callback: Callable[[str], None] | None, label: str) -> None:
        if callback is not None:
            callback(label)

    def _connection_lost(self) -> None:
        if self._closed is not None:
            self._closed.set()


BATCH_SECONDS = 0.01  # packets gathered into one commit
BATCH_PACKETS = 256  # ... or this many, whichever comes first
RECEIVE_BUFFER_BYTES = 4 << 20  # a second of 2,000 packets/s several times over


def _widen_receive_buffer(transport: asyncio.BaseTransport) -> None:
    """Room for a burst of packets (NASes send interim updates in waves) while a batch is
    stored; the kernel may grant less (net.core.rmem_max), which is fine."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)


class _Protocol(asyncio.DatagramProtocol):
    """Hands datagrams to the server; nothing a NAS sends can make it raise."""

    def __init__(self, server: AccountingServer) -> None:
        self._server = server
        self._transport: asyncio.DatagramTransport | None = None
        self._waiting: list[tuple[bytes, tuple[str | Any, int]]] = []
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        """Packets that arrive within BATCH_SECONDS are handled together, in one commit (at
        2,000 a second a commit for every few packets cost more than decoding them); a NAS
        waits seconds for its answer, so a few milliseconds more are nothing to it."""
        if not self._waiting:
            self._timer = asyncio.get_running_loop().call_later(BATCH_SECONDS, self._handle_waiting)
        self._waiting.append((data, addr))
        if len(self._waiting) >= BATCH_PACKETS:
            self._handle_waiting()

    def _handle_waiting(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiting, self._waiting = self._waiting, []
        try:
            with self._server.batch():
                replies = [(self._answer(data, addr), addr) for data, addr in waiting]
        except SessionStoreError as exc:  # the commit failed: no answer, the NAS sends again
            logger.error("radius packets not stored count=%d error=%s", len(waiting), exc)
            for _ in waiting:
                self._server.not_stored()
            return
        for reply, addr in replies:
            if reply is not None and self._transport is not None:
                self._transport.sendto(reply, addr)

    def _answer(self, data: bytes, addr: tuple[str | Any, int]) -> bytes | None:
        try:
            return self._server.handle(data, str(addr[0]))
        except Exception as exc:  # the last line: a bug must not stop accounting for everyone
            logger.error("radius packet failed error=%s", type(exc).__name__)
            return None

    def error_received(self, exc: Exception) -> None:
        logger.debug("radius socket error error=%s", type(exc).__name__)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:  # packets still gathering are not answered
            self._timer.cancel()
            self._timer = None
        self._waiting = []
        self._server._connection_lost()


def _decode(data: bytes, secret: bytes) -> Any:
    """An Accounting-Request whose every attribute lies inside its Length (pyrad trims
    a too-long attribute silently); the authenticator is not checked here."""
    if len(data) < HEADER_LENGTH:
        raise _Drop("malformed")
    code, length = data[0], int.from_bytes(data[2:4], "big")
    if code != AccountingRequest or not HEADER_LENGTH <= length <= min(
        len(data), MAX_PACKET_LENGTH
    ):
        raise _Drop("malformed")
    data = data[:length]  # RFC 2865 section 3: octets past Length are padding
    _check_attributes(data)
    try:
        return AcctPacket(packet=data, secret=secret, dict=accounting_dictionary())
    except PacketError:
        raise _Drop("malformed") from None


def _check_attributes(data: bytes) -> None:
    at = HEADER_LENGTH
    while at < len(data):
        if at + 2 > len(data) or data[at + 1] < 2 or at + data[at + 1] > len(data):
            raise _Drop("malformed")
        at += data[at + 1]


def _read(packet: Any) -> _Request:
    """The few attributes wifimon uses, decoded by pyrad from the dictionary (only those
    the packet has: asking pyrad for an absent one costs a raised KeyError)."""
    present = frozenset(packet.keys())

    def first(name: str) -> Any:
        return _first(packet, name) if name in present else None

    status = first("Acct-Status-Type")
    if status is None:
        raise _Drop("malformed")
    kind = KINDS.get(status, "other") if isinstance(status, str) else "other"
    session_id = _text(first("Acct-Session-Id"))
    if kind in SESSION_KINDS and not session_id:
        raise _Drop("malformed")
    ip = first("NAS-IP-Address") or first("NAS-IPv6-Address")
    identity = NasIdentity(
        identifier=_text(first("NAS-Identifier")) or None,
        ip=str(ip) if ip else None,
        called_station_id=_text(first("Called-Station-Id")) or None,
    )
    delay = first("Acct-Delay-Time")
    interim = first("Acct-Interim-Interval")
    return _Request(
        kind=kind,
        session_id=session_id,
        identity=identity,
        delay=min(float(delay), MAX_DELAY_SECONDS) if isinstance(delay, int) else 0.0,
        interim=float(interim) if isinstance(interim, int) and interim > 0 else None,
    )


def _first(packet: Any, name: str) -> Any:
    """The first value of an attribute, None when absent; a value pyrad cannot decode
    (wrong size for its type) makes the packet malformed."""
    try:
        values = packet[name]
    except KeyError:
        return None
    except (ValueError, struct.error):
        raise _Drop("malformed") from None
    return values[0] if values else None


def _text(value: Any) -> str | None:
    """A string attribute; pyrad hands non-UTF-8 as bytes, kept distinct as hex."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
