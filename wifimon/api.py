"""/api/v1: JSON over HTTP for the NOC and auditors, every endpoint behind a bearer token.

A request the API cannot serve gets a short JSON `{"error": ...}` written for a person: it
names the field or parameter and what is expected, never echoes a value that could be a
secret, and never carries a Python exception's text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, get_args

from aiohttp import web
from multidict import MultiMapping

from wifimon.alerts.acks import Ack, AckStore, acknowledge
from wifimon.alerts.expr import MAX_WINDOW_SECONDS, parse_duration
from wifimon.alerts.lifecycle import AlertState
from wifimon.alerts.matchers import LABELS
from wifimon.alerts.silences import WEEKDAYS, SilenceStore, Weekly
from wifimon.alerts.templates import WIB
from wifimon.api_auth import permissions_of
from wifimon.errors import ConfigError, WifimonError
from wifimon.history import alertlog
from wifimon.history.document import report_file
from wifimon.history.formats import LABELS as LABELS_BY
from wifimon.history.query import (
    NoHistory,
    ReportInputError,
    ReportQuery,
    make_report,
    parse_period,
)
from wifimon.history.report import GroupBy

if TYPE_CHECKING:
    from wifimon.alerts.engine import RuleEngine
    from wifimon.config import Config

log = logging.getLogger(__name__)


class DaemonView(Protocol):
    """What the HTTP side reads of the running daemon (so it need not import the daemon)."""

    @property
    def config(self) -> Config: ...
    @property
    def engine(self) -> RuleEngine | None: ...
    @property
    def silences(self) -> SilenceStore: ...
    @property
    def acks(self) -> AckStore: ...
    @property
    def state_dir(self) -> Path: ...
    @property
    def started(self) -> bool: ...
    async def metrics_body(self) -> bytes: ...
    async def reload(self) -> None: ...


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DAEMON_KEY: web.AppKey[DaemonView] = web.AppKey("daemon")
ALERT_FILTERS = LABELS
REPORT_SLOT: web.AppKey[asyncio.Semaphore] = web.AppKey("report_slot")
GROUPINGS = set(get_args(GroupBy))
MAX_BODY_BYTES = 64 * 1024  # a silence or an acknowledgement is well under 1 KiB
MAX_SHOWN_CHARACTERS = 40  # of a value quoted back in an error
EARLIEST, LATEST = 946_684_800.0, 4_102_444_800.0  # 2000-01-01 and 2100-01-01 (UTC)
DURATION = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?[smhd]")
MAX_AUTHOR, MAX_REASON, MAX_MATCHER = 200, 1000, 200
STATUS_MESSAGES = {
    404: "no such endpoint; see the API section of the README",
    405: "this endpoint does not take that method",
    413: f"the body is larger than {MAX_BODY_BYTES // 1024} KiB",
}


class RequestError(WifimonError):
    """A request the HTTP API refuses: the status and the message for the person."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def error(status: int, message: str) -> web.Response:
    headers = {"WWW-Authenticate": 'Bearer realm="wifimon"'} if status == 401 else None
    return web.json_response({"error": message}, status=status, headers=headers)


def shown(value: str) -> str:
    """A value quoted back to the client, cut short (callers pass none that may be a secret)."""
    if len(value) > MAX_SHOWN_CHARACTERS:
        value = value[: MAX_SHOWN_CHARACTERS - 1] + "…"
    return repr(value)


