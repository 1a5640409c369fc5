"""The daemon's session sources together: RADIUS accounting received (in a process of its
own, sessions/receiver.py), a radacct table read, and the count per titik the state keeps.

Counts reach the state every `refresh` (the daemon's sessions job); a titik whose NAS is
mapped gets its open sessions, 0 included, while a source is working, and unknown while
none can tell (a radacct table that does not answer). Gateways polled over SNMP are folded
in by the daemon after each poll (`gateway_counts`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from wifimon.errors import WifimonError
from wifimon.inventory import Inventory
from wifimon.secrets import Secret
from wifimon.sessions.mapping import NasMap, nas_map
from wifimon.sessions.model import NasIdentity
from wifimon.sessions.radacct import RadacctSource
from wifimon.sessions.receiver import Receiver, ReceiverConfig
from wifimon.sessions.settings import SessionSettings
from wifimon.sessions.table import SessionTable

log = logging.getLogger(__name__)

SESSIONS_FILE = "sessions.sqlite"
DAY_SECONDS = 86400.0

PacketCount = Callable[[str, int], None]  # (reason or kind, packets)


class SessionService:
    """RADIUS accounting and radacct, for the titik the inventory maps to a NAS."""

    def __init__(
        self,
        settings: SessionSettings,
        inventory: Inventory,
        secrets: Mapping[str, Secret],
        state_dir: Path,
        on_drop: PacketCount | None = None,
        on_accept: PacketCount | None = None,
    ) -> None:
        self.settings = settings
        self.map: NasMap = nas_map(inventory)
        self.path = state_dir / SESSIONS_FILE
        self.on_drop, self.on_accept = on_drop, on_accept
        self.receiver: Receiver | None = None
        self.table: SessionTable | None = None  # the daemon's reading side of the file
        if settings.radius is not None:
            host, port = settings.radius.host_port
            nas_secrets = {
                n.address: secrets[n.secret].reveal().encode() for n in settings.radius.nas
            }
            self.receiver = Receiver(ReceiverConfig(
                self.path, self.map, nas_secrets, host, port, settings.default_interim_seconds,
                settings.retention_days * DAY_SECONDS, settings.refresh_seconds))  # fmt: skip
        self.radacct: RadacctSource | None = None
        if settings.radacct is not None:
            dsn = secrets[settings.radacct.dsn].reveal()
            self.radacct = RadacctSource(dsn, self._resolve, settings.radacct.table,
                                         settings.radacct.stale_after_seconds)  # fmt: skip

    def _resolve(self, identity: NasIdentity) -> str | None:
        """Through the current map, so a reload's mapping applies to the next read."""
        return self.map(identity)

    def adopt(self, inventory: Inventory) -> None:
        """A reloaded inventory's NAS map (sessions already open keep their titik)."""
        self.map = nas_map(inventory)
        if self.receiver is not None:
            self.receiver.adopt(self.map)

    async def start(self) -> None:
        """Start the accounting process (RadiusError, naming the address, when it cannot)."""
        if self.receiver is None:
            return
        await self.receiver.start()
        self.table = await asyncio.to_thread(SessionTable, self.path, self._resolve)
        log.info("radius accounting listening port=%s", self.receiver.port)

    async def stop(self) -> None:
        if self.receiver is not None:
            await self.receiver.stop()
        if self.radacct is not None:
            await self.radacct.close()
        if self.table is not None:
            await asyncio.to_thread(self.table.close)

    async def refresh(self, now: float) -> dict[str, int | None]:
        """Open sessions per mapped titik; None where no working source can tell."""
        counts: dict[str, int] = {}
        known = False
        if self.receiver is not None and self.table is not None:
            self._count_packets()
            if self.receiver.alive:
                counts = await asyncio.to_thread(self.table.counts)
                known = True
            else:
                log.error("the radius accounting process has ended: sessions are unknown")
        if self.radacct is not None:
            try:
                for titik, n in (await self.radacct.counts(now)).items():
                    counts[titik] = counts.get(titik, 0) + n
                known = True
            except WifimonError as exc:
                log.warning("radacct not read: %s", exc)
        return {titik: (counts.get(titik, 0) if known else None) for titik in self.map.titik}

    def _count_packets(self) -> None:
        """The accounting process's packet counters into the daemon's metrics."""
        assert self.receiver is not None
        dropped, accepted = self.receiver.counters()
        for callback, counts in ((self.on_drop, dropped), (self.on_accept, accepted)):
            if callback is not None:
                for key, n in counts.items():
                    callback(key, n)
