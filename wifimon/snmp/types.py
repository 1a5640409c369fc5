"""Plain SNMP values and targets shared by clients, decoding and tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from wifimon.secrets import Secret

ValueKind = Literal[
    "integer",
    "octets",
    "oid",
    "ipaddress",
    "counter32",
    "gauge32",
    "timeticks",
    "opaque",
    "counter64",
    "null",
    "noSuchObject",
    "noSuchInstance",
    "endOfMibView",
]

NUMERIC_KINDS = frozenset({"integer", "counter32", "gauge32", "timeticks", "counter64"})
EXCEPTION_KINDS = frozenset({"noSuchObject", "noSuchInstance", "endOfMibView"})


@dataclass(frozen=True, slots=True)
class SnmpValue:
    """One decoded SNMP value, independent of the library that fetched it."""

    kind: ValueKind
    value: int | bytes | str | None = None

    @property
    def is_exception(self) -> bool:
        """True for noSuchObject/noSuchInstance/endOfMibView."""
        return self.kind in EXCEPTION_KINDS


VarBind = tuple[str, SnmpValue]

AUTH_PROTOCOLS = ("SHA", "SHA224", "SHA256", "SHA384", "SHA512", "MD5")
PRIV_PROTOCOLS = ("AES", "AES192", "AES256", "DES", "3DES")


@dataclass(frozen=True, slots=True)
class CommunityAuth:
    """SNMPv1/v2c credentials."""

    community: Secret


@dataclass(frozen=True, slots=True)
class UsmAuth:
    """SNMPv3 USM credentials; protocols are always explicit, never library defaults."""

    user: str
    auth_protocol: str | None = None
    auth_key: Secret | None = None
    priv_protocol: str | None = None
    priv_key: Secret | None = None
    context: str = ""


@dataclass(frozen=True, slots=True)
class SnmpTarget:
    """Where and how to reach one agent."""

    host: str
    port: int = 161
    version: Literal["1", "2c", "3"] = "2c"
    auth: CommunityAuth | UsmAuth = CommunityAuth(Secret("public"))
    timeout: float = 2.0
    retries: int = 1

    def describe(self) -> str:
        """A log-safe description (no credentials)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port} v{self.version}"


def oid_tuple(oid: str) -> tuple[int, ...]:
    """Numeric form of a dotted OID, for ordering and prefix tests."""
    return tuple(int(part) for part in oid.strip(".").split(".") if part)


def in_subtree(oid: str, root: str) -> bool:
    """True when `oid` lies strictly under `root`."""
    return oid.startswith(root.rstrip(".") + ".")
