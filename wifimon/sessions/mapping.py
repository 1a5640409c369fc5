"""Which titik a NAS's sessions belong to, from the inventory's `sessions` blocks."""

from __future__ import annotations

from dataclasses import dataclass, field

from wifimon.errors import ConfigError
from wifimon.inventory import Inventory, normalise_station_id
from wifimon.sessions.model import NasIdentity


@dataclass(frozen=True)
class NasMap:
    """NAS names to titik ids; a Called-Station-Id (one AP or SSID) is the most specific."""

    by_station: dict[str, str] = field(default_factory=dict)
    by_identifier: dict[str, str] = field(default_factory=dict)
    by_ip: dict[str, str] = field(default_factory=dict)

    def __call__(self, identity: NasIdentity) -> str | None:
        """The titik of a session, None when no titik claims its NAS."""
        station = identity.called_station_id
        if station:
            text = normalise_station_id(station)
            found = self.by_station.get(text) or self.by_station.get(text.split(":")[0])
            if found:
                return found
        if identity.identifier and identity.identifier in self.by_identifier:
            return self.by_identifier[identity.identifier]
        return self.by_ip.get(identity.ip) if identity.ip else None

    @property
    def titik(self) -> set[str]:
        """Titik counted from RADIUS accounting."""
        return {*self.by_station.values(), *self.by_identifier.values(), *self.by_ip.values()}


def nas_map(inventory: Inventory) -> NasMap:
    """The map of an inventory; a NAS name claimed by two titik is a config error."""
    found = NasMap()
    for hotspot in inventory.hotspots:
        sessions = hotspot.sessions
        if sessions is None:
            continue
        for kind, names, table in (
            ("called_station_id", sessions.called_station_id, found.by_station),
            ("nas_identifier", sessions.nas_identifier, found.by_identifier),
            ("nas_ip", sessions.nas_ip, found.by_ip),
        ):
            for name in names:
                other = table.setdefault(name, hotspot.id)
                if other != hotspot.id:
                    raise ConfigError(
                        f"hotspot {hotspot.id!r}: sessions.{kind} {name!r} "
                        f"is already the NAS of hotspot {other!r}"
                    )
    return found
