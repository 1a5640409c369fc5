"""Plain records of hotspot sessions: who the NAS is; no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NasIdentity:
    """How a NAS names itself in accounting (any may be missing)."""

    identifier: str | None = None  # NAS-Identifier / radacct.nasidentifier
    ip: str | None = None  # NAS-IP-Address / radacct.nasipaddress
    called_station_id: str | None = None  # Called-Station-Id / radacct.calledstationid


Resolver = Callable[[NasIdentity], str | None]  # -> titik id, None: no titik claims it
