"""The alert journal: every transition, silence, inhibition, acknowledgement and message
decision with its time, appended to DATA_DIR/alert-events.jsonl.

Reports leave silenced and maintenance time out; this is where that time is recorded. One
JSON object per line, appended and fsynced once per evaluation cycle; a line cut short by a
crash is skipped when read.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
FILENAME = "alert-events.jsonl"

Marks = dict[str, tuple[str | None, str | None]]  # alert id -> (silenced_by, inhibited_by)


class AlertJournal:
    def __init__(self, directory: Path) -> None:
        self.path = directory / FILENAME

    def append(self, events: Iterable[Mapping[str, Any]]) -> int:
        lines = [json.dumps(event, separators=(",", ":"), sort_keys=True) for event in events]
        if not lines:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return len(lines)

    def read(self) -> Iterator[dict[str, Any]]:
        """Every complete event, oldest first."""
        try:
            handle = self.path.open(encoding="utf-8")
        except FileNotFoundError:
            return
        with handle:
            for number, line in enumerate(handle, start=1):
                try:
                    event = json.loads(line)
                except ValueError:
                    log.warning("alert journal line skipped path=%s line=%d", self.path, number)
                    continue
                if isinstance(event, dict):
                    yield event


def mark_changes(
    before: Marks, after: Marks, now: float, silenced: set[str]
) -> list[dict[str, Any]]:
    """Events for alerts that became (un)silenced or (un)inhibited since the last cycle.

    `silenced` holds the ids of silences that are maintenance windows.
    """
    events: list[dict[str, Any]] = []
    for alert_id in sorted(set(before) | set(after)):
        old = before.get(alert_id, (None, None))
        new = after.get(alert_id, (None, None))
        if old[0] != new[0]:
            if old[0]:
                events.append(
                    {"at": now, "alert": alert_id, "event": "unsilenced", "silence": old[0]}
                )
            if new[0]:
                events.append({"at": now, "alert": alert_id, "event": "silenced", "silence": new[0],
                               "maintenance": new[0] in silenced})  # fmt: skip
        if old[1] != new[1]:
            if old[1]:
                events.append({"at": now, "alert": alert_id, "event": "uninhibited", "by": old[1]})
            if new[1]:
                events.append({"at": now, "alert": alert_id, "event": "inhibited", "by": new[1]})
    return events


def silenced_seconds(
    events: Iterable[Mapping[str, Any]],
    alert_id: str,
    start: float,
    end: float,
    maintenance_only: bool = False,
) -> float:
    """How long an alert was silenced within [start, end) (an open silence runs to `end`)."""
    total, since = 0.0, None
    for event in events:
        if event.get("alert") not in (alert_id, "*"):
            continue
        kind, at = event.get("event"), float(event.get("at", 0.0))
        if kind == "started" and since is not None:  # the daemon restarted: marks are redone
            total += max(0.0, min(at, end) - max(since, start))
            since = None
        elif kind == "silenced" and since is None:
            if not maintenance_only or event.get("maintenance"):
                since = at
        elif kind == "unsilenced" and since is not None:
            total += max(0.0, min(at, end) - max(since, start))
            since = None
    if since is not None:
        total += max(0.0, end - max(since, start))
    return total
