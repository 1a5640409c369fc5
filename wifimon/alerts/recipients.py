"""From recipient roles to people: the titik's own contacts, then the config's contacts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from wifimon.inventory import Contact, Hotspot

PLACE_FILTERS = ("kota", "kecamatan", "kelurahan", "provider")


class DirectoryContact(Contact):
    """A contact in the config (`contacts:`), for the alerts whose labels match its filters:
    the NOC (no filter), a provider's helpdesk (`provider`), a lurah (`kelurahan`)."""

    kota: str | None = None
    kecamatan: str | None = None
    kelurahan: str | None = None
    provider: str | None = None

    def serves(self, labels: Mapping[str, str]) -> bool:
        return all(
            getattr(self, name) is None or labels.get(name) == getattr(self, name)
            for name in PLACE_FILTERS
        )


class Directory:
    """Resolves roles for an alert's labels."""

    def __init__(
        self, hotspots: Mapping[str, Hotspot], contacts: Sequence[DirectoryContact] = ()
    ) -> None:
        self.hotspots = hotspots
        self.contacts = contacts

    def resolve(self, role: str, labels: Mapping[str, str]) -> list[Contact]:
        """The titik's contacts with this role, then the config's that serve these labels."""
        found: list[Contact] = []
        hotspot = self.hotspots.get(labels.get("hotspot", ""))
        if hotspot is not None:
            found += [c for c in hotspot.contacts if c.role == role]
        found += [c for c in self.contacts if c.role == role and c.serves(labels)]
        return found
