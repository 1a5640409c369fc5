"""Every HTTP route of a running daemon against malformed requests: bodies that are not JSON
or not the object asked for, wrong and missing fields, huge and non-UTF-8 bodies, odd ids,
odd and repeated parameters, far-past and far-future dates, garbled Authorization headers.
Each answer has its exact status, is never a 500, and carries no Python exception text and
no secret; the daemon logs no traceback."""

from __future__ import annotations

import asyncio
import gzip
import http.client
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fleet_edit import edited_fleet
from wifimon.api_auth import DEFAULT_ROLES, hash_token
from wifimon.daemon import Daemon
from wifimon.measurements import ApSample
from wifimon.web import build_app, start_web

NOC, AUDITOR = "noc-malformed-token", "auditor-malformed-token"
WATCHER, REPORTER = "watcher-token-xyz", "reporter-token-xyz"
TOKENS = {"noc-desk": (NOC, "noc"), "inspektorat": (AUDITOR, "auditor"),
          "lurah": (WATCHER, "watcher"), "bappeda": (REPORTER, "reporter")}  # fmt: skip
FIRING = "TitikMati:jp-glr-02"  # fired before the daemon starts (see `served`)
EXCEPTION_TEXT = ("Traceback", "ValidationError", "validation error", "NoneType",
                  "invalid literal", "For further information", "errors.pydantic.dev",
                  "Expecting value", "line 1 column", "object is not", "unexpected keyword",
                  "KeyError", "TypeError", "ValueError", "Exception", "Error:", "(char ",
                  "Server got itself in trouble", "Input should be")  # fmt: skip
RELOAD_NEEDS_TOKEN = ("a bearer token whose role has config:reload is required (or "
                      "api.reload_without_token: true in the config)")  # fmt: skip
SECRETISH = "s3cr3t-value-in-a-field"  # sent where a secret could stand: never echoed
GARBLED = f"Bearer {NOC}x"  # a secret-looking value where a token belongs: never echoed
VALID_SILENCE = {"matchers": {"kelurahan": "Galur"}, "author": "Budi (NOC)",
                 "reason": "gangguan PLN", "duration": "1h"}  # fmt: skip
WEEKLY = {"days": ["sun"], "start": "22:00", "duration": "6h"}


def bearer(token: str) -> list[tuple[str, str | bytes]]:
    return [("Authorization", f"Bearer {token}")]


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Served:
    """A started daemon and its HTTP server on a loop in another thread."""

    daemon: Daemon
    port: int
    secrets: list[str] = field(default_factory=list)

    def send(self, method: str, path: str, headers: list[tuple[str, str | bytes]] | None = None,
             body: bytes | None = None) -> Answer:  # fmt: skip
        """One request as given (repeated headers, raw bytes), on its own connection."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in headers or []:
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            connection.close()

    def send_raw(self, request: bytes) -> Answer:
        """Bytes no HTTP client would send; the status line and body of the answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        return Answer(status, http.client.HTTPMessage(), body)


