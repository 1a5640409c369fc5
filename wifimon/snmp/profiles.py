"""Vendor profiles: where each vendor keeps uptime, interfaces and client counts (YAML data)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wifimon.errors import ConfigError
from wifimon.textfile import read_operator_text
from wifimon.yamlsource import load_yaml

OID_PATTERN = r"^\d+(\.\d+)+$"
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
SYSTEM_OIDS = (SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME)


CountType = Literal["integer", "gauge32", "counter32", "counter64"]
AP_MAX_CLIENTS = 4096  # no access point associates more (radios allow 256-1,024 each)
CONTROLLER_MAX_CLIENTS = 200_000  # a controller of thousands of APs


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DetectWay(_Strict):
    """One way to recognise a device; every test it gives must pass.

    Ways are ranked in a fixed order (see `rank`): a sysObjectID match first, then a
    sysDescr match, then a probe alone; within a stage the more specific way wins.
    """

    sys_object_id: list[str] = Field(default_factory=list)
    sys_descr: list[str] = Field(default_factory=list)
    probe: list[str] = Field(default_factory=list)

    @field_validator("sys_object_id", "probe")
    @classmethod
    def _oids(cls, oids: list[str]) -> list[str]:
        for oid in oids:
            if not re.fullmatch(OID_PATTERN, oid.rstrip(".")):
                raise ValueError(f"{oid!r} is not a numeric OID")
        return [oid.rstrip(".") for oid in oids]

    @field_validator("sys_descr")
    @classmethod
    def _regexes_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
        return patterns

    @model_validator(mode="after")
    def _some_test(self) -> DetectWay:
        if not (self.sys_object_id or self.sys_descr or self.probe):
            raise ValueError("a detect way needs sys_object_id, sys_descr or probe")
        return self

    @property
    def stage(self) -> int:
        """0: sysObjectID, 1: sysDescr, 2: probe only (the order detection trusts them)."""
        if self.sys_object_id:
            return 0
        return 1 if self.sys_descr else 2


class UptimeSource(_Strict):
    """A scalar holding uptime, in hundredths of a second (`ticks`) or seconds."""

    oid: str = Field(pattern=OID_PATTERN)
    unit: Literal["ticks", "seconds"] = "ticks"


class ValueSource(_Strict):
    """One place a number lives: a scalar, a column to sum, or table rows to count.

    Tables may be keyed by a string encoded in the index (NET-SNMP-EXTEND), filtered by
    `name_match`, grouped by an index part or by another column's text (the SSID of each
    client row), and labelled from the index, an interface name, or another column.
    Counted rows without a grouping give a total only.
    """

    scalar: str | None = Field(default=None, pattern=OID_PATTERN)
    column: str | None = Field(default=None, pattern=OID_PATTERN)
    rows: str | None = Field(default=None, pattern=OID_PATTERN)
    group_by_index: int | None = None
    group_by_column: str | None = Field(default=None, pattern=OID_PATTERN)  # e.g. client SSID
    index_is_string: bool = False
    name_match: str | None = None
    label: Literal["index", "ifname", "column", "name"] = "index"
    label_column: str | None = Field(default=None, pattern=OID_PATTERN)
    kind: Literal["radio", "ssid", "band", "ap", "server"] = "radio"
    # An empty table means "no clients" only when this other table has rows (the firmware
    # is known to keep the client table and empty it); otherwise empty stays unknown.
    zero_when_present: str | None = Field(default=None, pattern=OID_PATTERN)
    # The SNMP type the MIB declares for the value. Counts are read from Integer32, Gauge32
    # and Counter32 (and numbers written as text); a MIB that declares Counter64 says so here,
    # and any other type (TimeTicks, an address, a Counter64 elsewhere) is refused.
    type: CountType | None = None

    @model_validator(mode="after")
    def _exactly_one_place(self) -> ValueSource:
        places = [p for p in (self.scalar, self.column, self.rows) if p]
        if len(places) != 1:
            raise ValueError("give exactly one of scalar, column, rows")
        if self.label == "column" and not self.label_column:
            raise ValueError("label: column needs label_column")
        if self.name_match is not None:
            re.compile(self.name_match)
        if self.group_by_index is not None and self.group_by_column:
            raise ValueError("give at most one of group_by_index, group_by_column")
        if self.group_by_column and not self.table:
            raise ValueError("group_by_column belongs to a table source (column or rows)")
        if self.zero_when_present and not self.table:
            raise ValueError("zero_when_present belongs to a table source (column or rows)")
        return self

    @property
    def table(self) -> str | None:
        """The subtree to walk, if this is a table source."""
        return self.column or self.rows


class Interfaces(_Strict):
    """IF-MIB reading options; vendors that lack IF-MIB set `enabled: false`."""

    enabled: bool = True
    high_speed_unit: Literal["mbps", "bps"] = "mbps"
    wireless: str = r"(?i)^(wlan|wl|ath|wifi|radio|ra\d|rai|wds|vap)"
    uplink: str = r"^(ether1|eth0|wan|WAN|pppoe-out1|GigabitEthernet0|uplink|br-wan)$"


class Memory(_Strict):
    """Memory from total and used/free scalars (same unit)."""

    total: str = Field(pattern=OID_PATTERN)
    used: str | None = Field(default=None, pattern=OID_PATTERN)
    free: str | None = Field(default=None, pattern=OID_PATTERN)

    @model_validator(mode="after")
    def _one_of_used_free(self) -> Memory:
        if (self.used is None) == (self.free is None):
            raise ValueError("give exactly one of used, free")
        return self


class ManagedAps(_Strict):
    """A controller's per-AP client counts, matched to the inventory's APs by name or MAC.

    `clients` is a column summed (or its rows counted) per AP. The AP of a row is the first
    `key_arcs` arcs of its index (all of it when unset), or the value of `key_column` in that
    row (an AP name or MAC kept in a column of a table with a running index). `name` and `mac`
    are columns indexed by that AP key, or `key` when the key itself is the name or the MAC.
    """

    clients: str = Field(pattern=OID_PATTERN)
    count: Literal["sum", "rows"] = "sum"
    key_arcs: int | None = Field(default=None, ge=1)
    key_column: str | None = Field(default=None, pattern=OID_PATTERN)
    name: str | None = Field(default=None, pattern=OID_PATTERN + "|^key$")
    mac: str | None = Field(default=None, pattern=OID_PATTERN + "|^key$")
    type: CountType | None = None  # of `clients`, as on a ValueSource

    @model_validator(mode="after")
    def _some_identity(self) -> ManagedAps:
        if self.name is None and self.mac is None:
            raise ValueError("give name or mac (or both) to match APs to the inventory")
        if self.key_arcs is not None and self.key_column is not None:
            raise ValueError("give at most one of key_arcs, key_column")
        return self

    def roots(self) -> list[str]:
        """The subtrees a poll walks for these counts."""
        found = (self.clients, self.key_column, self.name, self.mac)
        return [r for r in found if r and r != "key"]


class Profile(_Strict):
    """Everything wifimon knows about one vendor's SNMP agent."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    vendor: str
    family: str = ""  # the models and firmware this profile is for (README, `profiles list`)
    description: str = ""
    unknown: str = ""  # what stays unknown on these devices, and why
    priority: int = 50  # last tie-break between equally specific detect ways
    detect: list[DetectWay] = Field(default_factory=list)
    uptime: list[UptimeSource] = Field(default_factory=lambda: [UptimeSource(oid=SYS_UPTIME)])
    interfaces: Interfaces = Interfaces()
    cpu: list[ValueSource] = Field(default_factory=list)
    memory: Memory | None = None
    clients: list[ValueSource] = Field(default_factory=list)
    breakdown: list[ValueSource] = Field(default_factory=list)
    managed_aps: ManagedAps | None = None
    # Logged-in captive-portal sessions (a hotspot gateway's active-users table), counted
    # per portal server; a table walked whole and empty is 0 sessions.
    sessions: ValueSource | None = None
    # The client address column of the same table (IpAddress), walked only for a gateway
    # whose titik are told apart by address pool; addresses are compared with the pools
    # while decoding and never kept.
    session_addresses: str | None = Field(default=None, pattern=OID_PATTERN)
    # The most clients (and portal sessions) a device of this profile can have: a larger
    # count is a broken value, read as unknown. Unset: AP_MAX_CLIENTS for an access point,
    # CONTROLLER_MAX_CLIENTS for a profile that reads a controller's per-AP table.
    max_clients: int | None = Field(default=None, ge=1)
    max_clients_per_ap: int = Field(default=AP_MAX_CLIENTS, ge=1)

    @model_validator(mode="after")
    def _addresses_of_a_table(self) -> Profile:
        if self.session_addresses and (self.sessions is None or not self.sessions.table):
            raise ValueError("session_addresses belongs to a sessions table (rows or column)")
        return self

    @field_validator("detect", mode="before")
    @classmethod
    def _one_way_as_list(cls, value: object) -> object:
        """`detect: {...}` is shorthand for a single way."""
        return [value] if isinstance(value, dict) else value

    @property
    def client_ceiling(self) -> int:
        """The largest believable client count of one device of this profile."""
        if self.max_clients is not None:
            return self.max_clients
        return CONTROLLER_MAX_CLIENTS if self.managed_aps is not None else AP_MAX_CLIENTS

    def sources(self) -> list[ValueSource]:
        """Every value source the profile reads (CPU, clients, breakdown, sessions)."""
        sessions = [self.sessions] if self.sessions is not None else []
        return [*self.cpu, *self.clients, *self.breakdown, *sessions]

    def scalar_oids(self) -> list[str]:
        """Every scalar this profile reads, fetched in one GET."""
        oids = [u.oid for u in self.uptime]
        for source in self.sources():
            if source.scalar:
                oids.append(source.scalar)
        if self.memory:
            oids.extend(o for o in (self.memory.total, self.memory.used, self.memory.free) if o)
        return list(dict.fromkeys(oids))


