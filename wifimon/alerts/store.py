"""Alert state on disk, so a restart or a SIGKILL neither forgets an alert nor fires it twice.

One JSON file in the data directory, replaced atomically (write, fsync, rename) after every
evaluation cycle that changed something: a crash leaves the previous complete file.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from pathlib import Path
from typing import Any

from wifimon.alerts.lifecycle import Alert, AlertState
from wifimon.jsonfile import write_atomic

log = logging.getLogger(__name__)
FILENAME = "alerts.json"
FORMAT_VERSION = 1


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    return {
        "state": alert.state.value,
        "active_since": alert.active_since,
        "fired_at": alert.fired_at,
        "resolved_at": alert.resolved_at,
        "clear_since": alert.clear_since,
        "changes": list(alert.changes),
        "flapping": alert.flapping,
    }


def alert_from_dict(data: dict[str, Any]) -> Alert:
    return Alert(
        state=AlertState(data["state"]),
        active_since=data.get("active_since"),
        fired_at=data.get("fired_at"),
        resolved_at=data.get("resolved_at"),
        clear_since=data.get("clear_since"),
        changes=deque(float(t) for t in data.get("changes", [])),
        flapping=bool(data.get("flapping", False)),
    )


class AlertStore:
    """Reads and writes the alert file of one daemon."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FILENAME

    def save(self, records: list[dict[str, Any]]) -> None:
        write_atomic(self.path, {"version": FORMAT_VERSION, "alerts": records})

    def load(self) -> list[dict[str, Any]]:
        """The saved alerts; a missing file is an empty start, a damaged one is logged."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.error("alert state unreadable, starting empty path=%s error=%s", self.path, exc)
            return []
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            log.error("alert state of an unknown format, starting empty path=%s", self.path)
            return []
        return list(data.get("alerts", []))
