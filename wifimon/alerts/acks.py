"""Acknowledgements: someone has seen a firing alert; its escalation and reminders stop.

An acknowledgement belongs to one firing episode (the alert id and when it fired), so the
next outage of the same titik is not pre-acknowledged. Stored in DATA_DIR/acks.json, written
under a lock by the CLI and the API, re-read by the daemon when it changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wifimon.errors import ConfigError

FILENAME = "acks.json"
KEEP_SECONDS = 90 * 86_400.0  # acknowledgements older than this are dropped on write


class Ack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    alert: str = Field(min_length=3)  # the alert id, e.g. TitikMati:jp-glr-01
    fired_at: float
    by: str = Field(min_length=1, max_length=100)
    comment: str = Field(default="", max_length=500)
    at: float


class AckStore:
    """acks.json of one data directory."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FILENAME
        self._mtime: float | None = None
        self._cache: list[Ack] = []

    def load(self) -> list[Ack]:
        """Every acknowledgement (re-read only when the file changed)."""
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return []
        if mtime != self._mtime:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                self._cache = [Ack.model_validate(item) for item in raw.get("acks", [])]
            except (OSError, ValueError, ValidationError) as exc:
                raise ConfigError(f"{self.path}: unreadable acknowledgements: {exc}") from exc
            self._mtime = mtime
        return list(self._cache)

    def by_episode(self) -> dict[tuple[str, float], Ack]:
        return {(ack.alert, ack.fired_at): ack for ack in self.load()}

    def add(self, alert_id: str, fired_at: float, by: str, comment: str, now: float) -> Ack:
        """Record an acknowledgement (the first one of an episode stands)."""
        try:
            ack = Ack(alert=alert_id, fired_at=fired_at, by=by, comment=comment, at=now)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise ConfigError(f"acknowledgement: {field}: {first['msg']}") from None
        with self._locked():
            self._mtime = None
            acks = [a for a in self.load() if now - a.at < KEEP_SECONDS]
            existing = [a for a in acks if (a.alert, a.fired_at) == (alert_id, fired_at)]
            if existing:
                return existing[0]
            self._save([*acks, ack])
        return ack

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _save(self, acks: list[Ack]) -> None:
        temporary = self.path.with_suffix(".json.tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump({"acks": [a.model_dump() for a in acks]}, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)


def acknowledge(
    store: AckStore, firing: dict[str, float], alert_id: str, by: str, comment: str, now: float
) -> Ack:
    """Acknowledge the current episode of a firing alert (`firing`: id -> fired_at)."""
    fired_at = firing.get(alert_id)
    if fired_at is None:
        raise ConfigError(f"no firing alert {alert_id!r} (`wifimon alert list` shows them)")
    return store.add(alert_id, fired_at, by, comment, now)
