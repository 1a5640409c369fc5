"""Acknowledgements: someone has seen a firing alert; its escalation and reminders stop.

An acknowledgement belongs to one firing episode (the alert id and when it fired), so the
next outage of the same titik is not pre-acknowledged. Stored in DATA_DIR/acks.json, written
under a lock by the CLI and the API, re-read by the daemon when it changes.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wifimon.errors import ConfigError
from wifimon.jsonfile import SharedList

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
        self.file = SharedList(directory / FILENAME, "acks", Ack, "acknowledgements")
        self.path = self.file.path

    def load(self) -> list[Ack]:
        return self.file.load()

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
        with self.file.editing() as acks:
            acks[:] = [a for a in acks if now - a.at < KEEP_SECONDS]
            existing = [a for a in acks if (a.alert, a.fired_at) == (alert_id, fired_at)]
            if existing:
                return existing[0]
            acks.append(ack)
        return ack


def acknowledge(
    store: AckStore, firing: dict[str, float], alert_id: str, by: str, comment: str, now: float
) -> Ack:
    """Acknowledge the current episode of a firing alert (`firing`: id -> fired_at)."""
    fired_at = firing.get(alert_id)
    if fired_at is None:
        raise ConfigError(f"no firing alert {alert_id!r} (`wifimon alert list` shows them)")
    return store.add(alert_id, fired_at, by, comment, now)