@dataclass(frozen=True)
class ProfileSet:
    """All loaded profiles, looked up by name."""

    profiles: dict[str, Profile]

    def get(self, name: str) -> Profile:
        """The named profile, or a ConfigError listing the known ones."""
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles))
            raise ConfigError(f"unknown profile {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self.profiles)

    def detectable(self) -> list[Profile]:
        """Profiles with at least one detect way, in name order."""
        return [self.profiles[name] for name in self.names() if self.profiles[name].detect]


GENERIC = "generic"


def load_profile(text: str, where: str) -> Profile:
    """Parse one profile document; errors name the file and the field."""
    data, _ = load_yaml(text, where)  # bounded aliases, errors with file:line
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a profile must be a mapping")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise ConfigError(f"{where}: {field}: {first['msg']}") from exc


def load_profiles(extra_dirs: list[Path] | None = None) -> ProfileSet:
    """The packaged profiles plus any from `extra_dirs` (a same-named file overrides)."""
    found: dict[str, Profile] = {}
    package = resources.files("wifimon.profiles")
    for entry in sorted(package.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            profile = load_profile(entry.read_text(encoding="utf-8"), f"profiles/{entry.name}")
            found[profile.name] = profile
    for directory in extra_dirs or []:
        for path in sorted(directory.glob("*.yaml")):
            profile = load_profile(read_operator_text(path), str(path))
            found[profile.name] = profile
    if GENERIC not in found:
        raise ConfigError("profiles: the generic fallback profile is missing")
    return ProfileSet(found)
