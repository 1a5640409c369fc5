"""Vendor profiles: where each vendor keeps uptime, interfaces and client counts (YAML data)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wifimon.errors import ConfigError

OID_PATTERN = r"^\d+(\.\d+)+$"
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
SYSTEM_OIDS = (SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Detect(_Strict):
    """How `auto` recognises the vendor; every given test must pass."""

    sys_object_id: list[str] = Field(default_factory=list)
    sys_descr: list[str] = Field(default_factory=list)
    requires: list[str] = Field(default_factory=list)

    @field_validator("sys_descr")
    @classmethod
    def _regexes_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
        return patterns


class UptimeSource(_Strict):
    """A scalar holding uptime, in hundredths of a second (`ticks`) or seconds."""

    oid: str = Field(pattern=OID_PATTERN)
    unit: Literal["ticks", "seconds"] = "ticks"


class ValueSource(_Strict):
    """One place a number lives: a scalar, a column to sum, or table rows to count.

    Tables may be keyed by a string encoded in the index (NET-SNMP-EXTEND), filtered by
    `name_match`, and labelled from the index, an interface name, or another column.
    """

    scalar: str | None = Field(default=None, pattern=OID_PATTERN)
    column: str | None = Field(default=None, pattern=OID_PATTERN)
    rows: str | None = Field(default=None, pattern=OID_PATTERN)
    group_by_index: int | None = None
    index_is_string: bool = False
    name_match: str | None = None
    label: Literal["index", "ifname", "column", "name"] = "index"
    label_column: str | None = Field(default=None, pattern=OID_PATTERN)
    kind: Literal["radio", "ssid"] = "radio"

    @model_validator(mode="after")
    def _exactly_one_place(self) -> ValueSource:
        places = [p for p in (self.scalar, self.column, self.rows) if p]
        if len(places) != 1:
            raise ValueError("give exactly one of scalar, column, rows")
        if self.label == "column" and not self.label_column:
            raise ValueError("label: column needs label_column")
        if self.name_match is not None:
            re.compile(self.name_match)
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


class Profile(_Strict):
    """Everything wifimon knows about one vendor's SNMP agent."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    vendor: str
    description: str = ""
    priority: int = 50
    detect: Detect = Detect()
    uptime: list[UptimeSource] = Field(default_factory=lambda: [UptimeSource(oid=SYS_UPTIME)])
    interfaces: Interfaces = Interfaces()
    cpu: list[ValueSource] = Field(default_factory=list)
    memory: Memory | None = None
    clients: list[ValueSource] = Field(default_factory=list)
    breakdown: list[ValueSource] = Field(default_factory=list)

    def scalar_oids(self) -> list[str]:
        """Every scalar this profile reads, fetched in one GET."""
        oids = [u.oid for u in self.uptime]
        for source in (*self.cpu, *self.clients, *self.breakdown):
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

    def by_priority(self) -> list[Profile]:
        """Candidates for detection, most specific first."""
        return sorted(self.profiles.values(), key=lambda p: (-p.priority, p.name))


GENERIC = "generic"


def load_profile(text: str, where: str) -> Profile:
    """Parse one profile document; errors name the file and the field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {exc}") from exc
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
            profile = load_profile(path.read_text(encoding="utf-8"), str(path))
            found[profile.name] = profile
    if GENERIC not in found:
        raise ConfigError("profiles: the generic fallback profile is missing")
    return ProfileSet(found)
