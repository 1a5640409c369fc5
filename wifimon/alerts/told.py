"""Who has heard about an alert's current firing episode (kept with the alert on disk)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Told:
    """Who has heard about one firing episode of an alert."""

    episode: float | None = None  # fired_at of the episode
    roles: list[str] = field(default_factory=list)
    last_at: float | None = None
    resolved_sent: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"episode": self.episode, "roles": self.roles, "last_at": self.last_at,
                "resolved_sent": self.resolved_sent}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Told:
        return cls(data.get("episode"), [str(r) for r in data.get("roles", [])],
                   data.get("last_at"), bool(data.get("resolved_sent", False)))  # fmt: skip
