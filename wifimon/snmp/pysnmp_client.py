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
from wifimon.snmp.client import DEFAULT_MAX_ROWS
from wifimon.snmp.types import CommunityAuth, SnmpTarget, SnmpValue, UsmAuth, VarBind
from wifimon.snmp.walk import DEFAULT_VARBINDS_PER_REQUEST, ColumnWalk

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


class PysnmpClient:
    """The production SnmpClient; thread-safe use is not needed, all calls run on one loop."""

    def __init__(self, varbinds_per_request: int = DEFAULT_VARBINDS_PER_REQUEST) -> None:
        self._engine: SnmpEngine | None = None
        self._engine_lock = asyncio.Lock()
        self._transports: dict[tuple[str, int, float, int], Any] = {}
        self._budget = varbinds_per_request

    async def _get_engine(self) -> SnmpEngine:
        """Build the engine once, in a thread: it costs ~80 ms of CPU."""
        async with self._engine_lock:
            if self._engine is None:
                self._engine = await asyncio.to_thread(SnmpEngine)
            return self._engine

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> list[VarBind]:
        """GET `oids`; on SNMPv1 noSuchName the missing OID is reported and the rest retried."""
        remaining = list(oids)
        found: dict[str, SnmpValue] = {}
        while remaining:
            status, index, varbinds = await self._request(get_cmd, target, remaining)
            if status == "noSuchName" and 0 < index <= len(remaining):
                found[remaining[index - 1]] = SnmpValue("noSuchObject")
                del remaining[index - 1]
                continue
            if status:
                raise SnmpError(
                    f"{target.describe()}: agent answered {status}", reason="error_status"
                )
            for oid, value in varbinds:
                found[oid] = value
            break
        return [(oid, found.get(oid, SnmpValue("noSuchObject"))) for oid in oids]

    async def bulk_walk(
        self, target: SnmpTarget, root: str, max_rows: int = DEFAULT_MAX_ROWS
    ) -> list[VarBind]:
        """Walk one subtree (see `walk_many`)."""
        return (await self.walk_many(target, [root], max_rows))[root.strip(".")]

    async def walk_many(
        self, target: SnmpTarget, roots: Sequence[str], max_rows: int = DEFAULT_MAX_ROWS
    ) -> dict[str, list[VarBind]]:
        """Walk several columns together: GETBULK (GETNEXT on v1) with one cursor each."""
        walk = ColumnWalk(roots, max_rows)
        while not walk.finished:
            cursors = walk.next_request()
            if target.version == "1":
                status, _, varbinds = await self._request(next_cmd, target, cursors)
                if status == "noSuchName":
                    varbinds = await self._v1_next_one_by_one(target, cursors)
                    status = ""
            else:
                status, _, varbinds = await self._request(
                    bulk_cmd, target, cursors, bulk=(0, walk.repetitions(self._budget))
                )
            walk.feed(self._raise_status(target, status, varbinds))
        return walk.rows

    async def _v1_next_one_by_one(
        self, target: SnmpTarget, cursors: Sequence[str]
    ) -> list[VarBind]:
        """SNMPv1 fails a whole GETNEXT at the end of the MIB: ask each column alone."""
        result: list[VarBind] = []
        for cursor in cursors:
            status, _, varbinds = await self._request(next_cmd, target, [cursor])
            result.extend(varbinds if not status else [(cursor, SnmpValue("endOfMibView"))])
        return result

    @staticmethod
    def _raise_status(target: SnmpTarget, status: str, varbinds: list[VarBind]) -> list[VarBind]:
        if status:
            raise SnmpError(f"{target.describe()}: agent answered {status}", reason="error_status")
        return varbinds

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
