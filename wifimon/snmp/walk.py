"""Walking several table columns at once: one GETBULK/GETNEXT carries every unfinished column.

Pure bookkeeping, shared by every client: the caller sends `next_request()` and feeds the
answer back; varbinds come interleaved row by row (RFC 3416, non-repeaters 0).
"""

from __future__ import annotations

from collections.abc import Sequence

from wifimon.snmp.types import VarBind, in_subtree

DEFAULT_MAX_ROWS = 10_000
# Varbinds asked for per GETBULK across all columns: keeps answers near one UDP datagram.
DEFAULT_VARBINDS_PER_REQUEST = 60
# Columns asked for in one request: agents drop requests with many more varbinds.
MAX_COLUMNS_PER_REQUEST = 24


class ColumnWalk:
    """The state of a multi-column walk."""

    def __init__(self, roots: Sequence[str], max_rows: int = DEFAULT_MAX_ROWS) -> None:
        self.roots = [root.strip(".") for root in roots]
        self.max_rows = max_rows
        self.rows: dict[str, list[VarBind]] = {root: [] for root in self.roots}
        self._cursor = {root: root for root in self.roots}
        self._seen: dict[str, set[str]] = {root: set() for root in self.roots}
        self._done = {root: False for root in self.roots}

    @property
    def finished(self) -> bool:
        return all(self._done.values())

    def pending(self) -> list[str]:
        """Columns still being walked and asked next, in a stable order (at most
        MAX_COLUMNS_PER_REQUEST: the rest wait for those to finish)."""
        return [root for root in self.roots if not self._done[root]][:MAX_COLUMNS_PER_REQUEST]

    def next_request(self) -> list[str]:
        """The OIDs to ask next: one cursor per unfinished column."""
        return [self._cursor[root] for root in self.pending()]

    def repetitions(self, budget: int = DEFAULT_VARBINDS_PER_REQUEST) -> int:
        """max-repetitions so that one request asks for about `budget` varbinds."""
        return max(1, min(self.max_rows, budget // max(1, len(self.pending()))))

    def feed(self, varbinds: Sequence[VarBind]) -> None:
        """Distribute one answer to the columns asked by the last `next_request()`."""
        columns = self.pending()
        progressed = dict.fromkeys(columns, False)
        for position, (oid, value) in enumerate(varbinds):
            root = columns[position % len(columns)]
            if self._done[root]:
                continue
            if value.kind == "endOfMibView" or not in_subtree(oid, root):
                self._done[root] = True
                continue
            if oid in self._seen[root]:
                self._done[root] = True  # an agent looping on itself; keep what we have
                continue
            self._seen[root].add(oid)
            self.rows[root].append((oid, value))
            self._cursor[root] = oid
            progressed[root] = True
            if len(self.rows[root]) >= self.max_rows:
                self._done[root] = True
        for root, moved in progressed.items():
            if not moved:
                self._done[root] = True  # an empty or non-increasing answer ends the column
