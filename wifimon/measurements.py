"""Plain measurement records handed from pollers to state; no behaviour, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network

AddressPool = IPv4Network | IPv6Network  # a hotspot titik's client subnet (pool or VLAN)


@dataclass(frozen=True, slots=True)
class PollIssue:
    """Something a poll could not read; `reason` is a metrics label."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class InterfaceReading:
    """One interface as read from IF-MIB in one poll."""

    index: int
    name: str
    oper_up: bool | None
    speed_mbps: float | None
    in_octets: int | None
    out_octets: int | None
    counter_bits: int | None  # 64 for ifHC*, 32 for ifIn/OutOctets, None when unread
    role: str | None = None  # "uplink", "wireless" or None


@dataclass(frozen=True, slots=True)
class RadioClients:
    """Associated clients on one radio or SSID."""

    label: str
    kind: str
    clients: int


@dataclass(frozen=True, slots=True)
class ClientReading:
    """Client count of an AP: `total` is None when unknown (never a guessed 0)."""

    total: int | None
    by_radio: tuple[RadioClients, ...] = ()
    issue: PollIssue | None = None


@dataclass(frozen=True, slots=True)
class Detection:
    """Which profile reads a device, and why (shown by `wifimon poll --json`)."""

    profile: str
    reason: str
    also_matched: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ManagedApClients:
    """Clients of one AP as its controller reports them; name and MAC identify the AP."""

    key: str
    name: str | None
    mac: str | None  # lower-case aa:bb:cc:dd:ee:ff
    clients: int | None  # None: the controller's value for this AP was impossible


@dataclass(slots=True)
class ApSample:
    """Everything one poll of one AP produced; `reachable` is False when nothing answered."""

    ap_id: str
    timestamp: float
    reachable: bool
    duration_seconds: float = 0.0
    profile: str | None = None
    detection: Detection | None = None
    sys_name: str | None = None
    sys_descr: str | None = None
    sys_object_id: str | None = None
    uptime_seconds: float | None = None
    interfaces: list[InterfaceReading] = field(default_factory=list)
    clients: ClientReading = ClientReading(total=None)
    cpu_percent: float | None = None
    memory_percent: float | None = None
    managed_aps: tuple[ManagedApClients, ...] | None = None  # controllers: None when unread
    sessions: dict[str, int] | None = None  # portal sessions per server; None when unread
    sessions_by_pool: dict[str, int] | None = None  # per client address pool, when asked
    issues: list[PollIssue] = field(default_factory=list)
