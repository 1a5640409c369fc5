"""Who hears about an alert, and when: a route tree over labels, escalation and repeats.

Routes are tried in order; the first whose matchers hold is used (with `continue: true` the
next ones are tried as well), and a route's own `routes` refine it, inheriting what they do
not set. A route names recipient roles: `rw_admin`, `provider`, `lurah`, `camat` (from the
titik's contacts in the inventory and the `contacts` of the config) and `noc`.
`escalate` adds roles when an alert is still firing and not acknowledged after a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from wifimon.alerts.expr import parse_duration
from wifimon.alerts.matchers import check_matchers, labels_match

Role = Literal["rw_admin", "provider", "noc", "lurah", "camat"]
DURATION = r"^\d+(\.\d+)?[smhd]$"


class EscalationModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    after: str = Field(pattern=DURATION)
    notify: list[Role] = Field(min_length=1)


class RouteModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    match: dict[str, str] = Field(default_factory=dict)
    notify: list[Role] | None = None
    channels: list[str] | None = None  # notification channels by name; None: every one
    escalate: list[EscalationModel] | None = None
    repeat_every: str | None = Field(default=None, pattern=DURATION)
    continue_: bool = Field(default=False, alias="continue")
    routes: list[RouteModel] = Field(default_factory=list)

    @field_validator("match")
    @classmethod
    def _matchers(cls, matchers: dict[str, str]) -> dict[str, str]:
        return check_matchers(matchers)


class RoutingModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    repeat_every: str = Field(default="4h", pattern=DURATION)
    routes: list[RouteModel] = Field(default_factory=list)


@dataclass(frozen=True)
class Level:
    """Roles told once an alert has fired for `after` seconds (level 0: at once)."""

    after: float
    roles: tuple[Role, ...]


@dataclass(frozen=True)
class Route:
    """A compiled route: matchers, the escalation levels, and how often to remind."""

    matchers: tuple[tuple[str, str], ...]
    levels: tuple[Level, ...]
    repeat_every: float
    continue_: bool
    children: tuple[Route, ...]
    channels: frozenset[str] | None = None

    def matches(self, labels: Mapping[str, str]) -> bool:
        return labels_match(self.matchers, labels)


@dataclass(frozen=True)
class Plan:
    """What the matching routes say for one alert: levels (merged by time) and repeats."""

    levels: tuple[Level, ...]
    repeat_every: float
    channels: frozenset[str] | None = None  # None: every channel

    @property
    def roles(self) -> tuple[Role, ...]:
        return tuple(dict.fromkeys(r for level in self.levels for r in level.roles))


@dataclass(frozen=True)
class Routing:
    routes: tuple[Route, ...]

    def plan(self, labels: Mapping[str, str]) -> Plan:
        """Levels of every matched route, merged: roles at the earliest time any route says."""
        matched = _walk(self.routes, labels)
        earliest: dict[Role, float] = {}
        for route in matched:
            for level in route.levels:
                for role in level.roles:
                    earliest[role] = min(earliest.get(role, level.after), level.after)
        times = sorted(set(earliest.values()))
        levels = tuple(Level(t, tuple(r for r, at in earliest.items() if at == t)) for t in times)
        repeat = min((r.repeat_every for r in matched), default=0.0)
        limited = [r.channels for r in matched]
        channels = None if None in limited else frozenset().union(*limited)  # type: ignore[arg-type]
        return Plan(levels, repeat, channels)

    def channel_names(self) -> list[frozenset[str]]:
        """The channel names every route names (to check them against the config)."""
        found, stack = [], list(self.routes)
        while stack:
            route = stack.pop()
            if route.channels:
                found.append(route.channels)
            stack.extend(route.children)
        return found


def _walk(routes: tuple[Route, ...], labels: Mapping[str, str]) -> list[Route]:
    matched: list[Route] = []
    for route in routes:
        if not route.matches(labels):
            continue
        refined = _walk(route.children, labels)
        matched.extend(refined or [route])
        if not route.continue_:
            break
    return matched


def compile_routing(model: RoutingModel | None) -> Routing:
    """The route tree; without a `routing` section every alert goes to the NOC."""
    if model is None or not model.routes:
        return Routing((Route((), (Level(0.0, ("noc",)),), 4 * 3600.0, False, ()),))
    inherited = _Inherited(("noc",), (), parse_duration(model.repeat_every))
    return Routing(tuple(_compile(route, inherited) for route in model.routes))


@dataclass(frozen=True)
class _Inherited:
    notify: tuple[Role, ...]
    escalate: tuple[EscalationModel, ...]
    repeat_every: float
    channels: frozenset[str] | None = None


def _compile(model: RouteModel, parent: _Inherited) -> Route:
    mine = _Inherited(
        tuple(model.notify) if model.notify is not None else parent.notify,
        tuple(model.escalate) if model.escalate is not None else parent.escalate,
        parse_duration(model.repeat_every) if model.repeat_every else parent.repeat_every,
        frozenset(model.channels) if model.channels is not None else parent.channels,
    )
    levels = [Level(0.0, mine.notify)] if mine.notify else []
    levels += [Level(parse_duration(e.after), tuple(e.notify)) for e in mine.escalate]
    return Route(
        tuple(model.match.items()),
        tuple(sorted(levels, key=lambda level: level.after)),
        mine.repeat_every,
        model.continue_,
        tuple(_compile(child, mine) for child in model.routes),
        mine.channels,
    )
