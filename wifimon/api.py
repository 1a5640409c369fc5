"""/api/v1: JSON over HTTP for the NOC and auditors, every endpoint behind a bearer token."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, get_args

from aiohttp import web
from pydantic import ValidationError

from wifimon.alerts.acks import acknowledge
from wifimon.alerts.lifecycle import AlertState
from wifimon.alerts.matchers import LABELS
from wifimon.alerts.silences import Weekly
from wifimon.alerts.templates import WIB
from wifimon.api_auth import permissions_of
from wifimon.errors import ConfigError
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
    from wifimon.daemon import Daemon

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DAEMON_KEY: web.AppKey[Daemon] = web.AppKey("daemon")
ALERT_FILTERS = LABELS
REPORT_SLOT: web.AppKey[asyncio.Semaphore] = web.AppKey("report_slot")
GROUPINGS = set(get_args(GroupBy))


def error(status: int, message: str) -> web.Response:
    headers = {"WWW-Authenticate": 'Bearer realm="wifimon"'} if status == 401 else None
    return web.json_response({"error": message}, status=status, headers=headers)


def requires(permission: str) -> Callable[[Handler], Handler]:
    """Only requests whose token's role has `permission` get through."""

    def decorate(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            daemon: Daemon = request.app[DAEMON_KEY]
            grant = permissions_of(daemon.config.model.api, request.headers.get("Authorization"))
            if grant is None:
                return error(401, "a valid bearer token is required")
            if permission not in grant[1]:
                return error(403, f"this token's role may not {permission}")
            return await handler(request)

        return guarded

    return decorate


async def json_object(
    request: web.Request, fields: set[str], shape: str | None = None
) -> dict[str, Any] | web.Response:
    """The request's JSON object with only `fields`, or the 400 answer saying what is wrong
    (`shape`, when given, describes the whole expected object instead)."""
    try:
        body = await request.json()
    except ValueError:
        return error(400, "the body must be JSON")
    if not isinstance(body, dict):
        return error(400, f"the body must be a JSON object {shape or ''}".rstrip())
    unknown = set(body) - fields
    if unknown:
        if shape:
            return error(400, f"the body must be a JSON object {shape}")
        return error(400, f"unknown field {sorted(unknown)[0]!r}")
    return body


@requires("alerts:read")
async def list_alerts(request: web.Request) -> web.Response:
    """Pending and firing alerts, filtered by `state` and any label (`?kelurahan=Galur`)."""
    daemon: Daemon = request.app[DAEMON_KEY]
    unknown = set(request.query) - {"state", *ALERT_FILTERS}
    if unknown:
        return error(400, f"unknown filter {sorted(unknown)[0]!r}; use state or "
                          f"{', '.join(ALERT_FILTERS)}")  # fmt: skip
    state = request.query.get("state")
    if state not in (None, "pending", "firing"):
        return error(400, "state must be pending or firing")
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
    daemon: Daemon = request.app[DAEMON_KEY]
    body = await json_object(request, {"by", "comment"}, "with `by` and optional `comment`")
    if isinstance(body, web.Response):
        return body
    engine = daemon.engine
    firing = {a.id: a.alert.fired_at for a in (engine.active() if engine else ())
              if a.alert.state == AlertState.FIRING and a.alert.fired_at is not None}  # fmt: skip
    alert_id = request.match_info["id"]
    if alert_id not in firing:
        return error(404, f"no firing alert {alert_id!r}")
    try:
        ack = acknowledge(daemon.acks, firing, alert_id, str(body.get("by", "")),
                          str(body.get("comment", "")), time.time())  # fmt: skip
    except ConfigError as exc:
        return error(400, str(exc))
    return web.json_response(ack.model_dump(), status=201)


@requires("silences:read")
async def list_silences(request: web.Request) -> web.Response:
    """Every silence with its state now (active, pending, expired)."""
    daemon: Daemon = request.app[DAEMON_KEY]
    now = time.time()
    items = [{**s.model_dump(mode="json"), "state": s.state(now)} for s in daemon.silences.load()]
    return web.json_response({"silences": items})


@requires("silences:write")
async def add_silence(request: web.Request) -> web.Response:
    """POST {matchers, author, reason, duration | weekly {days, start, duration}, maintenance}."""
    daemon: Daemon = request.app[DAEMON_KEY]
    body = await json_object(request, {"matchers", "author", "reason", "duration", "weekly",
                                       "maintenance", "starts_at", "until"})  # fmt: skip
    if isinstance(body, web.Response):
        return body
    try:
        weekly = Weekly.model_validate(body["weekly"]) if body.get("weekly") else None
        silence = daemon.silences.add(
            dict(body.get("matchers") or {}), str(body.get("author", "")),
            str(body.get("reason", "")), time.time(), duration=body.get("duration"),
            starts_at=body.get("starts_at"), weekly=weekly, until=body.get("until"),
            maintenance=bool(body.get("maintenance", False)))  # fmt: skip
    except (ConfigError, ValidationError, TypeError) as exc:
        return error(400, str(exc).splitlines()[0])
    return web.json_response(silence.model_dump(mode="json"), status=201)


@requires("silences:write")
async def expire_silence(request: web.Request) -> web.Response:
    daemon: Daemon = request.app[DAEMON_KEY]
    try:
        silence = daemon.silences.expire(request.match_info["id"], time.time())
    except ConfigError as exc:
        return error(404, str(exc))
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
    daemon: Daemon = request.app[DAEMON_KEY]
    query = request.query
    form = query.get("format", "json")
    language = query.get("language", daemon.config.model.reports.language)
    by = query.get("by", "kelurahan")
    bad = _bad_query(query, REPORT_PARAMETERS, {"format": (form, REPORT_TYPES),
                                                "language": (language, LABELS_BY),
                                                "by": (by, GROUPINGS)})  # fmt: skip
    if bad is not None:
        return bad
    hotspots = tuple(h for value in query.getall("hotspot", []) for h in value.split(",") if h)
    now = time.time()
    try:
        period = parse_period(query.get("month"), query.get("from"), query.get("to"), now)
        wanted = ReportQuery(period, by, hotspots, query.get("provider"))  # type: ignore[arg-type]
        async with request.app[REPORT_SLOT]:  # one report at a time: they take CPU seconds
            body = await asyncio.to_thread(_report_file, daemon, wanted, now, form, language)
    except ReportInputError as exc:
        return _report_error(exc)
    name = f"wifimon-uptime-{datetime.fromtimestamp(period.start, WIB):%Y-%m-%d}.{form}"
    return web.Response(body=body, content_type=REPORT_TYPES[form],
                        charset=None if form == "pdf" else "utf-8",
                        headers={"Content-Disposition": f'inline; filename="{name}"'})  # fmt: skip


@requires("reports:read")
async def alert_log(request: web.Request) -> web.Response:
    """This instance's alert log and delivery outcomes over a period (JSON or CSV)."""
    daemon: Daemon = request.app[DAEMON_KEY]
    query = request.query
    form = query.get("format", "json")
    bad = _bad_query(query, {"month", "from", "to", "format"},
                     {"format": (form, ("csv", "json"))})  # fmt: skip
    if bad is not None:
        return bad
    try:
        period = parse_period(query.get("month"), query.get("from"), query.get("to"),
                              time.time())  # fmt: skip
        text, _ = await asyncio.to_thread(alertlog.alert_log_text, daemon.config, period, form,
                                          own=daemon.state_dir)  # fmt: skip
    except ReportInputError as exc:
        return _report_error(exc)
    return web.Response(text=text, content_type=REPORT_TYPES[form])


def _bad_query(query: Mapping[str, str], parameters: set[str],
               choices: dict[str, tuple[str, Collection[str]]]) -> web.Response | None:  # fmt: skip
    """The 400 answer for an unknown parameter or a value not among its choices, if any."""
    unknown = sorted(set(query) - parameters)
    if unknown:
        return error(400, f"unknown parameter {unknown[0]!r}")
    for name, (value, allowed) in choices.items():
        if value not in allowed:
            return error(400, f"{name} {value!r} is not one of {', '.join(sorted(allowed))}")
    return None


def _report_error(exc: ReportInputError) -> web.Response:
    if isinstance(exc, NoHistory):
        return error(404, "this instance has no history yet")  # its path stays on the server
    return error(400, str(exc))


def _report_file(daemon: Daemon, query: ReportQuery, now: float, form: str, language: str
                 ) -> bytes:  # fmt: skip
    report = make_report(daemon.config, query, now, own=daemon.state_dir)
    return report_file(report, form, language, daemon.config.model.reports)
