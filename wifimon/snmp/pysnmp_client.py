"""SnmpClient on pysnmp 7: one shared engine, built off the event loop and reused."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    Udp6TransportTarget,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    next_cmd,
)
from pysnmp.hlapi.v3arch.asyncio import auth as usm
from pysnmp.proto import errind, rfc1902, rfc1905

from wifimon.errors import SnmpError
from wifimon.snmp.client import ExchangeClient, PduKind
from wifimon.snmp.types import CommunityAuth, SnmpTarget, SnmpValue, UsmAuth, VarBind
from wifimon.snmp.walk import DEFAULT_VARBINDS_PER_REQUEST

log = logging.getLogger(__name__)

AUTH_PROTOCOL_IDS = {
    "MD5": usm.USM_AUTH_HMAC96_MD5,
    "SHA": usm.USM_AUTH_HMAC96_SHA,
    "SHA224": usm.USM_AUTH_HMAC128_SHA224,
    "SHA256": usm.USM_AUTH_HMAC192_SHA256,
    "SHA384": usm.USM_AUTH_HMAC256_SHA384,
    "SHA512": usm.USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOL_IDS = {
    "DES": usm.USM_PRIV_CBC56_DES,
    "3DES": usm.USM_PRIV_CBC168_3DES,
    "AES": usm.USM_PRIV_CFB128_AES,
    "AES192": usm.USM_PRIV_CFB192_AES,
    "AES256": usm.USM_PRIV_CFB256_AES,
}

_AUTH_FAILURES = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.UnknownSecurityName,
    errind.UnsupportedSecurityLevel,
    errind.DecryptionError,
    errind.AuthenticationError,
    errind.AuthenticationFailure,
)

# Ordered most specific first: Counter32/Gauge32/TimeTicks/IpAddress are Integer/OctetString kin.
_VALUE_KINDS: list[tuple[Any, str]] = [
    (rfc1905.NoSuchObject, "noSuchObject"),
    (rfc1905.NoSuchInstance, "noSuchInstance"),
    (rfc1905.EndOfMibView, "endOfMibView"),
    (rfc1902.Counter64, "counter64"),
    (rfc1902.Counter32, "counter32"),
    (rfc1902.Gauge32, "gauge32"),
    (rfc1902.TimeTicks, "timeticks"),
    (rfc1902.IpAddress, "ipaddress"),
    (rfc1902.Opaque, "opaque"),
    (rfc1902.Integer32, "integer"),
    (rfc1902.ObjectIdentifier, "oid"),
    (rfc1902.OctetString, "octets"),
]


def to_value(raw: Any) -> SnmpValue:
    """Convert a pysnmp/pyasn1 value to wifimon's library-free `SnmpValue`."""
    tag_set = getattr(raw, "tagSet", None)
    for cls, kind in _VALUE_KINDS:
        if tag_set == cls.tagSet:
            return _typed(kind, raw)
    if isinstance(raw, rfc1902.Null) or tag_set == rfc1902.Null.tagSet:
        return SnmpValue("null")
    raise SnmpError(f"unsupported value type {type(raw).__name__}", reason="malformed")


def _typed(kind: str, raw: Any) -> SnmpValue:
    """Python value for one of the known kinds."""
    if kind in ("noSuchObject", "noSuchInstance", "endOfMibView"):
        return SnmpValue(kind)  # type: ignore[arg-type]
    if kind == "ipaddress":
        return SnmpValue("ipaddress", ".".join(str(b) for b in bytes(raw.asOctets())))
    if kind in ("octets", "opaque"):
        return SnmpValue(kind, bytes(raw.asOctets()))  # type: ignore[arg-type]
    if kind == "oid":
        return SnmpValue("oid", str(raw))
    return SnmpValue(kind, int(raw))  # type: ignore[arg-type]


