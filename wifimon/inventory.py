"""Hotspots (titik), their access points, contacts and SLA; YAML and CSV forms."""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_MIN_MBPS = 50.0
DEFAULT_CAPACITY_USERS = 50
DEFAULT_SNMP_PORT = 161
DEFAULT_IPERF3_PORT = 5201
MAX_MIN_MBPS = 10_000.0
MAX_CAPACITY_USERS = 5_000

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Sla(_Strict):
    """What the city pays for at this titik."""

    min_mbps: float = Field(default=DEFAULT_MIN_MBPS, gt=0, le=MAX_MIN_MBPS)
    capacity_users: int = Field(default=DEFAULT_CAPACITY_USERS, ge=1, le=MAX_CAPACITY_USERS)


QUIET_HOURS = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$"


class Contact(_Strict):
    """A person to tell: the pengurus RW, the provider, the NOC."""

    role: Literal["rw_admin", "provider", "noc", "lurah", "camat"] = "rw_admin"
    name: str = Field(min_length=1)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ()-]{6,20}$")
    whatsapp: str | None = Field(default=None, pattern=r"^\+?[0-9 ()-]{6,20}$")
    telegram_chat_id: str | None = Field(default=None, pattern=r"^-?[0-9]{1,20}$|^@\w{4,}$")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    language: Literal["id", "en"] = "id"  # of the messages this person gets
    quiet_hours: str | None = Field(default=None, pattern=QUIET_HOURS)  # "21:00-06:00" WIB
    channels: list[str] | None = None  # channel names to use; None: every one that reaches


class _Addressed(_Strict):
    """Something with an `address` field (declared by each subclass, in its place):
    `host` and `port` come from it."""

    if TYPE_CHECKING:
        address: str

    @field_validator("address", check_fields=False)
    @classmethod
    def _valid_address(cls, value: str) -> str:
        parse_address(value)
        return value

    @property
    def host(self) -> str:
        return parse_address(self.address)[0]

    @property
    def port(self) -> int:
        return parse_address(self.address)[1]


class AccessPoint(_Addressed):
    """One device serving a titik: polled over SNMP itself, or read through its controller.

    An AP with `controller` is not polled: its controller's per-AP table gives its client
    count, matched by `controller_ap` (the AP's name or MAC as the controller knows it;
    default: the AP's id as its name). Its address is still where pings go.
    """

    id: str = Field(pattern=ID_PATTERN)
    address: str
    credentials: str | None = Field(default=None, min_length=1)
    profile: str = "auto"
    uplink: str | None = None
    controller: str | None = Field(default=None, pattern=ID_PATTERN)
    controller_ap: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _polled_or_managed(self) -> AccessPoint:
        if self.controller is None:
            if self.credentials is None:
                raise ValueError("credentials: required unless the AP is read via a controller")
            if self.controller_ap is not None:
                raise ValueError("controller_ap: only for an AP read via a controller")
        return self

    @property
    def managed(self) -> bool:
        """Read through a controller rather than polled."""
        return self.controller is not None

    @property
    def name_on_controller(self) -> str:
        """How the controller names this AP (its name or MAC)."""
        return self.controller_ap or self.id


class Controller(_Addressed):
    """A wireless controller polled once for the client counts of the APs it manages."""

    id: str = Field(pattern=ID_PATTERN)
    address: str
    credentials: str = Field(min_length=1)
    profile: str = "auto"


def parse_address(text: str, default_port: int = DEFAULT_SNMP_PORT) -> tuple[str, int]:
    """`10.0.0.1`, `10.0.0.1:1161`, `2001:db8::1`, `[2001:db8::1]:1161` -> (host, port)."""
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d+))?", text)
    if match:
        host, port = match.group(1), match.group(2)
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, None
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv4 or IPv6 address") from None
    number = int(port) if port else default_port
    if not 1 <= number <= 65535:
        raise ValueError(f"port {number} is out of range 1-65535")
    return str(ip), number


class HotspotProbe(_Strict):
    """Where active probes go: ping target (default: the first AP), HTTP URL, iperf3 server."""

    ping: str | None = None
    http_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    iperf3: str | None = None

    @field_validator("ping")
    @classmethod
    def _ping_is_an_address(cls, value: str | None) -> str | None:
        if value is not None:
            ipaddress.ip_address(value.strip("[]"))
        return value

    @field_validator("iperf3")
    @classmethod
    def _iperf3_is_host_port(cls, value: str | None) -> str | None:
        if value is not None:
            parse_address(value, default_port=DEFAULT_IPERF3_PORT)
        return value

    @property
    def iperf3_host_port(self) -> tuple[str, int] | None:
        if self.iperf3 is None:
            return None
        return parse_address(self.iperf3, default_port=DEFAULT_IPERF3_PORT)


UsersFrom = Literal["sessions", "associated"]


