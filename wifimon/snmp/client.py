"""The narrow SNMP interface every poller uses: `get` and `bulk_walk`, nothing else."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Literal, Protocol

from wifimon.errors import SnmpError
from wifimon.snmp.types import SnmpTarget, SnmpValue, VarBind
from wifimon.snmp.walk import DEFAULT_MAX_ROWS, DEFAULT_VARBINDS_PER_REQUEST, ColumnWalk


class SnmpClient(Protocol):
    """What pollers need from SNMP; implementations raise `SnmpError` with a reason."""

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> list[VarBind]:
        """Fetch exact OIDs; missing ones come back as noSuchObject/noSuchInstance values."""
        ...

    async def bulk_walk(
        self, target: SnmpTarget, root: str, max_rows: int = DEFAULT_MAX_ROWS
    ) -> list[VarBind]:
        """All varbinds strictly under `root`, in the order the agent returned them."""
        ...

    async def walk_many(
        self, target: SnmpTarget, roots: Sequence[str], max_rows: int = DEFAULT_MAX_ROWS
    ) -> dict[str, list[VarBind]]:
        """Several subtrees walked together (fewer requests); keyed by root."""
        ...

    async def close(self) -> None:
        """Release sockets and engine resources."""
        ...


PduKind = Literal["get", "next", "bulk"]


class ExchangeClient(ABC):
    """GET and multi-column walks over one primitive: send a PDU, get (status, index, varbinds).

    Implementations differ only in `_exchange`; the SNMPv1 quirks live here once.
    """

    def __init__(self, varbinds_per_request: int = DEFAULT_VARBINDS_PER_REQUEST) -> None:
        self._budget = varbinds_per_request
        # Rows each (agent, columns) walk had last time: the next GETBULK asks for just that
        # many (+1 to see the end) instead of reading far past short tables.
        self._rows_seen: dict[tuple[str, int, tuple[str, ...]], int] = {}

    @abstractmethod
    async def _exchange(
        self, target: SnmpTarget, kind: PduKind, oids: Sequence[str], repetitions: int = 0
    ) -> tuple[str, int, list[VarBind]]:
        """One request/response; error status as its name ("" for none); SnmpError on failure."""

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> list[VarBind]:
        """GET `oids`; on SNMPv1 noSuchName the missing OID is reported and the rest retried."""
        remaining = list(oids)
        found: dict[str, SnmpValue] = {}
        while remaining:
            status, index, varbinds = await self._exchange(target, "get", remaining)
            if status == "noSuchName" and 0 < index <= len(remaining):
                found[remaining[index - 1]] = SnmpValue("noSuchObject")
                del remaining[index - 1]
                continue
            _raise_status(target, status)
            found.update(varbinds)
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
        key = (target.host, target.port, tuple(roots))
        hint = self._rows_seen.get(key)
        while not walk.finished:
            cursors = walk.next_request()
            if target.version == "1":
                status, _, varbinds = await self._exchange(target, "next", cursors)
                if status == "noSuchName":
                    varbinds = await self._v1_next_one_by_one(target, cursors)
                    status = ""
            else:
                reps = walk.repetitions(self._budget)
                if hint is not None:
                    reps, hint = min(reps, hint + 1), None  # only the first request
                status, _, varbinds = await self._exchange(target, "bulk", cursors, reps)
            _raise_status(target, status)
            walk.feed(varbinds)
        self._rows_seen[key] = max((len(rows) for rows in walk.rows.values()), default=0)
        return walk.rows

    async def _v1_next_one_by_one(
        self, target: SnmpTarget, cursors: Sequence[str]
    ) -> list[VarBind]:
        """SNMPv1 fails a whole GETNEXT at the end of the MIB: ask each column alone."""
        result: list[VarBind] = []
        for cursor in cursors:
            status, _, varbinds = await self._exchange(target, "next", [cursor])
            result.extend(varbinds if not status else [(cursor, SnmpValue("endOfMibView"))])
        return result


def _raise_status(target: SnmpTarget, status: str) -> None:
    if status:
        raise SnmpError(f"{target.describe()}: agent answered {status}", reason="error_status")
