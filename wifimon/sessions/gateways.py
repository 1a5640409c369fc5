"""Which titik a polled hotspot gateway counts sessions for, and how many each has."""

from __future__ import annotations

from dataclasses import dataclass

from wifimon.errors import ConfigError
from wifimon.inventory import Inventory
from wifimon.measurements import AddressPool, ApSample


@dataclass(frozen=True, slots=True)
class GatewayTitik:
    """A titik behind a gateway: all its sessions, one hotspot server's, or its pools'."""

    hotspot: str
    server: str | None = None
    pools: tuple[AddressPool, ...] = ()


def gateway_titik(inventory: Inventory) -> dict[str, list[GatewayTitik]]:
    """Gateway device id -> the titik whose sessions it counts."""
    found: dict[str, list[GatewayTitik]] = {}
    for hotspot in inventory.hotspots:
        sessions = hotspot.sessions
        if sessions is not None and sessions.gateway is not None:
            entry = GatewayTitik(hotspot.id, sessions.hotspot_server, tuple(sessions.address_pool))
            found.setdefault(sessions.gateway, []).append(entry)
    return found


def gateway_pools(titik: list[GatewayTitik]) -> tuple[AddressPool, ...]:
    """Every pool a gateway's titik are told apart by (empty: none are)."""
    return tuple(pool for entry in titik for pool in entry.pools)


def gateway_counts(sample: ApSample, titik: list[GatewayTitik]) -> dict[str, int | None]:
    """Sessions of each titik a gateway serves, from one poll of it (None: unread)."""
    return {entry.hotspot: _count(sample, entry) for entry in titik}


def _count(sample: ApSample, entry: GatewayTitik) -> int | None:
    if not sample.reachable:
        return None
    if entry.pools:
        by_pool = sample.sessions_by_pool
        return None if by_pool is None else sum(by_pool.get(str(p), 0) for p in entry.pools)
    by_server = sample.sessions
    if by_server is None:
        return None
    return by_server.get(entry.server, 0) if entry.server else sum(by_server.values())


def check_pools(inventory: Inventory) -> None:
    """Two titik of one gateway may not share addresses: a session would count twice."""
    for gateway, titik in gateway_titik(inventory).items():
        owned = [(pool, entry.hotspot) for entry in titik for pool in entry.pools]
        for n, (pool, hotspot) in enumerate(owned):
            for other, other_hotspot in owned[n + 1 :]:
                if pool.version == other.version and pool.overlaps(other):
                    raise ConfigError(
                        f"hotspot {other_hotspot!r}: sessions.address_pool {str(other)!r} "
                        f"overlaps {str(pool)!r} of hotspot {hotspot!r} on gateway {gateway!r}"
                    )
