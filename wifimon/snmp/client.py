"""The narrow SNMP interface every poller uses: `get` and `bulk_walk`, nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from wifimon.snmp.types import SnmpTarget, VarBind

DEFAULT_MAX_ROWS = 10_000


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
