"""HTTP throughput: parallel downloads (and optional uploads), warm-up discarded, bucketed."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp

from wifimon.probes.results import ProbeResult
from wifimon.probes.stats import bucket_rates, percentile

DEFAULT_STREAMS = 4
DEFAULT_WARMUP_SECONDS = 2.0
DEFAULT_DURATION_SECONDS = 10.0
DEFAULT_MAX_BYTES = 250_000_000
DEFAULT_BUCKET_SECONDS = 0.25
CONNECT_TIMEOUT_SECONDS = 5.0
CHUNK = 64 * 1024
# Uploads are counted as the sender hands blocks to the socket, which drains in bursts:
# small blocks and 1 s buckets keep that count close to what the link carries.
UPLOAD_BLOCK = 8 * 1024
UPLOAD_BUCKET_SECONDS = 1.0


@dataclass(frozen=True)
class ThroughputSettings:
    """How long and how hard a throughput probe loads the link."""

    streams: int = DEFAULT_STREAMS
    warmup_seconds: float = DEFAULT_WARMUP_SECONDS
    duration_seconds: float = DEFAULT_DURATION_SECONDS
    max_bytes: int = DEFAULT_MAX_BYTES
    bucket_seconds: float = DEFAULT_BUCKET_SECONDS
    upload: bool = False


class _Transfer:
    """Shared byte log of all streams of one direction; stops them at the byte cap."""

    def __init__(self, max_bytes: int) -> None:
        self.events: list[tuple[float, int]] = []
        self.total = 0
        self.max_bytes = max_bytes
        self.done = asyncio.Event()
        self.errors: list[tuple[str, str]] = []
        self.cap_reached_at: float | None = None

    def fail(self, reason: str, message: str) -> None:
        self.errors.append((reason, message))

    def add(self, size: int) -> None:
        self.events.append((time.monotonic(), size))
        self.total += size
        if self.total >= self.max_bytes and not self.done.is_set():
            self.cap_reached_at = time.monotonic()
            self.done.set()


async def http_throughput(url: str, settings: ThroughputSettings) -> ProbeResult:
    """Measure download (and upload) Mbps against `url`; never runs past its deadline."""
    started = time.time()
    result = ProbeResult(kind="http", target=url, ok=False, started=started)
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=CONNECT_TIMEOUT_SECONDS, sock_read=settings.duration_seconds
    )
    async with aiohttp.ClientSession(timeout=timeout) as session:
        down = await _run_direction(session, url, settings, upload=False)
        _fill(result, down, settings, "download")
        if settings.upload and result.ok:
            up = await _run_direction(session, url, settings, upload=True)
            _fill(result, up, settings, "upload")
    result.duration_seconds = time.time() - started
    return result


async def _run_direction(
    session: aiohttp.ClientSession, url: str, settings: ThroughputSettings, upload: bool
) -> tuple[_Transfer, float, float]:
    """Run all streams until the duration or byte cap; returns the log and its window."""
    transfer = _Transfer(settings.max_bytes)
    begin = time.monotonic()
    worker = _upload_stream if upload else _download_stream
    tasks = [asyncio.create_task(worker(session, url, transfer)) for _ in range(settings.streams)]
    deadline = settings.warmup_seconds + settings.duration_seconds
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_until_done(transfer, tasks), timeout=deadline)
    finally:  # also when the probe itself is cancelled (daemon stopping): no stream outlives it
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return transfer, begin + settings.warmup_seconds, time.monotonic()


async def _until_done(transfer: _Transfer, tasks: list[asyncio.Task[None]]) -> None:
    """Return at the byte cap, or when every stream has ended (errors included)."""
    waiter = asyncio.create_task(transfer.done.wait())
    pending: set[asyncio.Task[object]] = {waiter, *tasks}
    try:
        while waiter in pending and any(task in pending for task in tasks):
            _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()


async def _download_stream(session: aiohttp.ClientSession, url: str, transfer: _Transfer) -> None:
    try:
        async with session.get(url) as response:
            if response.status != 200:
                transfer.fail("http_status", f"server answered HTTP {response.status}")
                return
            async for chunk in response.content.iter_chunked(CHUNK):
                transfer.add(len(chunk))
                if transfer.done.is_set():
                    return
    except Exception as exc:  # every failure of a stream is recorded, none escapes
        transfer.fail(*_classify(exc, session))


async def _upload_stream(session: aiohttp.ClientSession, url: str, transfer: _Transfer) -> None:
    async def body() -> AsyncIterator[bytes]:
        block = bytes(UPLOAD_BLOCK)
        while not transfer.done.is_set():
            transfer.add(len(block))
            yield block

    try:
        async with session.post(url, data=body()) as response:
            await response.read()
    except Exception as exc:  # every failure of a stream is recorded, none escapes
        transfer.fail(*_classify(exc, session))


def _classify(exc: BaseException, session: aiohttp.ClientSession) -> tuple[str, str]:
    """(reason, message) for a failed stream, in words a NOC operator can act on."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return "refused", "connection refused"
        if isinstance(exc.os_error, TimeoutError):
            return "connect", "no answer to the connection attempt"
        return "connect", f"cannot connect ({exc.os_error.strerror or 'network error'})"
    if isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):
        idle = session.timeout.sock_read or 0
        return "stalled", f"server stalled: no data for {idle:g} s"
    if isinstance(exc, aiohttp.ClientError):
        return "transfer", f"transfer failed ({type(exc).__name__})"
    return "transfer", f"transfer failed ({type(exc).__name__})"


def _fill(
    result: ProbeResult,
    measured: tuple[_Transfer, float, float],
    settings: ThroughputSettings,
    direction: str,
) -> None:
    """Median and 10th percentile over buckets after warm-up; an error when there are none."""
    transfer, window_start, window_end = measured
    bucket = settings.bucket_seconds
    if direction == "upload":
        bucket = max(bucket, UPLOAD_BUCKET_SECONDS)
    rates = bucket_rates(transfer.events, window_start, window_end, bucket)
    result.bytes += sum(size for when, size in transfer.events if when >= window_start)
    if rates and any(rates):
        setattr(result, f"{direction}_bps", percentile(rates, 0.5))
        setattr(result, f"{direction}_p10_bps", percentile(rates, 0.1))
        result.extra[f"{direction}_buckets"] = len(rates)
        result.ok = True
        return
    result.ok = False
    if transfer.cap_reached_at is not None and transfer.cap_reached_at < window_start:
        reason, cause = "byte_cap", f"the {settings.max_bytes}-byte cap was reached in warm-up"
    elif transfer.errors:
        reason, cause = transfer.errors[0]
    else:
        reason, cause = "stalled", "no data after the warm-up"
    result.reason = reason
    result.error = f"{direction} from {result.target}: {cause}"