@web.middleware
async def plain_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refusals as short messages (JSON under /api/), and no exception text to a client."""
    api = request.path.startswith("/api/")
    try:
        return await handler(request)
    except RequestError as exc:
        if api:
            return error(exc.status, exc.message)
        headers = {"WWW-Authenticate": 'Bearer realm="wifimon"'} if exc.status == 401 else None
        return web.Response(status=exc.status, text=exc.message + "\n", headers=headers)
    except web.HTTPException as exc:
        if not api or exc.status < 400:
            raise
        answer = error(exc.status, STATUS_MESSAGES.get(exc.status, exc.reason.lower()))
        if "Allow" in exc.headers:
            answer.headers["Allow"] = exc.headers["Allow"]
        return answer
    except Exception:
        log.exception("request failed method=%s path=%s", request.method, request.path)
        message = "internal error; the daemon log has the details"
        if api:
            return error(500, message)
        return web.Response(status=500, text=message + "\n")


def authorize(request: web.Request, permission: str) -> None:
    """Raise 401 unless one valid bearer token is sent, 403 unless its role has `permission`."""
    daemon = request.app[DAEMON_KEY]
    sent = request.headers.getall("Authorization", [])
    if len(sent) > 1:
        raise RequestError("send one Authorization header, not several")
    grant = permissions_of(daemon.config.model.api, sent[0] if sent else None)
    if grant is None:
        raise RequestError("a valid bearer token is required", 401)
    if permission not in grant[1]:
        raise RequestError(f"this token's role may not {permission}", 403)


def requires(permission: str) -> Callable[[Handler], Handler]:
    """Only requests whose token's role has `permission` get through."""

    def decorate(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            authorize(request, permission)
            return await handler(request)

        return guarded

    return decorate


# ----------------------------------------------------------------------------- request bodies


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


async def json_body(request: web.Request) -> Any:
    """The request's body as JSON (UTF-8, finite numbers), or a RequestError saying why not."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise RequestError(STATUS_MESSAGES[413], 413) from None
    except web.RequestPayloadError:  # e.g. Content-Encoding: gzip on bytes that are not
        request.content.feed_eof()  # aiohttp would read it again after the answer, and log
        raise RequestError("the body cannot be read as its Content-Encoding says") from None
    if not raw.strip():
        raise RequestError("the body is empty; send a JSON object")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RequestError("the body must be JSON in UTF-8") from None
    try:
        return json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except RecursionError:
        raise RequestError("the body is nested too deeply") from None
    except ValueError:
        raise RequestError("the body must be JSON") from None


async def json_object(request: web.Request, fields: Collection[str], shape: str) -> dict[str, Any]:
    """The request's JSON object with only `fields`; `shape` describes it in refusals."""
    body = await json_body(request)
    if not isinstance(body, dict):
        raise RequestError(f"the body must be a JSON object {shape}")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise RequestError(f"unknown field {shown(unknown[0])}; the body must be a JSON object "
                           f"{shape}")  # fmt: skip
    return body


def text_field(body: Mapping[str, Any], name: str, longest: int, required: bool = True
               ) -> str:  # fmt: skip
    """A string field of 1 to `longest` characters ("" when optional and absent)."""
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > longest:
        raise RequestError(f"{name}: expected a text of 1 to {longest} characters")
    return value


def time_field(body: Mapping[str, Any], name: str) -> float | None:
    """A time in Unix seconds between 2000 and 2100, or None when absent."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not EARLIEST <= value < LATEST:  # fmt: skip
        raise RequestError(f"{name}: expected a time in Unix seconds between 2000-01-01 and "
                           "2100-01-01")  # fmt: skip
    return float(value)


def duration_field(value: Any, name: str) -> str:
    """A duration such as `2h`, from 1s to 7d."""
    message = (f"{name}: expected a duration such as 90s, 15m, 2h or 1d, from 1s to "
               f"{MAX_WINDOW_SECONDS // 86_400}d")  # fmt: skip
    if not isinstance(value, str) or DURATION.fullmatch(value) is None:
        raise RequestError(message)
    try:
        parse_duration(value)
    except ValueError:
        raise RequestError(message) from None
    return value


def matchers_field(body: Mapping[str, Any]) -> dict[str, str]:
    """`{label: value or ~regex}` on the labels alerts carry."""
    value = body.get("matchers")
    if not isinstance(value, dict) or not value:
        raise RequestError('matchers: expected an object of labels to values, e.g. '
                           '{"kelurahan": "Galur"}')  # fmt: skip
    for label, wanted in value.items():
        if label not in LABELS:
            raise RequestError(f"matchers: cannot match on {shown(label)} (use "
                               f"{', '.join(LABELS)})")  # fmt: skip
        if not isinstance(wanted, str) or not wanted or len(wanted) > MAX_MATCHER:
            raise RequestError(f"matchers.{label}: expected a text of 1 to {MAX_MATCHER} "
                               "characters (a value, or ~ and a regular expression)")  # fmt: skip
        if wanted.startswith("~"):
            try:
                re.compile(wanted[1:])
            except re.error:
                raise RequestError(f"matchers.{label}: not a valid regular expression") from None
    return dict(value)


def weekly_field(body: Mapping[str, Any]) -> Weekly | None:
    """`{days, start, duration}` of a weekly window, or None when absent."""
    value = body.get("weekly")
    if value is None:
        return None
    shape = "weekly: expected an object with days, start (HH:MM) and duration"
    if not isinstance(value, dict) or set(value) != {"days", "start", "duration"}:
        raise RequestError(shape)
    days = value["days"]
    if not isinstance(days, list) or not days or any(d not in WEEKDAYS for d in days):
        raise RequestError(f"weekly.days: expected a list of {', '.join(WEEKDAYS)}")
    start = value["start"]
    if not isinstance(start, str) or re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", start) is None:
        raise RequestError("weekly.start: expected a time of day as HH:MM (WIB)")
    duration = duration_field(value["duration"], "weekly.duration")
    return Weekly(days=days, start=start, duration=duration)


def bool_field(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise RequestError(f"{name}: expected true or false")
    return value


def no_parameters(request: web.Request) -> None:
    """Endpoints that take no query parameters say so instead of ignoring one."""
    if request.query:
        raise RequestError(f"unknown parameter {shown(next(iter(request.query)))}")


# ----------------------------------------------------------------------------- endpoints


def single(query: MultiMapping[str], repeatable: Collection[str] = ()) -> None:
    """A parameter given twice is ambiguous: refuse it rather than pick one."""
    for name in set(query) - set(repeatable):
        if len(query.getall(name)) > 1:
            raise RequestError(f"give {shown(name)} once")


@requires("alerts:read")
async def list_alerts(request: web.Request) -> web.Response:
    """Pending and firing alerts, filtered by `state` and any label (`?kelurahan=Galur`)."""
    daemon = request.app[DAEMON_KEY]
    unknown = sorted(set(request.query) - {"state", *ALERT_FILTERS})
    if unknown:
        raise RequestError(f"unknown filter {shown(unknown[0])}; use state or "
                           f"{', '.join(ALERT_FILTERS)}")  # fmt: skip
    single(request.query)
    state = request.query.get("state")
    if state not in (None, "pending", "firing"):
        raise RequestError("state must be pending or firing")
    wanted = {k: v for k, v in request.query.items() if k in ALERT_FILTERS}
    alerts: list[dict[str, Any]] = []
    engine = daemon.engine
    for active in engine.active() if engine is not None else ():
        if state is not None and active.alert.state != AlertState(state):
            continue
        if any(active.labels.get(k) != v for k, v in wanted.items()):
            continue
        alerts.append({
            "id": active.id,
            "alertname": active.rule.name,
            "state": active.alert.state.value,
            "severity": active.rule.severity,
            "labels": active.labels,
            "annotations": active.annotations,
            "active_since": active.alert.active_since,
            "fired_at": active.alert.fired_at,
            "flapping": active.alert.flapping,
            "silenced_by": active.silenced_by,
            "inhibited_by": active.inhibited_by,
            "held_from": active.held_from,
            "members": active.members,
            "grouped_into": active.grouped_into,
            "acknowledged": active.ack.model_dump() if active.ack else None,
            "told": active.told.roles,
        })  # fmt: skip
    alerts.sort(key=lambda a: (a["state"] != "firing", a["alertname"], a["labels"].get("hotspot")))
    return web.json_response({"alerts": alerts})


@requires("alerts:ack")
async def ack_alert(request: web.Request) -> web.Response:
    """POST {by, comment}: acknowledge a firing alert; escalation and reminders stop."""
    daemon = request.app[DAEMON_KEY]
    no_parameters(request)
    body = await json_object(request, {"by", "comment"}, "with `by` and optional `comment`")
    by = text_field(body, "by", 100)
    comment = text_field(body, "comment", 500, required=False)
    engine = daemon.engine
    firing = {a.id: a.alert.fired_at for a in (engine.active() if engine else ())
              if a.alert.state == AlertState.FIRING and a.alert.fired_at is not None}  # fmt: skip
    alert_id = request.match_info["id"]
    if alert_id not in firing:
        raise RequestError(f"no firing alert {shown(alert_id)}", 404)
    ack: Ack = _stored(lambda: acknowledge(daemon.acks, firing, alert_id, by, comment,
                                           time.time()), "acknowledgements")  # fmt: skip
    return web.json_response(ack.model_dump(), status=201)


def _stored(change: Callable[[], Any], what: str) -> Any:
    """Run a change of a shared file; one that cannot be read is the server's problem (503)."""
    try:
        return change()
    except ConfigError as exc:
        log.error("%s cannot be changed: %s", what, exc)
        raise RequestError(f"the {what} file cannot be read; the daemon log says why", 503) \
            from None  # fmt: skip


@requires("silences:read")
async def list_silences(request: web.Request) -> web.Response:
    """Every silence with its state now (active, pending, expired)."""
    daemon = request.app[DAEMON_KEY]
    no_parameters(request)
    now = time.time()
    silences = _stored(daemon.silences.load, "silences")
    items = [{**s.model_dump(mode="json"), "state": s.state(now)} for s in silences]
    return web.json_response({"silences": items})


SILENCE_FIELDS = ("matchers", "author", "reason", "duration", "weekly", "maintenance",
                  "starts_at", "until")  # fmt: skip


@requires("silences:write")
async def add_silence(request: web.Request) -> web.Response:
    """POST {matchers, author, reason, duration | weekly {days, start, duration}, maintenance}."""
    daemon = request.app[DAEMON_KEY]
    no_parameters(request)
    body = await json_object(request, SILENCE_FIELDS, "with matchers, author, reason, and "
                             "duration or weekly")  # fmt: skip
    matchers = matchers_field(body)
    author, reason = text_field(body, "author", MAX_AUTHOR), text_field(body, "reason", MAX_REASON)
    weekly = weekly_field(body)
    duration = None if body.get("duration") is None else duration_field(body["duration"],
                                                                          "duration")  # fmt: skip
    if (duration is None) == (weekly is None):
        raise RequestError("give either a duration or a weekly window")
    now = time.time()
    starts_at, until = time_field(body, "starts_at"), time_field(body, "until")
    if until is not None and duration is not None:
        raise RequestError("until: goes with a weekly window; a duration ends by itself")
    if until is not None and until <= (starts_at if starts_at is not None else now):
        raise RequestError("until: must be after starts_at (or now)")
    maintenance = bool_field(body, "maintenance")
    silence = _stored(lambda: daemon.silences.add(
        matchers, author, reason, now, duration=duration, starts_at=starts_at, weekly=weekly,
        until=until, maintenance=maintenance), "silences")  # fmt: skip
    return web.json_response(silence.model_dump(mode="json"), status=201)


@requires("silences:write")
async def expire_silence(request: web.Request) -> web.Response:
    daemon = request.app[DAEMON_KEY]
    no_parameters(request)
    silence_id = request.match_info["id"]
    known = {s.id for s in _stored(daemon.silences.load, "silences")}
    if silence_id not in known:
        raise RequestError(f"no silence with id {shown(silence_id)}", 404)
    silence = _stored(lambda: daemon.silences.expire(silence_id, time.time()), "silences")
    return web.json_response(silence.model_dump(mode="json"))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/silences", list_silences)
    app.router.add_post("/api/v1/silences", add_silence)
    app.router.add_delete("/api/v1/silences/{id}", expire_silence)
    app.router.add_get("/api/v1/alerts", list_alerts)
    app.router.add_post("/api/v1/alerts/{id}/ack", ack_alert)
    app.router.add_get("/api/v1/reports/uptime", uptime_report)
    app.router.add_get("/api/v1/reports/alerts", alert_log)
    app[REPORT_SLOT] = asyncio.Semaphore(1)


REPORT_PARAMETERS = {"month", "from", "to", "by", "hotspot", "provider", "format", "language"}
REPORT_TYPES = {"csv": "text/csv", "json": "application/json", "html": "text/html",
                "pdf": "application/pdf"}  # fmt: skip


@requires("reports:read")
async def uptime_report(request: web.Request) -> web.Response:
    """The uptime/SLA report of this instance's titik, as `wifimon report uptime` makes it."""
    daemon = request.app[DAEMON_KEY]
    query = request.query
    form = query.get("format", "json")
    language = query.get("language", daemon.config.model.reports.language)
    by = query.get("by", "kelurahan")
    _check_query(query, REPORT_PARAMETERS, {"format": (form, REPORT_TYPES),
                                            "language": (language, LABELS_BY),
                                            "by": (by, GROUPINGS)})  # fmt: skip
    hotspots = tuple(h for value in query.getall("hotspot", []) for h in value.split(",") if h)
    now = time.time()
    try:
        period = parse_period(query.get("month"), query.get("from"), query.get("to"), now)
        wanted = ReportQuery(period, by, hotspots, query.get("provider"))  # type: ignore[arg-type]
        async with request.app[REPORT_SLOT]:  # one report at a time: they take CPU seconds
            body = await asyncio.to_thread(_report_file, daemon, wanted, now, form, language)
    except ReportInputError as exc:
        raise _report_error(exc) from None
    name = f"wifimon-uptime-{datetime.fromtimestamp(period.start, WIB):%Y-%m-%d}.{form}"
    return web.Response(body=body, content_type=REPORT_TYPES[form],
                        charset=None if form == "pdf" else "utf-8",
                        headers={"Content-Disposition": f'inline; filename="{name}"'})  # fmt: skip


@requires("reports:read")
async def alert_log(request: web.Request) -> web.Response:
    """This instance's alert log and delivery outcomes over a period (JSON or CSV)."""
    daemon = request.app[DAEMON_KEY]
    query = request.query
    form = query.get("format", "json")
    _check_query(query, {"month", "from", "to", "format"}, {"format": (form, ("csv", "json"))})
    try:
        period = parse_period(query.get("month"), query.get("from"), query.get("to"),
                              time.time())  # fmt: skip
        text, _ = await asyncio.to_thread(alertlog.alert_log_text, daemon.config, period, form,
                                          own=daemon.state_dir)  # fmt: skip
    except ReportInputError as exc:
        raise _report_error(exc) from None
    return web.Response(text=text, content_type=REPORT_TYPES[form])


def _check_query(query: MultiMapping[str], parameters: set[str],
                 choices: dict[str, tuple[str, Collection[str]]]) -> None:  # fmt: skip
    """Refuse an unknown or repeated parameter, or a value not among its choices."""
    unknown = sorted(set(query) - parameters)
    if unknown:
        raise RequestError(f"unknown parameter {shown(unknown[0])}")
    single(query, repeatable={"hotspot"})
    for name, (value, allowed) in choices.items():
        if value not in allowed:
            raise RequestError(f"{name} {shown(value)} is not one of "
                               f"{', '.join(sorted(allowed))}")  # fmt: skip


def _report_error(exc: ReportInputError) -> RequestError:
    if isinstance(exc, NoHistory):
        return RequestError("this instance has no history yet", 404)  # its path stays here
    return RequestError(str(exc))


def _report_file(daemon: DaemonView, query: ReportQuery, now: float, form: str, language: str
                 ) -> bytes:  # fmt: skip
    report = make_report(daemon.config, query, now, own=daemon.state_dir)
    return report_file(report, form, language, daemon.config.model.reports)