class PysnmpClient(ExchangeClient):
    """SnmpClient on pysnmp: the reference, and the only one for SNMPv3."""

    def __init__(self, varbinds_per_request: int = DEFAULT_VARBINDS_PER_REQUEST) -> None:
        super().__init__(varbinds_per_request)
        self._engine: SnmpEngine | None = None
        self._engine_lock = asyncio.Lock()
        self._transports: dict[tuple[str, int, float, int], Any] = {}

    async def _get_engine(self) -> SnmpEngine:
        """Build the engine once, in a thread: it costs ~80 ms of CPU."""
        async with self._engine_lock:
            if self._engine is None:
                self._engine = await asyncio.to_thread(SnmpEngine)
            return self._engine

    async def _exchange(
        self, target: SnmpTarget, kind: PduKind, oids: Sequence[str], repetitions: int = 0
    ) -> tuple[str, int, list[VarBind]]:
        command = {"get": get_cmd, "next": next_cmd, "bulk": bulk_cmd}[kind]
        bulk = (0, repetitions) if kind == "bulk" else None
        return await self._request(command, target, oids, bulk)

    async def _request(
        self,
        command: Any,
        target: SnmpTarget,
        oids: Sequence[str],
        bulk: tuple[int, int] | None = None,
    ) -> tuple[str, int, list[VarBind]]:
        """Send one PDU; map library errors to `SnmpError` reasons."""
        engine = await self._get_engine()
        transport = await self._transport(target)
        objects = [ObjectType(ObjectIdentity(oid)) for oid in oids]
        args: list[Any] = [engine, _auth_data(target), transport, _context(target)]
        if bulk is not None:
            args.extend(bulk)
        deadline = target.timeout * (target.retries + 1) + 1.0
        try:
            indication, status, index, varbinds = await asyncio.wait_for(
                command(*args, *objects, lookupMib=False), timeout=deadline
            )
        except TimeoutError as exc:
            raise SnmpError(f"{target.describe()}: no answer", reason="timeout") from exc
        except SnmpError:
            raise
        except Exception as exc:  # pysnmp raises its own error tree for malformed input
            raise SnmpError(
                f"{target.describe()}: {type(exc).__name__}", reason="malformed"
            ) from exc
        if indication:
            raise _indication_error(target, indication)
        status_text = status.prettyPrint() if status else ""
        return status_text, int(index or 0), [(str(n), to_value(v)) for n, v in varbinds]

    async def _transport(self, target: SnmpTarget) -> Any:
        """Transport targets are reused: building one resolves the address each time."""
        key = (target.host, target.port, target.timeout, target.retries)
        if key not in self._transports:
            self._transports[key] = await _transport(target)
        return self._transports[key]

    async def close(self) -> None:
        """Close the engine's transports."""
        self._transports.clear()
        if self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None


def _indication_error(target: SnmpTarget, indication: Any) -> SnmpError:
    """Classify a pysnmp error indication into a metrics reason."""
    if isinstance(indication, errind.RequestTimedOut):
        return SnmpError(f"{target.describe()}: no answer", reason="timeout")
    if isinstance(indication, _AUTH_FAILURES):
        return SnmpError(f"{target.describe()}: credentials rejected ({indication})", reason="auth")
    return SnmpError(f"{target.describe()}: {indication}", reason="protocol")


async def _transport(target: SnmpTarget) -> Any:
    """A transport target for IPv4 or IPv6 with the target's timeout and retries."""
    cls = Udp6TransportTarget if ":" in target.host else UdpTransportTarget
    try:
        return await cls.create(
            (target.host, target.port), timeout=target.timeout, retries=target.retries
        )
    except Exception as exc:
        raise SnmpError(f"{target.describe()}: cannot resolve address", reason="address") from exc


def _auth_data(target: SnmpTarget) -> Any:
    """pysnmp credentials; SNMPv3 protocols are always set explicitly."""
    auth = target.auth
    if isinstance(auth, CommunityAuth):
        return CommunityData(auth.community.reveal(), mpModel=0 if target.version == "1" else 1)
    return _usm_data(auth)


def _usm_data(auth: UsmAuth) -> Any:
    """UsmUserData with explicit protocols, so pysnmp never picks MD5/DES for us."""
    auth_proto = AUTH_PROTOCOL_IDS[auth.auth_protocol] if auth.auth_protocol else usm.USM_AUTH_NONE
    priv_proto = PRIV_PROTOCOL_IDS[auth.priv_protocol] if auth.priv_protocol else usm.USM_PRIV_NONE
    return UsmUserData(
        auth.user,
        authKey=auth.auth_key.reveal() if auth.auth_key else None,
        privKey=auth.priv_key.reveal() if auth.priv_key else None,
        authProtocol=auth_proto,
        privProtocol=priv_proto,
    )


def _context(target: SnmpTarget) -> Any:
    """Context name for SNMPv3 (snmpsim selects its data file by it)."""
    if isinstance(target.auth, UsmAuth) and target.auth.context:
        return ContextData(contextName=target.auth.context)
    return ContextData()
