"""The RADIUS accounting server against real packets: FreeRADIUS's radclient for what a NAS
sends, a raw UDP socket for what a broken or hostile one might, hypothesis for the rest.

Replies are checked with an MD5 written here from RFC 2866, not with pyrad's own code."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import socket
import struct
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyrad.packet import AcctPacket

from wifimon.errors import ConfigError
from wifimon.sessions.model import NasIdentity
from wifimon.sessions.radius import AccountingServer, RadiusError, accounting_dictionary
from wifimon.sessions.table import SessionTable

RADCLIENT = shutil.which("radclient")
needs_radclient = pytest.mark.skipif(
    RADCLIENT is None, reason="radclient missing (Debian package freeradius-utils)"
)
SECRET = "rahasia-duri"
TITIK = {"gw-duri": "jb-duri-01", "gw-galur": "jp-glr-01"}
DROP_REASONS = {"unknown_nas", "bad_authenticator", "malformed", "unknown_titik"}


def resolve(identity: NasIdentity) -> str | None:
    return TITIK.get(identity.identifier or "")


class Running:
    """A started server on 127.0.0.1 with what it reported."""

    def __init__(self, server: AccountingServer, table: SessionTable) -> None:
        self.server = server
        self.table = table
        self.drops: Counter[str] = Counter()
        self.accepts: Counter[str] = Counter()

    @property
    def port(self) -> int:
        return self.server.port


async def serve(
    tmp_path: Path, secrets: dict[str, bytes] | None = None, table: SessionTable | None = None
) -> Running:
    table = table or SessionTable(tmp_path / "sessions.sqlite", resolve)
    holder: list[Running] = []
    server = AccountingServer(
        table,
        {"127.0.0.1": SECRET.encode()} if secrets is None else secrets,
        on_drop=lambda reason: holder[0].drops.update([reason]),
        on_accept=lambda kind: holder[0].accepts.update([kind]),
    )
    holder.append(Running(server, table))
    await server.start("127.0.0.1", 0)
    return holder[0]


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    run = await serve(tmp_path)
    yield run
    await run.server.stop()
    run.table.close()


def packet(status: str, session: str | None = None, nas: str = "gw-duri", **extra: str) -> str:
    """One packet in radclient's input format."""
    lines = [f"Acct-Status-Type = {status}", f'NAS-Identifier = "{nas}"',
             "NAS-IP-Address = 10.60.1.1"]  # fmt: skip
    if session is not None:
        lines.append(f'Acct-Session-Id = "{session}"')
    lines += [f"{name.replace('_', '-')} = {value}" for name, value in extra.items()]
    return "\n".join(lines) + "\n"