class HotspotSessions(_Strict):
    """Where the titik's logged-in portal sessions are counted.

    RADIUS accounting (received, or read from a radacct table) is matched by the NAS's
    NAS-Identifier, NAS-IP-Address or Called-Station-Id; a MikroTik hotspot polled over SNMP
    by the `gateway` (an AP or controller id) and, when it serves several titik, either the
    titik's own `hotspot_server` or the `address_pool` subnets (a pool or VLAN per titik)
    its users' addresses come from.
    """

    nas_identifier: list[str] = Field(default_factory=list)
    nas_ip: list[str] = Field(default_factory=list)
    called_station_id: list[str] = Field(default_factory=list)
    gateway: str | None = Field(default=None, pattern=ID_PATTERN)
    hotspot_server: str | None = Field(default=None, min_length=1)
    address_pool: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = Field(default_factory=list)

    @field_validator("address_pool", mode="before")
    @classmethod
    def _networks(cls, values: object) -> object:
        """`10.5.50.0/24` or a list of them; host bits set are an error, not a guess."""
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list):
            return values
        return [ipaddress.ip_network(v) if isinstance(v, str) else v for v in values]

    @field_validator("nas_ip")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        return [str(ipaddress.ip_address(v)) for v in values]

    @field_validator("called_station_id")
    @classmethod
    def _station_ids(cls, values: list[str]) -> list[str]:
        return [normalise_station_id(v) for v in values]

    @model_validator(mode="after")
    def _some_source(self) -> HotspotSessions:
        if not (self.nas_identifier or self.nas_ip or self.called_station_id or self.gateway):
            raise ValueError("give nas_identifier, nas_ip, called_station_id or gateway")
        if self.hotspot_server and not self.gateway:
            raise ValueError("hotspot_server: only with gateway")
        if self.address_pool and not self.gateway:
            raise ValueError("address_pool: only with gateway")
        if self.address_pool and self.hotspot_server:
            raise ValueError("give hotspot_server or address_pool, not both")
        return self

    @property
    def radius(self) -> bool:
        """Counted from RADIUS accounting (packets or a radacct table)."""
        return bool(self.nas_identifier or self.nas_ip or self.called_station_id)


def normalise_station_id(text: str) -> str:
    """Called-Station-Id as NASes write it (`AA-BB-CC-DD-EE-FF:SSID`), compared without case."""
    return text.strip().lower()


class Hotspot(_Strict):
    """A titik: one public Wi-Fi location managed by an RW board."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    kota: str = Field(min_length=1)
    kecamatan: str = Field(min_length=1)
    kelurahan: str = Field(min_length=1)
    rw: str = Field(min_length=1)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    provider: str = Field(min_length=1)
    sla: Sla = Sla()
    contacts: list[Contact] = Field(default_factory=list)
    access_points: list[AccessPoint] = Field(min_length=1)
    probe: HotspotProbe = HotspotProbe()
    sessions: HotspotSessions | None = None
    users_from: UsersFrom | None = None  # None: the provider's setting, else the default

    @property
    def place_labels(self) -> dict[str, str]:
        """Which titik and where, as metrics, alerts and reports label it."""
        return {"hotspot": self.id, "kota": self.kota, "kecamatan": self.kecamatan,
                "kelurahan": self.kelurahan, "rw": self.rw, "provider": self.provider}  # fmt: skip

    @property
    def ping_target(self) -> str:
        """The address ICMP probes go to: the configured one, else the first AP."""
        return self.probe.ping or self.access_points[0].host

    @property
    def throughput_kind(self) -> str | None:
        """`http` when a test URL is set, else `iperf3` when a server is, else None."""
        if self.probe.http_url:
            return "http"
        return "iperf3" if self.probe.iperf3 else None

    @field_validator("rw", mode="before")
    @classmethod
    def _rw_as_text(cls, value: object) -> object:
        return f"{value:02d}" if isinstance(value, int) else value

    @model_validator(mode="after")
    def _sessions_to_count(self) -> Hotspot:
        if self.users_from == "sessions" and self.sessions is None:
            raise ValueError("users_from: sessions needs a `sessions` source for this titik")
        return self

    @model_validator(mode="after")
    def _unique_ap_ids(self) -> Hotspot:
        seen: set[str] = set()
        for ap in self.access_points:
            if ap.id in seen:
                raise ValueError(f"access point id {ap.id!r} appears twice")
            seen.add(ap.id)
        return self


class ProviderSettings(_Strict):
    """What holds for every titik of one provider unless the titik says otherwise."""

    users_from: UsersFrom | None = None


class Inventory(_Strict):
    """All titik wifimon watches, and the controllers some of their APs are read through."""

    hotspots: list[Hotspot] = Field(default_factory=list)
    controllers: list[Controller] = Field(default_factory=list)
    providers: dict[str, ProviderSettings] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_controller_ids(self) -> Inventory:
        ids = [c.id for c in self.controllers]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"controller id {twice[0]!r} appears twice")
        return self

    def controller(self, controller_id: str) -> Controller | None:
        """The controller with this id, None when there is none (removed by a reload)."""
        return next((c for c in self.controllers if c.id == controller_id), None)

    def users_from(self, hotspot: Hotspot) -> UsersFrom:
        """Which count the capacity SLA uses: the titik's choice, its provider's, else
        sessions where a session source is configured for it, else associated clients."""
        if hotspot.users_from is not None:
            return hotspot.users_from
        if hotspot.sessions is None:
            return "associated"  # never a session count where nothing counts sessions
        provider = self.providers.get(hotspot.provider)
        return (provider.users_from if provider else None) or "sessions"

    def managed_by(self, controller_id: str) -> list[AccessPoint]:
        """The APs read through this controller."""
        return [ap for _, ap in self.access_points() if ap.controller == controller_id]

    def access_points(self) -> list[tuple[Hotspot, AccessPoint]]:
        """Every AP with its hotspot."""
        return [(h, ap) for h in self.hotspots for ap in h.access_points]
