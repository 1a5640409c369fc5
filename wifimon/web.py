"""HTTP: /metrics, health and readiness, and POST /-/reload."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from wifimon.api import DAEMON_KEY, add_routes
from wifimon.errors import ConfigError

if TYPE_CHECKING:
    from wifimon.daemon import Daemon

log = logging.getLogger(__name__)


def build_app(daemon: Daemon) -> web.Application:
    """The aiohttp application for a daemon."""
    app = web.Application()
    app[DAEMON_KEY] = daemon
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/-/ready", ready)
    app.router.add_post("/-/reload", reload)
    add_routes(app)
    return app


async def metrics(request: web.Request) -> web.Response:
    """Render the registry off the event loop: large fleets take a while to serialise."""
    daemon = request.app[DAEMON_KEY]
    body = await daemon.metrics_body()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def healthy(request: web.Request) -> web.Response:
    return web.Response(text="wifimon is healthy\n")


async def ready(request: web.Request) -> web.Response:
    daemon = request.app[DAEMON_KEY]
    if getattr(daemon, "started", False):
        return web.Response(text="wifimon is ready\n")
    return web.Response(status=503, text="wifimon is starting\n")


async def reload(request: web.Request) -> web.Response:
    """Reload config; 400 with the reason when the new config is refused."""
    daemon = request.app[DAEMON_KEY]
    try:
        await daemon.reload()
    except ConfigError as exc:
        return web.Response(status=400, text=f"config refused: {exc}\n")
    return web.Response(text="config reloaded\n")


async def start_web(daemon: Daemon) -> web.AppRunner:
    """Bind the HTTP server to the configured listen address."""
    config = daemon.config
    host, _, port = config.model.daemon.listen.rpartition(":")
    runner = web.AppRunner(build_app(daemon), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host.strip("[]"), int(port))
    await site.start()
    log.info("listening address=%s", config.model.daemon.listen)
    return runner
