"""/api/v1: JSON over HTTP for the NOC and auditors, every endpoint behind a bearer token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from wifimon.alerts.lifecycle import AlertState
from wifimon.api_auth import permissions_of

if TYPE_CHECKING:
    from wifimon.daemon import Daemon

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DAEMON_KEY: web.AppKey[Daemon] = web.AppKey("daemon")
ALERT_FILTERS = ("alertname", "severity", "hotspot", "ap", "kota", "kecamatan", "kelurahan",
                 "rw", "provider")  # fmt: skip


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
            "alertname": active.rule.name,
            "state": active.alert.state.value,
            "severity": active.rule.severity,
            "labels": active.labels,
            "summary": active.rule.summary,
            "active_since": active.alert.active_since,
            "fired_at": active.alert.fired_at,
            "flapping": active.alert.flapping,
        })  # fmt: skip
    alerts.sort(key=lambda a: (a["state"] != "firing", a["alertname"], a["labels"].get("hotspot")))
    return web.json_response({"alerts": alerts})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/alerts", list_alerts)