async def radclient(
    tmp_path: Path,
    port: int,
    packets: list[str],
    secret: str = SECRET,
    *args: str,
    wait: int = 5,
) -> tuple[int, str]:
    """Send the packets one after the other; radclient's exit code and output. `wait`:
    seconds for each answer (generous: a commit on a busy CI disk can take a while; short
    where no answer is expected)."""
    assert RADCLIENT is not None
    path = tmp_path / f"packets-{time.monotonic_ns()}.txt"
    path.write_text("\n".join(packets))
    process = await asyncio.create_subprocess_exec(
        RADCLIENT, "-r", "1", "-t", str(wait), "-x", "-f", str(path), *args,
        f"127.0.0.1:{port}", "acct", secret,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return int(process.returncode or 0), out.decode(errors="replace")


def replies(output: str) -> int:
    return output.count("Received Accounting-Response")


# what a NAS sends


@needs_radclient
async def test_sixty_logins_then_twenty_logouts(running: Running, tmp_path: Path) -> None:
    starts = [packet("Start", f"8100{n:04d}") for n in range(60)]
    code, out = await radclient(tmp_path, running.port, starts)
    assert (code, replies(out)) == (0, 60), out
    assert running.table.counts() == {"jb-duri-01": 60}
    stops = [packet("Stop", f"8100{n:04d}", Acct_Session_Time="600") for n in range(20)]
    code, out = await radclient(tmp_path, running.port, stops)
    assert (code, replies(out)) == (0, 20), out
    assert running.table.counts() == {"jb-duri-01": 40}
    assert running.accepts == {"start": 60, "stop": 20}
    assert running.drops == {}


@needs_radclient
async def test_retransmits_are_answered_and_counted_once(running: Running, tmp_path: Path) -> None:
    starts = [packet("Start", f"s{n}") for n in range(3)]
    code, out = await radclient(tmp_path, running.port, starts + starts, SECRET, "-c", "2")
    assert (code, replies(out)) == (0, 12), out
    assert running.table.counts() == {"jb-duri-01": 3}
    assert running.accepts == {"start": 12}


async def test_a_byte_identical_retransmit_is_answered_again(running: Running) -> None:
    request = signed({40: [struct.pack("!I", 1)], 44: [b"s1"], 32: [b"gw-duri"]})
    first, second = await exchange(running.port, [request, request])
    assert first == second and first is not None
    check_reply(first, request)
    assert running.table.counts() == {"jb-duri-01": 1}


@needs_radclient
async def test_an_interim_for_an_unknown_session_opens_it(running: Running, tmp_path: Path) -> None:
    code, out = await radclient(tmp_path, running.port, [packet("Interim-Update", "s-late")])
    assert (code, replies(out)) == (0, 1), out
    assert running.table.counts() == {"jb-duri-01": 1}
    assert running.accepts == {"interim": 1}


@needs_radclient
async def test_accounting_on_closes_the_sessions_of_that_nas(
    running: Running, tmp_path: Path
) -> None:
    sessions = [packet("Start", f"d{n}") for n in range(5)]
    sessions += [packet("Start", "g0", nas="gw-galur")]  # another NAS behind the same address
    await radclient(tmp_path, running.port, sessions)
    assert running.table.counts() == {"jb-duri-01": 5, "jp-glr-01": 1}
    code, out = await radclient(tmp_path, running.port, [packet("Accounting-On")])
    assert (code, replies(out)) == (0, 1), out
    assert running.table.counts() == {"jp-glr-01": 1}
    code, out = await radclient(tmp_path, running.port, [packet("Accounting-Off", nas="gw-galur")])
    assert running.table.counts() == {}
    assert running.accepts == {"start": 6, "accounting_on": 1, "accounting_off": 1}


@needs_radclient
async def test_a_session_of_no_titik_is_answered_but_not_counted(
    running: Running, tmp_path: Path
) -> None:
    code, out = await radclient(tmp_path, running.port, [packet("Start", "x1", nas="gw-nowhere")])
    assert (code, replies(out)) == (0, 1), out
    assert running.table.counts() == {}
    assert running.drops == {"unknown_titik": 1}
    assert running.accepts == {}


@needs_radclient
async def test_stale_sessions_expire(running: Running, tmp_path: Path) -> None:
    await radclient(tmp_path, running.port, [
        packet("Start", "short", Acct_Interim_Interval="2"),
        packet("Start", "long", Acct_Interim_Interval="600"),
    ])  # fmt: skip
    now = time.time()
    assert running.table.expire(now) == 0
    assert running.table.expire(now + 6) == 1
    assert running.table.counts() == {"jb-duri-01": 1}


@needs_radclient
async def test_counts_survive_a_restart_of_wifimon(tmp_path: Path) -> None:
    first = await serve(tmp_path)
    await radclient(tmp_path, first.port, [packet("Start", f"s{n}") for n in range(8)])
    await first.server.stop()
    first.table.close()
    second = await serve(tmp_path)
    try:
        assert second.table.counts() == {"jb-duri-01": 8}
        await radclient(tmp_path, second.port, [packet("Stop", "s0"), packet("Start", "s1")])
        assert second.table.counts() == {"jb-duri-01": 7}
    finally:
        await second.server.stop()
        second.table.close()


@needs_radclient
async def test_no_user_data_reaches_the_file_or_the_log(
    running: Running, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="wifimon.sessions")
    user = {"User_Name": '"budi.santoso"', "Calling_Station_Id": '"AA-BB-CC-11-22-33"',
            "Framed_IP_Address": "10.77.66.55"}  # fmt: skip
    start = packet("Start", "81a0cafe", **user)
    code, out = await radclient(tmp_path, running.port, [start])
    assert (code, replies(out)) == (0, 1), out
    assert running.table.counts() == {"jb-duri-01": 1}
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("sessions.sqlite*"))
    assert b"jb-duri-01" in stored
    for private in (b"budi.santoso", b"AA-BB-CC-11-22-33", b"10.77.66.55", b"\x0aMB7",
                    b"81a0cafe"):  # fmt: skip
        assert private not in stored
    assert "jb-duri-01" in caplog.text or "radius accounting" in caplog.text
    for private_text in ("budi", "AA-BB-CC", "10.77.66.55", "81a0cafe"):
        assert private_text not in caplog.text


