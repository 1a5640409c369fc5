"""A small HTTP endpoint for throughput probes: GET streams bytes, POST swallows them."""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web

BLOCK = bytes(256 * 1024)
MAX_SECONDS = 120.0


async def download(request: web.Request) -> web.StreamResponse:
    """Stream zeros until the client goes away (or MAX_SECONDS)."""
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    end = loop.time() + MAX_SECONDS
    while loop.time() < end:
        await response.write(BLOCK)
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
