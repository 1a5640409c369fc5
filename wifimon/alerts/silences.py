"""Silences and maintenance windows: one-off or weekly (in WIB), matched on alert labels.

A silenced alert keeps its lifecycle (so nothing is lost when the silence ends) and is marked
silenced; maintenance silences are kept after they expire, because reports exclude that time.
Stored in DATA_DIR/silences.json, replaced atomically, shared by the CLI and the daemon.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from wifimon.alerts.expr import parse_duration
from wifimon.alerts.matchers import check_matchers, labels_match
from wifimon.errors import ConfigError
from wifimon.jsonfile import SharedList

WIB = ZoneInfo("Asia/Jakarta")
FILENAME = "silences.json"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Weekly(BaseModel):
    """Every `days` at `start` (HH:MM, WIB) for `duration`; may run past midnight."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: list[Weekday] = Field(min_length=1)
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    duration: str = Field(pattern=r"^\d+(\.\d+)?[smhd]$")

    def active(self, now: float) -> bool:
        local = datetime.fromtimestamp(now, WIB)
        hour, minute = (int(part) for part in self.start.split(":"))
        length = timedelta(seconds=parse_duration(self.duration))
        for days_back in range(0, 8):  # a window may have started on an earlier day
            day = local - timedelta(days=days_back)
            if WEEKDAYS[day.weekday()] not in self.days:
                continue
            begin = day.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if begin <= local < begin + length:
                return True
        return False

    def windows(self, start: float, end: float) -> list[tuple[float, float]]:
        """The times within [start, end) this window is open (WIB calendar days)."""
        hour, minute = (int(part) for part in self.start.split(":"))
        length = parse_duration(self.duration)
        day = datetime.fromtimestamp(start, WIB).replace(
            hour=0, minute=0, second=0, microsecond=0
        ) - timedelta(days=8)
        out = []
        while day.timestamp() < end:
            if WEEKDAYS[day.weekday()] in self.days:
                begin = day.replace(hour=hour, minute=minute).timestamp()
                if begin < end and begin + length > start:
                    out.append((max(begin, start), min(begin + length, end)))
            day += timedelta(days=1)
        return out


class Silence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    matchers: dict[str, str] = Field(min_length=1)
    author: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    maintenance: bool = False
    starts_at: float
    ends_at: float | None = None
    weekly: Weekly | None = None
    created_at: float
    expired_at: float | None = None

    @field_validator("matchers")
    @classmethod
    def _known_labels(cls, matchers: dict[str, str]) -> dict[str, str]:
        return check_matchers(matchers)

    def active(self, now: float) -> bool:
        if self.expired_at is not None and now >= self.expired_at:
            return False
        if now < self.starts_at or (self.ends_at is not None and now >= self.ends_at):
            return False
        return self.weekly.active(now) if self.weekly is not None else True

    def windows(self, start: float, end: float) -> list[tuple[float, float]]:
        """The times within [start, end) this silence held (for the reports)."""
        stop = min(t for t in (end, self.ends_at, self.expired_at) if t is not None)
        begin = max(start, self.starts_at)
        if begin >= stop:
            return []
        if self.weekly is None:
            return [(begin, stop)]
        return [(a, min(b, stop)) for a, b in self.weekly.windows(begin, stop) if a < stop]

    def state(self, now: float) -> str:
        if (self.expired_at is not None and now >= self.expired_at) or (
            self.ends_at is not None and now >= self.ends_at
        ):
            return "expired"
        return "active" if self.active(now) else "pending"

    def matches(self, labels: Mapping[str, str]) -> bool:
        return labels_match(self.matchers.items(), labels)


def parse_matchers(items: list[str]) -> dict[str, str]:
    """`kelurahan=Galur`, `hotspot=~jt-.*` (CLI form)."""
    matchers = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise ConfigError(f"matcher {item!r}: expected label=value or label=~regex")
        matchers[name.strip()] = value.strip()
    return matchers


class SilenceStore:
    """silences.json of one data directory; every change rewrites it atomically."""

    def __init__(self, directory: Path) -> None:
        self.file = SharedList(directory / FILENAME, "silences", Silence, "silences")
        self.path = self.file.path

    def load(self) -> list[Silence]:
        """All silences (re-read only when the file changed, e.g. by the CLI)."""
        return self.file.load()

    def add(self, matchers: dict[str, str], author: str, reason: str, now: float,
            duration: str | None = None, starts_at: float | None = None,
            weekly: Weekly | None = None, until: float | None = None,
            maintenance: bool = False) -> Silence:  # fmt: skip
        """A new silence: for `duration` from `starts_at`, or weekly (until `until`)."""
        if (duration is None) == (weekly is None):
            raise ConfigError("give either a duration or a weekly window")
        begin = starts_at if starts_at is not None else now
        end = begin + parse_duration(duration) if duration is not None else until
        try:
            silence = Silence(id=secrets.token_hex(4), matchers=matchers, author=author,
                              reason=reason, maintenance=maintenance, starts_at=begin,
                              ends_at=end, weekly=weekly, created_at=now)  # fmt: skip
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(f"silence: {first['msg'].removeprefix('Value error, ')}") from exc
        with self.file.editing() as silences:
            silences.append(silence)
        return silence

    def expire(self, silence_id: str, now: float) -> Silence:
        with self.file.editing() as silences:
            for silence in silences:
                if silence.id == silence_id:
                    silence.expired_at = now
                    return silence
        raise ConfigError(f"no silence with id {silence_id!r}")


def silenced_by(silences: list[Silence], labels: Mapping[str, str], now: float) -> Silence | None:
    """The first active silence matching the labels."""
    for silence in silences:
        if silence.active(now) and silence.matches(labels):
            return silence
    return None