# what a NAS must not be able to do


@needs_radclient
async def test_a_wrong_secret_is_dropped_unanswered(running: Running, tmp_path: Path) -> None:
    await radclient(tmp_path, running.port, [packet("Start", "s1")])
    code, out = await radclient(tmp_path, running.port, [packet("Stop", "s1")], "salah", wait=1)
    assert code != 0 and replies(out) == 0 and "No reply" in out, out
    assert running.table.counts() == {"jb-duri-01": 1}
    assert running.drops["bad_authenticator"] >= 1
    assert set(running.drops) == {"bad_authenticator"}


@needs_radclient
async def test_a_nas_without_a_secret_is_dropped_unanswered(tmp_path: Path) -> None:
    run = await serve(tmp_path, secrets={"192.0.2.10": SECRET.encode()})
    try:
        code, out = await radclient(tmp_path, run.port, [packet("Start", "s1")])
        assert code != 0 and replies(out) == 0 and "No reply" in out, out
        assert run.table.counts() == {}
        assert set(run.drops) == {"unknown_nas"} and run.accepts == {}
    finally:
        await run.server.stop()
        run.table.close()


def signed(attributes: dict[int, list[bytes]], code: int = 4, ident: int = 7,
           secret: bytes = SECRET.encode(), length: int | None = None) -> bytes:  # fmt: skip
    """An accounting request signed per RFC 2866 section 3, written out here."""
    return sign(code, ident, encode(attributes), secret, length)


def encode(attributes: dict[int, list[bytes]]) -> bytes:
    return b"".join(bytes([key, len(v) + 2]) + v for key, vs in attributes.items() for v in vs)


def sign(code: int, ident: int, body: bytes, secret: bytes, length: int | None = None) -> bytes:
    header = struct.pack("!BBH", code, ident, 20 + len(body) if length is None else length)
    return header + hashlib.md5(header + bytes(16) + body + secret).digest() + body


def check_reply(reply: bytes, request: bytes) -> None:
    """An Accounting-Response to `request` with a correct Response Authenticator."""
    code, ident, length = struct.unpack("!BBH", reply[:4])
    assert (code, ident, length) == (5, request[1], len(reply))
    expected = hashlib.md5(reply[:4] + request[4:20] + reply[20:] + SECRET.encode()).digest()
    assert reply[4:20] == expected


async def exchange(port: int, datagrams: list[bytes], wait: float = 0.3) -> list[bytes | None]:
    """Send each datagram from one socket (an empty one too, which asyncio's transports
    would skip); the answer to each, None when there is none."""
    loop = asyncio.get_running_loop()
    answers: list[bytes | None] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        sock.connect(("127.0.0.1", port))
        for datagram in datagrams:
            sock.send(datagram)
            try:
                answers.append(await asyncio.wait_for(loop.sock_recv(sock, 65535), wait))
            except TimeoutError:
                answers.append(None)
    return answers


START = {40: [struct.pack("!I", 1)], 32: [b"gw-duri"]}
BROKEN: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("five bytes", b"\x04\x01\x00\x14\x00"),
    ("header only, one byte short", signed({})[:19]),
    ("length says more than was sent", signed({**START, 44: [b"t1"]})[:-3]),
    ("length below the header", sign(4, 1, b"", SECRET.encode(), length=12)),
    ("length above the maximum", sign(4, 1, b"\x00" * 5000, SECRET.encode())),
    ("an Access-Request", signed({**START, 44: [b"t2"]}, code=1)),
    ("a Status-Server", signed({80: [bytes(16)]}, code=12)),
    ("attribute of length 0", sign(4, 1, b"\x28\x00\x00\x00\x00\x01", SECRET.encode())),
    (
        "attribute longer than the packet",
        sign(4, 1, encode(START) + b"\x2c\x09s1", SECRET.encode()),
    ),
    ("no Acct-Status-Type", signed({44: [b"t3"], 32: [b"gw-duri"]})),
    ("no Acct-Session-Id on a Start", signed(START)),
    ("empty Acct-Session-Id", signed({**START, 44: [b""]})),
    ("Acct-Status-Type of three octets", signed({40: [b"\x00\x00\x01"], 44: [b"t4"]})),
    ("NAS-IP-Address of two octets", signed({**START, 44: [b"t5"], 4: [b"\x0a\x01"]})),
]


