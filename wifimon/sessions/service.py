"""The daemon's session sources together: RADIUS accounting received, a radacct table read,
and the count per titik that the state keeps.

Counts reach the state every `refresh` (the daemon's sessions job); a titik whose NAS is
mapped gets its open sessions, 0 included, while a source is working, and unknown while
none can tell (a radacct table that does not answer). Gateways polled over SNMP are folded
in by the daemon after each poll (`gateway_counts`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from wifimon.errors import WifimonError
from wifimon.inventory import Inventory
from wifimon.measurements import ApSample
from wifimon.secrets import Secret
from wifimon.sessions.mapping import NasMap, nas_map
from wifimon.sessions.radacct import RadacctSource
from wifimon.sessions.radius import AccountingServer
from wifimon.sessions.settings import SessionSettings
from wifimon.sessions.table import SessionTable

log = logging.getLogger(__name__)

SESSIONS_FILE = "sessions.sqlite"
DAY_SECONDS = 86400.0

Counter = Callable[[str], None]


class SessionService:
    """RADIUS accounting and radacct, for the titik the inventory maps to a NAS."""

    def __init__(
        self,
        settings: SessionSettings,
        inventory: Inventory,
        secrets: Mapping[str, Secret],
        state_dir: Path,
        on_drop: Counter | None = None,
        on_accept: Counter | None = None,
    ) -> None:
        self.settings = settings
        self.map: NasMap = nas_map(inventory)
        self.table = SessionTable(
            state_dir / SESSIONS_FILE,
            self._resolve,
            settings.default_interim_seconds,
            settings.retention_days * DAY_SECONDS,
        )
        self.server: AccountingServer | None = None
        if settings.radius is not None:
            nas_secrets = {
                n.address: secrets[n.secret].reveal().encode() for n in settings.radius.nas
            }
            self.server = AccountingServer(self.table, nas_secrets, on_drop, on_accept)
        self.radacct: RadacctSource | None = None
        if settings.radacct is not None:
            dsn = secrets[settings.radacct.dsn].reveal()
            self.radacct = RadacctSource(dsn, self._resolve, settings.radacct.table,
                                         settings.radacct.stale_after_seconds)  # fmt: skip
        self._listening_since: float | None = None

    def _resolve(self, identity: object) -> str | None:
        """Through the current map, so a reload's new mapping applies to the next packet."""
        return self.map(identity)  # type: ignore[arg-type]

    def adopt(self, inventory: Inventory) -> None:
        """A reloaded inventory's NAS map (sessions already open keep their titik)."""
        self.map = nas_map(inventory)

    async def start(self) -> None:
        """Listen for accounting (a port in use is an error naming it)."""
        if self.server is None or self.settings.radius is None:
            return
        host, port = self.settings.radius.host_port
        try:
            await self.server.start(host, port)
        except OSError as exc:
            raise WifimonError(f"sessions.radius.listen {host}:{port}: {exc.strerror}") from exc
        self._listening_since = time.time()
        log.info("radius accounting listening on %s:%d", host, self.server.port)

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
        if self.radacct is not None:
            await self.radacct.close()
        await asyncio.to_thread(self.table.close)

    async def refresh(self, now: float) -> dict[str, int | None]:
        """Open sessions per mapped titik; None where no working source can tell."""
        counts: dict[str, int] = {}
        known = False
        if self.server is not None:
            await asyncio.to_thread(self.table.expire, now, self._listening_since)
            counts = await asyncio.to_thread(self.table.counts)
            known = True
        if self.radacct is not None:
            try:
                for titik, n in (await self.radacct.counts(now)).items():
                    counts[titik] = counts.get(titik, 0) + n
                known = True
            except WifimonError as exc:
                log.warning("radacct not read: %s", exc)
        return {titik: (counts.get(titik, 0) if known else None) for titik in self.map.titik}


def gateway_titik(inventory: Inventory) -> dict[str, list[tuple[str, str | None]]]:
    """Gateway device id -> the titik whose sessions it counts, with their hotspot server."""
    found: dict[str, list[tuple[str, str | None]]] = {}
    for hotspot in inventory.hotspots:
        sessions = hotspot.sessions
        if sessions is not None and sessions.gateway is not None:
            found.setdefault(sessions.gateway, []).append((hotspot.id, sessions.hotspot_server))
    return found


def gateway_counts(sample: ApSample, titik: list[tuple[str, str | None]]) -> dict[str, int | None]:
    """Sessions of each titik a gateway serves, from one poll of it (None: unread)."""
    by_server = sample.sessions if sample.reachable else None
    if by_server is None:
        return {hotspot: None for hotspot, _ in titik}
    return {
        hotspot: (by_server.get(server, 0) if server else sum(by_server.values()))
        for hotspot, server in titik
    }
