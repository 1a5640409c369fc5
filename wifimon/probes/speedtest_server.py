"""A small HTTP endpoint for throughput probes: GET streams bytes, POST swallows them."""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web

BLOCK = bytes(256 * 1024)
PACED_BLOCK = bytes(16 * 1024)
MAX_SECONDS = 120.0


async def download(request: web.Request) -> web.StreamResponse:
    """Stream zeros until the client goes away (or MAX_SECONDS).

    `?mbps=N` paces the stream to N Mbit/s per connection: a stand-in for a provider's
    link in demos and tests where the network itself is not shaped.
    """
    try:
        mbps = float(request.query.get("mbps", "0"))
    except ValueError:
        raise web.HTTPBadRequest(text="mbps must be a number") from None
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    started = loop.time()
    end = started + MAX_SECONDS
    block = PACED_BLOCK if mbps > 0 else BLOCK
    sent = 0
    while loop.time() < end:
        try:
            await response.write(block)
        except ConnectionResetError:
            return response  # the probe has what it needs and hung up: the normal end
        sent += len(block)
        if mbps > 0:
            ahead = sent * 8 / (mbps * 1e6) - (loop.time() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)
    return response


async def upload(request: web.Request) -> web.Response:
    """Read and discard the body; answer how many bytes arrived."""
    received = 0
    async for chunk in request.content.iter_any():
        received += len(chunk)
    return web.json_response({"bytes": received})


def build_app() -> web.Application:
    app = web.Application(client_max_size=0)
    app.router.add_get("/download", download)
    app.router.add_post("/download", upload)
    app.router.add_post("/upload", upload)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    web.run_app(build_app(), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