async def test_broken_packets_are_dropped_and_the_server_goes_on(running: Running) -> None:
    answers = await exchange(running.port, [data for _, data in BROKEN], wait=0.2)
    answered = [name for (name, _), answer in zip(BROKEN, answers, strict=True) if answer]
    assert answered == []
    assert running.drops == {"malformed": len(BROKEN)}
    assert running.table.counts() == {}
    good = signed({**START, 44: [b"ok"]})
    (answer,) = await exchange(running.port, [good])
    assert answer is not None
    check_reply(answer, good)
    assert running.table.counts() == {"jb-duri-01": 1}


async def test_unknown_attributes_padding_and_proxy_state_are_fine(running: Running) -> None:
    vendor = struct.pack("!I", 14988) + b"\x01\x06abcd"  # a MikroTik vendor attribute
    request = signed({**START, 44: [b"u1"], 26: [vendor], 200: [b"?"], 33: [b"ps-1", b"ps-2"]})
    (answer,) = await exchange(running.port, [request + b"\x00" * 7])  # padding past Length
    assert answer is not None
    check_reply(answer, request)
    assert answer[20:] == b"\x21\x06ps-1\x21\x06ps-2"  # Proxy-State echoed in order
    assert running.table.counts() == {"jb-duri-01": 1}


async def test_a_non_utf8_session_id_is_a_session_too(running: Running) -> None:
    (answer,) = await exchange(running.port, [signed({**START, 44: [b"\xff\xfe\x01"]})])
    assert answer is not None
    assert running.table.counts() == {"jb-duri-01": 1}


async def test_a_packet_signed_by_pyrad_is_accepted(running: Running) -> None:
    request = AcctPacket(secret=SECRET.encode(), dict=accounting_dictionary())
    request["Acct-Status-Type"] = "Start"
    request["Acct-Session-Id"] = "p1"
    request["NAS-Identifier"] = "gw-galur"
    request["Acct-Delay-Time"] = 5
    raw = request.RequestPacket()
    (answer,) = await exchange(running.port, [raw])
    assert answer is not None
    check_reply(answer, raw)
    assert running.table.counts() == {"jp-glr-01": 1}


async def test_a_store_failure_leaves_the_nas_retransmitting(running: Running) -> None:
    running.table.close()
    (answer,) = await exchange(running.port, [signed({**START, 44: [b"s1"]})])
    assert answer is None
    assert running.drops == {"store_error": 1}


# never crash


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=300))
def test_random_bytes_never_raise(tmp_path: Path, data: bytes) -> None:
    server, drops = handler(tmp_path)
    assert server.handle(data, "127.0.0.1") is None
    assert server.handle(data, "192.0.2.1") is None
    assert set(drops) <= DROP_REASONS


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=300), ident=st.integers(0, 255))
def test_signed_random_attributes_never_raise(tmp_path: Path, body: bytes, ident: int) -> None:
    """Past the authenticator: whatever a NAS with the secret sends is answered or dropped."""
    server, drops = handler(tmp_path)
    request = sign(4, ident, body, SECRET.encode())
    reply = server.handle(request, "127.0.0.1")
    if reply is not None:
        check_reply(reply, request)
    assert set(drops) <= DROP_REASONS


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    attributes=st.dictionaries(
        st.sampled_from([1, 4, 8, 30, 31, 32, 33, 40, 41, 44, 55, 85, 95, 26, 200]),
        st.lists(st.binary(min_size=0, max_size=20), min_size=1, max_size=2),
        max_size=8,
    )
)
def test_signed_known_attributes_of_any_value_never_raise(
    tmp_path: Path, attributes: dict[int, list[bytes]]
) -> None:
    server, drops = handler(tmp_path)
    request = signed(attributes)
    reply = server.handle(request, "127.0.0.1")
    if reply is not None:
        check_reply(reply, request)
    assert set(drops) <= DROP_REASONS


_HANDLERS: dict[Path, tuple[AccountingServer, Counter[str]]] = {}


