"""`wifimon probe`: one probe now, for a configured titik or an ad-hoc target."""

from __future__ import annotations

import argparse
import dataclasses

from wifimon.config import ConfigModel, ThroughputProbeSettings
from wifimon.errors import ConfigError
from wifimon.inventory import Hotspot
from wifimon.probes.http import http_throughput
from wifimon.probes.icmp import IcmpProber
from wifimon.probes.results import ProbeResult
from wifimon.probes.runner import iperf3_with, measure_throughput


async def run_probe(args: argparse.Namespace) -> ProbeResult:
    """Resolve the target from the hotspot or the ad-hoc options, then probe once."""
    if args.hotspot:
        if args.config is None:
            raise ConfigError("probing a hotspot needs --config")
        from wifimon import config as config_module

        cfg = config_module.load(args.config)
        hotspot = _find(cfg.inventory.hotspots, args.hotspot)
        return await _probe_hotspot(hotspot, cfg.model, args)
    return await _probe_adhoc(args, ConfigModel())


def _find(hotspots: list[Hotspot], hotspot_id: str) -> Hotspot:
    for hotspot in hotspots:
        if hotspot.id == hotspot_id:
            return hotspot
    raise ConfigError(f"no hotspot {hotspot_id!r} in the inventory")


def _throughput_settings(model: ConfigModel, args: argparse.Namespace) -> ThroughputProbeSettings:
    """The configured settings with any command-line overrides."""
    overrides = {
        "streams": args.streams,
        "warmup_seconds": args.warmup,
        "duration_seconds": args.duration,
        "max_bytes": args.max_bytes,
        "upload": args.upload or None,
    }
    values = {k: v for k, v in overrides.items() if v is not None}
    return ThroughputProbeSettings.model_validate(
        {**model.probes.throughput.model_dump(), **values}
    )


async def _probe_hotspot(
    hotspot: Hotspot, model: ConfigModel, args: argparse.Namespace
) -> ProbeResult:
    kind = args.kind or hotspot.throughput_kind or "icmp"
    if kind == "icmp":
        return await _ping(hotspot.ping_target, model, args)
    return await measure_throughput(hotspot, _throughput_settings(model, args), kind)


async def _probe_adhoc(args: argparse.Namespace, model: ConfigModel) -> ProbeResult:
    if args.url:
        if args.kind not in (None, "http"):
            raise ConfigError("--url goes with --kind http")
        return await http_throughput(args.url, _throughput_settings(model, args).settings())
    if not args.host:
        raise ConfigError("give a HOTSPOT_ID with --config, or --url, or --host")
    if args.kind == "iperf3":
        return await iperf3_with(args.host, args.port, _throughput_settings(model, args))
    if args.kind not in (None, "icmp"):
        raise ConfigError("--host goes with --kind icmp or --kind iperf3")
    return await _ping(args.host, model, args)


async def _ping(target: str, model: ConfigModel, args: argparse.Namespace) -> ProbeResult:
    icmp = model.probes.icmp
    prober = IcmpProber(tcp_port=icmp.tcp_fallback_port)
    try:
        return await prober.ping(
            target, args.count or icmp.count, icmp.spacing_seconds, icmp.timeout_seconds
        )
    finally:
        prober.close()


def render_text(result: ProbeResult) -> str:
    """A few lines for a person."""
    data = dataclasses.asdict(result)
    lines = [f"{result.kind} probe of {result.target}: {'ok' if result.ok else 'FAILED'}"]
    if result.error:
        lines.append(f"  error: {result.error}")
    if result.kind in ("icmp", "tcp"):
        lines.append(f"  replies: {result.received}/{result.sent}, loss {data['loss_ratio']}")
        if result.rtt_avg_seconds is not None:
            lines.append(
                f"  rtt ms: min {result.rtt_min_seconds * 1e3:.2f} "  # type: ignore[operator]
                f"avg {result.rtt_avg_seconds * 1e3:.2f} "
                f"max {result.rtt_max_seconds * 1e3:.2f} "  # type: ignore[operator]
                f"jitter {(result.jitter_seconds or 0) * 1e3:.2f}"
            )
    for direction in ("download", "upload"):
        median = getattr(result, f"{direction}_bps")
        if median is not None:
            p10 = getattr(result, f"{direction}_p10_bps")
            lines.append(f"  {direction}: {median / 1e6:.1f} Mbps (p10 {p10 / 1e6:.1f} Mbps)")
    if result.bytes:
        lines.append(f"  {result.bytes} bytes in {result.duration_seconds:.1f} s")
    return "\n".join(lines)