def _api_config(data: dict[str, Any]) -> None:
    data["api"] = {
        "roles": {**DEFAULT_ROLES, "watcher": ["alerts:read"], "reporter": ["reports:read"]},
        "tokens": [{"name": name, "role": role, "sha256": hash_token(token)}
                   for name, (token, role) in TOKENS.items()],
    }  # fmt: skip


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("malformed")
    port = free_tcp_port()
    config = edited_fleet(directory, listen=f"127.0.0.1:{port}", config=_api_config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> tuple[Daemon, Any]:
        daemon = Daemon(config)
        daemon.state.record(ApSample(ap_id="jp-glr-02-a", timestamp=0.0, reachable=False))
        daemon.state.record(ApSample(ap_id="jp-glr-02-a", timestamp=1.0, reachable=False))
        assert daemon.engine is not None
        daemon.engine.evaluate(10.0)
        daemon.engine.evaluate(400.0)  # TitikMati fires after 5 minutes
        runner = await start_web(daemon)
        await daemon.start()
        return daemon, runner

    daemon, runner = asyncio.run_coroutine_threadsafe(start(), loop).result(60)
    secrets = [path.read_text().strip() for path in (directory / "secrets").iterdir()]
    secrets += list(yaml.safe_load(config.read_text())["secrets"])  # their names, too
    secrets += [token for token, _ in TOKENS.values()]
    secrets += [hash_token(token) for token, _ in TOKENS.values()] + [SECRETISH]
    try:
        yield Served(daemon, port, secrets)
    finally:

        async def stop() -> None:
            await daemon.stop()
            await runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


# ----------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    """One request to `route` (method, path template) and the answer it must get."""

    route: tuple[str, str]
    status: int
    path: str | None = None  # SAMPLE_PATH's or the template's when None
    query: str = ""
    token: str | None = NOC
    headers: tuple[tuple[str, str | bytes], ...] = ()
    body: bytes | None = None
    message: str | None = None  # the exact error message, when given
    method: str | None = None  # another than the route's

    @property
    def target(self) -> str:
        return (self.path or SAMPLE_PATH.get(self.route) or self.route[1]) + self.query

    @property
    def id(self) -> str:
        detail = repr(self.body[:40]) if self.body is not None else ""
        hidden = "+".join(name for name, _ in self.headers)
        method = self.method or self.route[0]
        return f"{method} {self.target[:60]} {detail} {hidden} {self.token or '-'}"


SILENCES = ("POST", "/api/v1/silences")
LIST_SILENCES = ("GET", "/api/v1/silences")
EXPIRE = ("DELETE", "/api/v1/silences/{id}")
ALERTS = ("GET", "/api/v1/alerts")
ACK = ("POST", "/api/v1/alerts/{id}/ack")
UPTIME = ("GET", "/api/v1/reports/uptime")
ALERT_LOG = ("GET", "/api/v1/reports/alerts")
RELOAD = ("POST", "/-/reload")
METRICS, HEALTHY, READY = ("GET", "/metrics"), ("GET", "/-/healthy"), ("GET", "/-/ready")
PERMISSION = {SILENCES: "silences:write", LIST_SILENCES: "silences:read",
              EXPIRE: "silences:write", ALERTS: "alerts:read", ACK: "alerts:ack",
              UPTIME: "reports:read", ALERT_LOG: "reports:read",
              RELOAD: "config:reload"}  # fmt: skip
SHAPES = {SILENCES: "with matchers, author, reason, and duration or weekly",
          ACK: "with `by` and optional `comment`"}  # fmt: skip
CREATED = "/api/v1/silences/<created>"  # a silence the test adds first
SAMPLE_PATH = {EXPIRE: "/api/v1/silences/deadbeef", ACK: f"/api/v1/alerts/{FIRING}/ack"}


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _silence(**change: Any) -> bytes:
    body = {**VALID_SILENCE, **change}
    return _json({k: v for k, v in body.items() if v is not ...})


def auth_cases(route: tuple[str, str]) -> list[Case]:
    """No, garbled, repeated, unknown and unpermitted tokens."""
    weak = REPORTER if PERMISSION[route] == "alerts:read" else WATCHER
    required = "a valid bearer token is required" if route != RELOAD else RELOAD_NEEDS_TOKEN
    return [
        Case(route, 401, token=None, message=required),
        Case(route, 401, token=None, headers=(("Authorization", "Basic YTpi"),)),
        Case(route, 401, token=None, headers=(("Authorization", "Bearer"),)),
        Case(route, 401, token=None, headers=(("Authorization", "Bearer  "),)),
        Case(route, 401, token=None, headers=(("Authorization", GARBLED),)),
        Case(route, 401, token=None, headers=(("Authorization", f"bearer {NOC}!"),)),
        Case(route, 401, token=None,
             headers=(("Authorization", b"Bearer \xff\xfe" + NOC.encode()),)),
        Case(route, 401, token=None, headers=(("Authorization", "Bearer " + "x" * 5000),)),
        Case(route, 400, token=None,
             headers=(("Authorization", f"Bearer {NOC}"), ("Authorization", GARBLED)),
             message="send one Authorization header, not several"),
        Case(route, 403, token=weak, message=f"this token's role may not {PERMISSION[route]}"),
    ]  # fmt: skip


def silence_cases() -> list[Case]:
    """Bodies of POST /api/v1/silences: every field with wrong types and values."""
    bad: dict[str, list[Any]] = {
        "matchers": [..., None, 1, "kelurahan=Galur", [["kelurahan", "Galur"]], {},
                     {"kelurahan": 1}, {"kelurahan": None}, {"kelurahan": ""},
                     {"kelurahan": ["Galur"]}, {"colour": "red"}, {"hotspot": "~("}],
        "author": [..., None, 1, True, [], {}, "", "   ", "x" * 201],
        "reason": [..., None, 2.5, ["r"], {"r": 1}, "", "x" * 1001],
        "duration": [..., None, 1, 3600, "1", "abc", "", "1x", "h", "0s", "8d", "1e400h",
                     "-1h", "nanh", "1.5.5h", "1h\n", "\u0661h", True, [], {}, "9" * 400 + "h"],
        "maintenance": ["true", "false", 1, 0, [], {}],
        "starts_at": ["now", "2026-10-01", True, -1, 0, 10**12, 1e300, -(10**12), [], {},
                      10**400],
    }  # fmt: skip
    cases = [Case(SILENCES, 400, body=_silence(**{name: value}))
             for name, values in bad.items() for value in values]  # fmt: skip
    weekly = [1, "mon", [], {}, {**WEEKLY, "days": "sun"}, {**WEEKLY, "days": []},
              {**WEEKLY, "days": ["funday"]}, {**WEEKLY, "days": [None]},
              {**WEEKLY, "start": "25:00"}, {**WEEKLY, "start": 2200},
              {**WEEKLY, "start": "22:00:00"}, {**WEEKLY, "start": "22:00\n"},
              {**WEEKLY, "duration": "0s"},
              {**WEEKLY, "duration": "8d"}, {**WEEKLY, "duration": 6},
              {**WEEKLY, "every": "week"}, {"days": ["sun"]}]  # fmt: skip
    cases += [Case(SILENCES, 400, body=_silence(duration=..., weekly=w)) for w in weekly]
    until = ["x", 10**12, -5, 0, True, 1_700_000_000, [], 4_102_444_800]  # 1.7e9: in the past
    cases += [Case(SILENCES, 400, body=_silence(duration=..., weekly=WEEKLY, until=u))
              for u in until]  # fmt: skip
    cases += [
        Case(SILENCES, 400, body=_silence(weekly=WEEKLY), message="give either a duration "
             "or a weekly window"),
        Case(SILENCES, 400, body=_silence(until=2_000_000_000),
             message="until: goes with a weekly window; a duration ends by itself"),
        Case(SILENCES, 400, body=_silence(duration=..., weekly=WEEKLY, starts_at=2_000_000_000,
                                          until=1_999_999_999),
             message="until: must be after starts_at (or now)"),
        Case(SILENCES, 400, body=_silence(author={"token": SECRETISH})),
        Case(SILENCES, 400, body=_silence(matchers={"hotspot": f"~({SECRETISH}"})),
        Case(SILENCES, 400, body=_silence(starts_at=SECRETISH)),
        Case(SILENCES, 400, body=_silence(token=SECRETISH),
             message="unknown field 'token'; the body must be a JSON object with matchers, "
             "author, reason, and duration or weekly"),
        Case(SILENCES, 400, body=_silence(duration="abc"),
             message="duration: expected a duration such as 90s, 15m, 2h or 1d, from 1s to 7d"),
        Case(SILENCES, 400, body=_silence(starts_at=-(10**12)),
             message="starts_at: expected a time in Unix seconds between 2000-01-01 and "
             "2100-01-01"),
        Case(SILENCES, 400, body=_silence(matchers={"hotspot": "~("}),
             message="matchers.hotspot: not a valid regular expression"),
        Case(SILENCES, 400, body=_silence(author=5),
             message="author: expected a text of 1 to 200 characters"),
        Case(SILENCES, 201, body=_silence()),
        Case(SILENCES, 201, body=_silence(duration=..., weekly=WEEKLY, until=2_000_000_000,
                                          maintenance=True)),
    ]  # fmt: skip
    return cases


def body_cases(route: tuple[str, str]) -> list[Case]:
    """Bodies that are not a JSON object, too big, not UTF-8 or nested without end."""
    path = SAMPLE_PATH.get(route)
    bodies = [b"", b"   ", b"not json", b"{", b'{"a": }', b"[]", b'"text"', b"1", b"null",
              b"true", b"[" * 60_000, b'{"a":' * 12_000, b"\xff\xfe{\x00}\x00",
              b'{"by": "\xff"}', b"NaN", b'{"by": NaN}', b'{"by": Infinity}',
              b'{"by": 1e999}', "{\"by\": \"\u00e9\"".encode("latin-1")]  # fmt: skip
    cases = [Case(route, 400, path, body=body) for body in bodies]
    cases += [
        Case(route, 413, path, body=b'{"a": "' + b"x" * 100_000 + b'"}',
             message="the body is larger than 64 KiB"),
        Case(route, 400, path, body=b"\xff\xfe", message="the body must be JSON in UTF-8"),
        Case(route, 400, path, body=b"[" * 60_000, message="the body is nested too deeply"),
        Case(route, 400, path, body=b"not json", message="the body must be JSON"),
        Case(route, 400, path, body=b"{}" , headers=(("Content-Type",
             "application/json; charset=klingon"),)),
        Case(route, 400, path, body=b"{}", headers=(("Content-Type", "text/plain"),)),
        Case(route, 400, path, body=b"{}", headers=(("Content-Encoding", "gzip"),),
             message="the body cannot be read as its Content-Encoding says"),
        Case(route, 400, path, body=gzip.compress(b"[]"), headers=(("Content-Encoding", "gzip"),),
             message=f"the body must be a JSON object {SHAPES[route]}"),
        Case(route, 413, path, body=gzip.compress(b" " * 10_000_000),
             headers=(("Content-Encoding", "gzip"),)),
    ]  # fmt: skip
    return cases


def ack_cases() -> list[Case]:
    ok = _json({"by": "NOC", "comment": "penyedia dihubungi"})
    cases = [Case(ACK, 400, body=_json(body)) for body in (
        {}, {"by": None}, {"by": 1}, {"by": ""}, {"by": " "}, {"by": "x" * 101}, {"by": ["x"]},
        {"by": "x", "comment": 5}, {"by": "x", "comment": "x" * 501}, {"by": "x", "who": "y"},
        {"who": "x"}, {"comment": "only"})]  # fmt: skip
    unknown_ids = ["nope", "%C3%A9", "%E2%98%83%00", "9" * 400, "-1", "A" * 2000,
                   "TitikMati:jp-glr-01", "%2e%2e", "%FF"]  # fmt: skip
    cases += [Case(ACK, 404, f"/api/v1/alerts/{i}/ack", body=ok) for i in unknown_ids]
    cases += [
        Case(ACK, 404, "/api/v1/alerts/nope/ack", body=ok, message="no firing alert 'nope'"),
        Case(ACK, 404, f"/api/v1/alerts/{'A' * 2000}/ack", body=ok,
             message=f"no firing alert '{'A' * 39}…'"),
        Case(ACK, 400, body=_json({"by": ""}), message="by: expected a text of 1 to 100 "
             "characters"),
        Case(ACK, 400, body=_json({"who": "x"}), message="unknown field 'who'; the body must "
             "be a JSON object with `by` and optional `comment`"),
        Case(ACK, 400, query="?by=x", body=ok, message="unknown parameter 'by'"),
        Case(ACK, 201, body=ok),
    ]  # fmt: skip
    return cases


def expire_cases() -> list[Case]:
    ids = ["nope", "0", "-1", "9" * 400, "%C3%A9", "%E2%98%83", "%00", "%FF", "..%2F..%2Fx",
           "deadbeef", "DEADBEEF", "A" * 2000]  # fmt: skip
    cases = [Case(EXPIRE, 404, f"/api/v1/silences/{i}") for i in ids]
    cases += [
        Case(EXPIRE, 404, "/api/v1/silences/nope", message="no silence with id 'nope'"),
        Case(EXPIRE, 400, query="?force=1", message="unknown parameter 'force'"),
        Case(EXPIRE, 400, body=b"\xff" * 100, query="?id=1"),
        Case(EXPIRE, 200, CREATED),
        Case(EXPIRE, 400, CREATED, query="?now=1", message="unknown parameter 'now'"),
    ]  # fmt: skip
    return cases


def alert_cases() -> list[Case]:
    queries = ["?state=burning", "?state=", "?state=1", "?state=firing&state=pending",
               "?colour=red", "?kelurahan=Galur&kelurahan=Galur", "?state=%FF",
               "?state=%C3%A9", "?" + "&".join(f"x{i}=1" for i in range(50))]  # fmt: skip
    cases = [Case(ALERTS, 400, query=q) for q in queries]
    cases += [
        Case(ALERTS, 400, query="?state=firing&state=pending", message="give 'state' once"),
        Case(ALERTS, 400, query="?state=burning", message="state must be pending or firing"),
        Case(ALERTS, 200, query="?kelurahan=%FF"),
        Case(ALERTS, 200, query="?state=firing&hotspot=jp-glr-02"),
        Case(LIST_SILENCES, 400, query="?state=active", message="unknown parameter 'state'"),
        Case(LIST_SILENCES, 200),
    ]  # fmt: skip
    return cases


REPORT_QUERIES = [
    "?month=0001-01", "?month=9999-12", "?month=1-1", "?month=10000-01", "?month=-5",
    "?month=2026-13", "?month=2026-00", "?month=1000000000000", "?month=%FF",
    "?month=2026-10&month=2026-11", "?month=2026-10&from=2026-10-01&to=2026-10-02",
    "?from=0001-01-01&to=0001-01-02", "?from=0001-01-01&to=2026-01-01",
    "?from=9999-12-30&to=9999-12-31", "?from=2026-10-01&to=9999-12-31",
    "?from=1000000000000&to=1000000000001", "?from=-1&to=0", "?from=2026-10-02&to=2026-10-01",
    "?from=2026-10-01&to=2026-10-01", "?from=2026-10-01", "?to=2026-10-01",
    "?from=2026-10-01%2025:99&to=2026-10-02", "?format=xlsx", "?format=", "?format=json&format=csv",
    "?months=2026-10", "?from=2026-10-01&to=2026-10-02&to=2026-10-03",
]  # fmt: skip


def report_cases() -> list[Case]:
    cases = [Case(route, 400, query=q, token=AUDITOR)
             for route in (UPTIME, ALERT_LOG) for q in REPORT_QUERIES]  # fmt: skip
    cases += [Case(UPTIME, 400, query=q, token=AUDITOR) for q in (
        "?by=rw", "?by=", "?language=jv", "?language=id&language=en", "?hotspot=nowhere",
        "?by=hotspot&by=kota")]  # fmt: skip
    cases += [
        Case(UPTIME, 400, query="?month=0001-01", token=AUDITOR,
             message="month '0001-01' is not within the years 2000 to 2099"),
        Case(UPTIME, 400, query="?from=0001-01-01&to=0001-01-02", token=AUDITOR,
             message="from '0001-01-01' is not within the years 2000 to 2099"),
        Case(ALERT_LOG, 400, query="?from=2026-10-01&to=9999-12-31", token=AUDITOR,
             message="to '9999-12-31' is not within the years 2000 to 2099"),
        Case(UPTIME, 400, query="?format=json&format=csv", token=AUDITOR,
             message="give 'format' once"),
        Case(UPTIME, 200, query="?month=2026-10&hotspot=jp-glr-01&hotspot=jp-glr-02",
             token=AUDITOR),
        Case(UPTIME, 200, query="?month=2099-12", token=AUDITOR),
        Case(UPTIME, 200, query="?month=2000-01&format=csv", token=AUDITOR),
        Case(ALERT_LOG, 200, query="?month=2000-01", token=AUDITOR),
        Case(ALERT_LOG, 200, query="?from=2000-01-01&to=2099-12-31", token=AUDITOR),
    ]  # fmt: skip
    return cases


def open_cases() -> list[Case]:
    """Routes without a token and without input: junk is ignored, never a crash."""
    junk = "?x=1&x=2&%FF=%FF&from=0001-01-01"
    return [Case(route, 200, query=q, token=None, body=b)
            for route in (METRICS, HEALTHY, READY)
            for q, b in (("", None), (junk, None), ("", b"\xff" * 100))]  # fmt: skip


def reload_cases() -> list[Case]:
    return [
        Case(RELOAD, 401, token=None, message=RELOAD_NEEDS_TOKEN),
        Case(RELOAD, 403, token=AUDITOR, message="this token's role may not config:reload"),
        Case(RELOAD, 200, token=None, headers=(("Authorization", f"bearer  {NOC} "),)),
        Case(RELOAD, 200, message="config reloaded"),
        Case(RELOAD, 200, query="?x=1", body=b"\xff" * 100_000),
    ]  # fmt: skip


def method_cases() -> list[Case]:
    """Methods a route does not take: 405 (JSON under /api/)."""
    wrong = {SILENCES: "PUT", LIST_SILENCES: "PATCH", EXPIRE: "POST", ALERTS: "DELETE",
             ACK: "GET", UPTIME: "POST", ALERT_LOG: "PUT", RELOAD: "GET", METRICS: "POST",
             HEALTHY: "DELETE", READY: "POST"}  # fmt: skip
    return [Case(route, 405, method=method, message="this endpoint does not take that method"
                 if route[1].startswith("/api/") else None)
            for route, method in wrong.items()]  # fmt: skip


def all_cases() -> list[Case]:
    cases = silence_cases() + ack_cases() + expire_cases() + alert_cases() + report_cases()
    cases += open_cases() + reload_cases() + method_cases()
    for route in PERMISSION:
        cases += auth_cases(route)
    for route in (SILENCES, ACK):
        cases += body_cases(route)
    return cases


CASES = all_cases()


# ----------------------------------------------------------------------------- checks


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert record.exc_info is None, f"{record.name}: {record.getMessage()}"
        assert "Traceback" not in record.getMessage(), record.getMessage()


def check(served: Served, case: Case, answer: Answer) -> None:
    """The exact status; no 500, exception text or secret; JSON with `error` under /api/."""
    assert answer.status == case.status, (case.id, answer.status, answer.text[:300])
    for text in EXCEPTION_TEXT:
        assert text not in answer.text, (case.id, text, answer.text[:300])
    for secret in served.secrets:
        assert secret not in answer.text, (case.id, "a secret in the answer")
    if answer.status >= 400 and case.target.startswith("/api/"):
        assert answer.headers.get_content_type() == "application/json", case.id
        message = json.loads(answer.body)["error"]
        assert 0 < len(message) <= 200, (case.id, message)
        if case.message is not None:
            assert message == case.message, case.id
    elif case.message is not None:
        assert answer.text.strip() == case.message, case.id
    if answer.status == 401:
        assert answer.headers["WWW-Authenticate"].startswith("Bearer"), case.id


def routes(served: Served) -> set[tuple[str, str]]:
    """Every (method, path template) the app serves (HEAD comes with each GET)."""
    app = build_app(served.daemon)
    return {(r.method, r.resource.canonical) for r in app.router.routes()
            if r.method != "HEAD" and r.resource is not None}  # fmt: skip


# ----------------------------------------------------------------------------- tests


def test_every_route_has_cases(served: Served) -> None:
    """A route added later without malformed cases fails here."""
    covered = {case.route for case in CASES}
    assert routes(served) == covered
    for route in routes(served):
        statuses = {case.status for case in CASES if case.route == route}
        assert statuses & {400, 401, 403, 404, 405, 413}, route
        assert statuses & {200, 201}, route  # a case that works: the table is not vacuous


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_request(served: Served, case: Case, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    headers = list(case.headers)
    if case.token is not None and all(name != "Authorization" for name, _ in headers):
        headers += bearer(case.token)
    target = case.target
    if CREATED in target:
        added = served.send("POST", SILENCES[1], bearer(NOC), _silence())
        target = target.replace("<created>", json.loads(added.body)["id"])
    answer = served.send(case.method or case.route[0], target, headers, case.body)
    check(served, case, answer)
    _no_traceback(caplog)


def test_unknown_api_path_is_404_json(served: Served) -> None:
    answer = served.send("GET", "/api/v1/nothing", bearer(NOC))
    assert answer.status == 404
    assert json.loads(answer.body) == {"error": "no such endpoint; see the API section of the "
                                                "README"}  # fmt: skip


def test_a_refused_reload_does_not_reload(served: Served) -> None:
    before = served.daemon.config
    assert served.send("POST", "/-/reload").status == 401
    assert served.send("POST", "/-/reload", bearer(AUDITOR)).status == 403
    assert served.daemon.config is before
    assert served.send("POST", "/-/reload", bearer(NOC)).status == 200
    assert served.daemon.config is not before


async def test_reload_without_token_when_the_config_says_so(tmp_path: Path) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    def allow(data: dict[str, Any]) -> None:
        data["api"] = {"reload_without_token": True}

    daemon = Daemon(edited_fleet(tmp_path, config=allow))
    client = TestClient(TestServer(build_app(daemon)))
    await client.start_server()
    try:
        before = daemon.config
        response = await client.post("/-/reload", headers={"Authorization": "Bearer nonsense"})
        assert response.status == 200, await response.text()
        assert daemon.config is not before
    finally:
        await client.close()
        await daemon.stop()


GARBLED_HEADS = {
    "control character": (f"Authorization: Bearer {NOC}\x01\r\n".encode(), 400),
    "NUL": (f"Authorization: Bearer {NOC}\x00tail\r\n".encode(), 400),
    "folded": (f"Authorization: Bearer {NOC}\r\n Bearer folded\r\n".encode(), 400),
    "space before colon": (f"Authorization : Bearer {NOC}\r\n".encode(), 400),
    "not UTF-8": (b"Authorization: Bearer \xc3\x28" + NOC.encode() + b"\r\n", 401),
    "header too long": (f"X-Long: {'y' * 10_000}\r\nAuthorization: Bearer {NOC}\r\n".encode(),
                        400),
}  # fmt: skip


@pytest.mark.parametrize("head,status", GARBLED_HEADS.values(), ids=GARBLED_HEADS.keys())
def test_garbled_headers_are_refused_without_the_token(
    served: Served, head: bytes, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Headers the HTTP parser refuses: the answer and the log never repeat the token."""
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    request = b"GET /api/v1/alerts HTTP/1.1\r\nHost: x\r\n" + head + b"Connection: close\r\n\r\n"
    answer = served.send_raw(request)
    assert NOC not in answer.text
    assert answer.status == status, answer.text
    if status == 400:
        assert answer.text == "malformed HTTP request\n"
    for text in EXCEPTION_TEXT:
        assert text not in answer.text, (text, answer.text)
    for record in caplog.records:
        assert NOC not in record.getMessage()
        assert record.exc_info is None or NOC not in str(record.exc_info[1])
    _no_traceback(caplog)


# ----------------------------------------------------------------------------- properties

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
SILENCE_LIKE = st.fixed_dictionaries({}, optional={
    "matchers": JSON | st.dictionaries(st.sampled_from(["kelurahan", "hotspot", "x"]), JSON),
    "author": JSON, "reason": JSON, "duration": JSON | st.sampled_from(["1h", "0s", "8d"]),
    "weekly": JSON | st.fixed_dictionaries({}, optional={"days": JSON, "start": JSON,
                                                         "duration": JSON}),
    "maintenance": JSON, "starts_at": JSON, "until": JSON})  # fmt: skip
DATES = (
    st.dates().map(str)  # year 1 to 9999
    | st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}")
    | st.sampled_from(["0001-01-01", "0001-01", "9999-12-31", "9999-12", "1-1", "-1",
                       "1000000000000", "2026-10-01 25:00", "2026-10-01", "2026-10"])
    | st.text(max_size=12)
)  # fmt: skip


def _choice(*valid: str) -> st.SearchStrategy[str]:
    return st.sampled_from(valid) | st.text(max_size=8)


PERIOD = {"month": DATES, "from": DATES, "to": DATES}
QUERIES = st.one_of(
    st.tuples(st.just(UPTIME), st.fixed_dictionaries({}, optional={
        **PERIOD, "by": _choice("hotspot", "kelurahan", "kota"), "format": _choice("json", "csv"),
        "language": _choice("id", "en"), "hotspot": _choice("jp-glr-01", "jp-glr-01,nowhere"),
        "provider": st.text(max_size=8)})),
    st.tuples(st.just(ALERT_LOG), st.fixed_dictionaries({}, optional={
        **PERIOD, "format": _choice("json", "csv")})),
    st.tuples(st.just(ALERTS), st.fixed_dictionaries({}, optional={
        "state": _choice("firing", "pending"), "hotspot": _choice("jp-glr-02"),
        "kelurahan": st.text(max_size=8)})),
)  # fmt: skip
POSTED = [SILENCES[1], f"/api/v1/alerts/{FIRING}/ack", "/api/v1/alerts/nope/ack", RELOAD[1]]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(path=st.sampled_from(POSTED), body=JSON | SILENCE_LIKE)
def test_any_json_body_is_answered_below_500(
    served: Served, caplog: pytest.LogCaptureFixture, path: str, body: Any
) -> None:
    answer = served.send("POST", path, bearer(NOC), json.dumps(body).encode())
    assert answer.status < 500, (path, body, answer.text[:300])
    for text in EXCEPTION_TEXT:
        assert text not in answer.text, (path, body, text, answer.text[:300])
    _no_traceback(caplog)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(query=QUERIES, repeated=st.lists(st.tuples(st.sampled_from(["month", "to", "state"]),
                                                  DATES), max_size=1))  # fmt: skip
def test_any_query_is_answered_below_500(
    served: Served, caplog: pytest.LogCaptureFixture,
    query: tuple[tuple[str, str], dict[str, str]], repeated: list[tuple[str, str]],
) -> None:  # fmt: skip
    from urllib.parse import urlencode

    route, params = query
    target = f"{route[1]}?{urlencode([*params.items(), *repeated])}"
    answer = served.send("GET", target, bearer(NOC))
    assert answer.status < 500, (target, answer.text[:300])
    for text in EXCEPTION_TEXT:
        assert text not in answer.text, (target, text)
    _no_traceback(caplog)
