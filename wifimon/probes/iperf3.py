"""Throughput with the iperf3 client (JSON output) against a site's iperf3 server."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from typing import Any

from wifimon.probes.http import ThroughputSettings
from wifimon.probes.results import ProbeResult
from wifimon.probes.stats import percentile

DEFAULT_PORT = 5201
DEFAULT_BUSY_RETRIES = 2
DEFAULT_BUSY_DELAY_SECONDS = 5.0
INTERVAL_SECONDS = 0.5
EXTRA_DEADLINE_SECONDS = 10.0


def command(host: str, port: int, settings: ThroughputSettings, reverse: bool) -> list[str]:
    """The iperf3 client command line: JSON, warm-up omitted, parallel streams.

    iperf3 takes one end condition only, so the test is bounded by time (not bytes).
    """
    args = [
        shutil.which("iperf3") or "iperf3",
        "--client",
        host,
        "--port",
        str(port),
        "--json",
        "--time",
        f"{settings.duration_seconds:g}",
        "--omit",
        f"{settings.warmup_seconds:g}",
        "--parallel",
        str(settings.streams),
        "--interval",
        f"{INTERVAL_SECONDS:g}",
        "--connect-timeout",
        "5000",
    ]
    if reverse:
        args.append("--reverse")
    return args


def parse_report(report: dict[str, Any]) -> tuple[list[float], int, float]:
    """(per-interval bits/s after the warm-up, bytes, seconds) from iperf3's JSON report."""
    rates = [
        float(interval["sum"]["bits_per_second"])
        for interval in report.get("intervals", [])
        if not interval["sum"].get("omitted", False)
    ]
    end = report.get("end", {}).get("sum_received", {})
    return rates, int(end.get("bytes", 0)), float(end.get("seconds", 0.0))


def classify_error(message: str) -> str:
    """A metrics reason for iperf3's error text."""
    text = message.lower()
    if "busy" in text:
        return "busy"
    if "refused" in text:
        return "refused"
    if "timed out" in text or "timeout" in text:
        return "timeout"
    if "unable to connect" in text or "no route" in text or "unreachable" in text:
        return "connect"
    return "iperf3_error"


async def iperf3_throughput(
    host: str,
    settings: ThroughputSettings,
    port: int = DEFAULT_PORT,
    busy_retries: int = DEFAULT_BUSY_RETRIES,
    busy_delay: float = DEFAULT_BUSY_DELAY_SECONDS,
) -> ProbeResult:
    """Download (reverse) and optional upload; a busy server is tried again later."""
    started = time.time()
    target = f"{host}:{port}"
    result = ProbeResult(kind="iperf3", target=target, ok=False, started=started)
    directions = [("download", True)] + ([("upload", False)] if settings.upload else [])
    for direction, reverse in directions:
        for attempt in range(busy_retries + 1):
            report, error = await _run(command(host, port, settings, reverse), settings)
            if error is None or classify_error(error) != "busy" or attempt == busy_retries:
                break
            await asyncio.sleep(busy_delay)
        if error is not None or report is None:
            result.ok = False
            result.reason = classify_error(error or "")
            result.error = f"{direction} from {target}: {error}"
            break
        rates, size, _ = parse_report(report)
        if not rates:
            result.ok, result.reason = False, "no_data"
            result.error = f"{direction} from {target}: no intervals after the warm-up"
            break
        setattr(result, f"{direction}_bps", percentile(rates, 0.5))
        setattr(result, f"{direction}_p10_bps", percentile(rates, 0.1))
        result.bytes += size
        result.ok = True
    result.duration_seconds = time.time() - started
    return result


async def _run(
    args: list[str], settings: ThroughputSettings
) -> tuple[dict[str, Any] | None, str | None]:
    """Run iperf3; (report, None) on success, (None, message) on any failure."""
    try:
        process = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
    except FileNotFoundError:
        return None, "iperf3 is not installed"
    deadline = settings.warmup_seconds + settings.duration_seconds + EXTRA_DEADLINE_SECONDS
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=deadline)
    except TimeoutError:
        process.kill()
        await process.wait()
        return None, f"iperf3 did not finish within {deadline:g} s (timed out)"
    try:
        report = json.loads(stdout.decode() or "{}")
    except json.JSONDecodeError:
        return None, stderr.decode(errors="replace").strip() or "unreadable iperf3 output"
    if report.get("error"):
        return None, str(report["error"])
    if process.returncode != 0:
        return None, stderr.decode(errors="replace").strip() or f"exit {process.returncode}"
    return report, None
