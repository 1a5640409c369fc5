"""An SnmpClient that answers from a recording and records calls, for tests and dry runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wifimon.errors import SnmpError
from wifimon.snmp import snmprec
from wifimon.snmp.types import SnmpTarget, SnmpValue, VarBind, in_subtree
from wifimon.snmp.walk import DEFAULT_MAX_ROWS


@dataclass
class FakeSnmpClient:
    """Serves `records` (in their given order, so unsorted tables can be played back).

    `failures` maps an OID or walk root to an SnmpError reason raised when it is asked for.
    """

    records: list[VarBind] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    unreachable: bool = False
    calls: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    @classmethod
    def from_file(cls, path: Path, sort: bool = True) -> FakeSnmpClient:
        client = cls()
        client.load(path, sort)
        return client

    def load(self, path: Path, sort: bool = True) -> None:
        """Replace the recording (e.g. the device as it is one poll later)."""
        if sort:
            self.records = snmprec.load(path)
        else:
            lines = path.read_text(encoding="utf-8").splitlines()
            parsed = [snmprec.parse_line(line, f"{path}:{n}") for n, line in enumerate(lines, 1)]
            self.records = [p for p in parsed if p is not None]

    def _check(self, target: SnmpTarget, key: str) -> None:
        if self.unreachable:
            raise SnmpError(f"{target.describe()}: no answer", reason="timeout")
        if key in self.failures:
            raise SnmpError(f"{target.describe()}: {self.failures[key]}", self.failures[key])

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> list[VarBind]:
        self.calls.append(("get", tuple(oids)))
        table = dict(self.records)
        result = []
        for oid in oids:
            self._check(target, oid)
            result.append((oid, table.get(oid, SnmpValue("noSuchObject"))))
        return result

    async def bulk_walk(
        self, target: SnmpTarget, root: str, max_rows: int = DEFAULT_MAX_ROWS
    ) -> list[VarBind]:
        self.calls.append(("walk", (root,)))
        self._check(target, root)
        return [(o, v) for o, v in self.records if in_subtree(o, root)][:max_rows]

    async def walk_many(
        self, target: SnmpTarget, roots: Sequence[str], max_rows: int = DEFAULT_MAX_ROWS
    ) -> dict[str, list[VarBind]]:
        self.calls.append(("walk_many", tuple(roots)))
        return {root: await self.bulk_walk(target, root, max_rows) for root in roots}

    async def close(self) -> None:
        self.calls.append(("close", ()))