def handler(tmp_path: Path) -> tuple[AccountingServer, Counter[str]]:
    """One server per test (hypothesis calls the test body many times)."""
    if tmp_path not in _HANDLERS:
        drops: Counter[str] = Counter()
        table = SessionTable(tmp_path / "fuzz.sqlite", resolve)
        server = AccountingServer(
            table, {"127.0.0.1": SECRET.encode()}, on_drop=lambda r: drops.update([r])
        )
        _HANDLERS[tmp_path] = (server, drops)
    return _HANDLERS[tmp_path]


async def test_the_protocol_survives_a_failing_callback(tmp_path: Path) -> None:
    def explode(reason: str) -> None:
        raise RuntimeError(reason)

    table = SessionTable(tmp_path / "s.sqlite", resolve)
    server = AccountingServer(table, {"127.0.0.1": SECRET.encode()}, on_drop=explode)
    await server.start("127.0.0.1", 0)
    try:
        assert (await exchange(server.port, [b"junk"], wait=0.2)) == [None]
        good = signed({**START, 44: [b"s1"]})
        (answer,) = await exchange(server.port, [good])
        assert answer is not None  # still serving
    finally:
        await server.stop()
        table.close()


# the API around it


async def test_port_start_and_stop(tmp_path: Path) -> None:
    table = SessionTable(tmp_path / "s.sqlite", resolve)
    server = AccountingServer(table, {"127.0.0.1": b"x"})
    with pytest.raises(RadiusError):
        _ = server.port
    await server.start("127.0.0.1", 0)
    port = server.port
    assert port > 0 and server.listening_since is not None
    with pytest.raises(RadiusError, match="already running"):
        await server.start("127.0.0.1", 0)
    other = AccountingServer(table, {"127.0.0.1": b"x"})
    with pytest.raises(RadiusError, match=f"127.0.0.1:{port}"):
        await other.start("127.0.0.1", port)
    await server.stop()
    await server.stop()  # twice is fine
    table.close()


@pytest.mark.parametrize(
    ("secrets", "message"),
    [
        ({"gw-duri": b"x"}, "'gw-duri' is not an IP address"),
        ({"10.0.0.1": b""}, "secret of 10.0.0.1 is empty"),
    ],
)
def test_bad_secrets_are_config_errors(
    tmp_path: Path, secrets: dict[str, bytes], message: str
) -> None:
    table = SessionTable(tmp_path / "s.sqlite", resolve)
    with pytest.raises(ConfigError, match=message):
        AccountingServer(table, secrets)
    table.close()


def test_addresses_are_matched_in_any_spelling(tmp_path: Path) -> None:
    table = SessionTable(tmp_path / "s.sqlite", resolve)
    server = AccountingServer(table, {"2001:DB8:0::1": SECRET.encode(), "127.0.0.1": b"x"})
    assert server.handle(signed({**START, 44: [b"v6"]}), "2001:db8::1") is not None
    mapped = sign(4, 1, b"\x28\x06\x00\x00\x00\x01\x20\x09gw-duri\x2c\x04m1", b"x")
    assert server.handle(mapped, "::ffff:127.0.0.1") is not None  # a dual-stack socket
    assert table.counts() == {"jb-duri-01": 2}
    table.close()


def test_a_misconfigured_nas_is_warned_about_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    table = SessionTable(tmp_path / "s.sqlite", resolve)
    server = AccountingServer(table, {"127.0.0.1": SECRET.encode()})
    caplog.set_level(logging.WARNING, logger="wifimon.sessions")
    for n in range(3):
        assert server.handle(signed({**START, 44: [b"%d" % n]}), "192.0.2.7") is None
        unmapped = {40: [struct.pack("!I", 1)], 44: [b"%d" % n], 32: [b"gw-nowhere"]}
        assert server.handle(signed(unmapped), "127.0.0.1") is not None
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2, warnings
    assert "nas=192.0.2.7" in warnings[0] and "nas_identifier=gw-nowhere" in warnings[1]
    table.close()


def test_a_status_type_wifimon_does_not_count_is_answered(tmp_path: Path) -> None:
    table = SessionTable(tmp_path / "s.sqlite", resolve)
    accepts: Counter[str] = Counter()
    server = AccountingServer(
        table, {"127.0.0.1": SECRET.encode()}, on_accept=lambda k: accepts.update([k])
    )
    failed = signed({40: [struct.pack("!I", 15)], 44: [b"f1"], 32: [b"gw-duri"]})
    reply = server.handle(failed, "127.0.0.1")
    assert reply is not None
    check_reply(reply, failed)
    assert accepts == {"other": 1} and table.counts() == {}
    table.close()
