"""HTTP: /metrics, health and readiness, and POST /-/reload."""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from wifimon.api import (
    DAEMON_KEY,
    MAX_BODY_BYTES,
    DaemonView,
    RequestError,
    add_routes,
    authorize,
    plain_errors,
)
from wifimon.errors import ConfigError

log = logging.getLogger(__name__)
RELOAD_TOKEN_REQUIRED = ("a bearer token whose role has config:reload is required (or "
                         "api.reload_without_token: true in the config)")  # fmt: skip


def build_app(daemon: DaemonView) -> web.Application:
    """The aiohttp application for a daemon."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[plain_errors])
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
    if daemon.started:
        return web.Response(text="wifimon is ready\n")
    return web.Response(status=503, text="wifimon is starting\n")


async def reload(request: web.Request) -> web.Response:
    """Reload config (a token with config:reload, unless api.reload_without_token); 400 with
    the reason when the new config is refused."""
    daemon = request.app[DAEMON_KEY]
    if not daemon.config.model.api.reload_without_token:
        try:
            authorize(request, "config:reload")
        except RequestError as exc:
            if exc.status != 401:
                raise
            raise RequestError(RELOAD_TOKEN_REQUIRED, 401) from None
    try:
        await daemon.reload()
    except ConfigError as exc:
        return web.Response(status=400, text=f"config refused: {exc}\n")
    return web.Response(text="config reloaded\n")


class PlainRefusals(web.RequestHandler):
    """A connection that answers a request the HTTP parser refuses without quoting it:
    aiohttp's answer and log repeat the offending line, which may hold a token."""

    __slots__ = ()

    def handle_error(self, request: web.BaseRequest, status: int = 500,
                     exc: BaseException | None = None, message: str | None = None
                     ) -> web.StreamResponse:  # fmt: skip
        if not 400 <= status < 500:
            return super().handle_error(request, status, exc, message)
        log.debug("malformed HTTP request refused status=%d reason=%s", status,
                  type(exc).__name__)  # fmt: skip
        if request.writer.output_size > 0:
            raise ConnectionError("an answer was sent already")
        response = web.Response(status=status, text="malformed HTTP request\n")
        response.force_close()
        return response


class PlainServer(web.Server):
    """Connections of PlainRefusals."""

    def __call__(self) -> web.RequestHandler:
        handler = super().__call__()
        handler.__class__ = PlainRefusals  # same slots: only handle_error differs
        return handler


class PlainRunner(web.AppRunner):
    """An AppRunner whose server is a PlainServer."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = PlainServer  # the Server aiohttp set up, with PlainRefusals
        return server


async def start_web(daemon: DaemonView) -> web.AppRunner:
    """Bind the HTTP server to the configured listen address."""
    config = daemon.config
    host, _, port = config.model.daemon.listen.rpartition(":")
    runner = PlainRunner(build_app(daemon), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host.strip("[]"), int(port))
    await site.start()
    log.info("listening address=%s", config.model.daemon.listen)
    return runner
