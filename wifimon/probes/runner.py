"""Runs probes for hotspots under the limits: one throughput probe per titik, a global cap."""

from __future__ import annotations

import asyncio
import logging

from wifimon.config import Config, ThroughputProbeSettings
from wifimon.errors import ConfigError
from wifimon.inventory import Hotspot
from wifimon.probes.http import http_throughput
from wifimon.probes.icmp import IcmpProber
from wifimon.probes.iperf3 import iperf3_throughput
from wifimon.probes.results import ProbeResult
from wifimon.state import State, Status

log = logging.getLogger(__name__)


class ProbeRunner:
    """Owns the shared ICMP socket and the throughput limits; writes results to state."""

    def __init__(self, state: State, config: Config) -> None:
        self.state = state
        self.config = config
        icmp = config.model.probes.icmp
        self.prober = IcmpProber(tcp_port=icmp.tcp_fallback_port)
        self._limit = asyncio.Semaphore(config.model.probes.throughput.max_concurrent)
        self._busy: set[str] = set()

    def reconfigure(self, config: Config) -> None:
        """Adopt new limits; probes already running finish under the old ones."""
        old = self.config.model.probes.throughput.max_concurrent
        self.config = config
        self.prober.tcp_port = config.model.probes.icmp.tcp_fallback_port
        if config.model.probes.throughput.max_concurrent != old:
            self._limit = asyncio.Semaphore(config.model.probes.throughput.max_concurrent)

    async def reachability(self, hotspot_id: str) -> ProbeResult | None:
        """The scheduled ICMP probe of one titik."""
        hotspot = self.state.hotspots.get(hotspot_id)
        if hotspot is None:
            return None
        settings = self.config.model.probes.icmp
        result = await self.prober.ping(
            hotspot.ping_target,
            settings.count,
            settings.spacing_seconds,
            settings.timeout_seconds,
        )
        self.state.record_probe(hotspot_id, result)
        return result

    async def throughput(self, hotspot_id: str, force: bool = False) -> ProbeResult | None:
        """The scheduled throughput probe; skipped while the titik is down or already busy."""
        hotspot = self.state.hotspots.get(hotspot_id)
        if hotspot is None or hotspot.throughput_kind is None:
            return None
        kind = hotspot.throughput_kind
        if not force and self.state.hotspot_view(hotspot_id).status == Status.DOWN:
            self.state.note_probe_skipped(hotspot_id, kind, "hotspot_down")
            return None
        if hotspot_id in self._busy:
            self.state.note_probe_skipped(hotspot_id, kind, "already_running")
            return None
        self._busy.add(hotspot_id)
        try:
            async with self._limit:
                result = await self._measure(hotspot)
        finally:
            self._busy.discard(hotspot_id)
        self.state.record_probe(hotspot_id, result)
        if not result.ok:
            log.info("throughput probe failed hotspot=%s reason=%s", hotspot_id, result.reason)
        return result

    async def _measure(self, hotspot: Hotspot) -> ProbeResult:
        return await measure_throughput(hotspot, self.config.model.probes.throughput)

    def close(self) -> None:
        self.prober.close()


async def measure_throughput(
    hotspot: Hotspot, settings: ThroughputProbeSettings, kind: str | None = None
) -> ProbeResult:
    """One throughput probe of a titik: its HTTP URL, else its iperf3 server."""
    kind = kind or hotspot.throughput_kind
    if kind == "http":
        if not hotspot.probe.http_url:
            raise ConfigError(f"hotspot {hotspot.id} has no probe.http_url")
        return await http_throughput(hotspot.probe.http_url, settings.settings())
    host_port = hotspot.probe.iperf3_host_port
    if kind != "iperf3" or host_port is None:
        raise ConfigError(f"hotspot {hotspot.id} has no probe.iperf3 server")
    return await iperf3_with(host_port[0], host_port[1], settings)


async def iperf3_with(host: str, port: int, settings: ThroughputProbeSettings) -> ProbeResult:
    """iperf3 probe under the configured settings and busy-retry policy."""
    return await iperf3_throughput(
        host, settings.settings(), port, settings.busy_retries, settings.busy_retry_delay_seconds
    )
