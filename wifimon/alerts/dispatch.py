"""Decides the messages: who is told about which alert, at first, on escalation, as a
reminder and when it is over. Pure: alerts, routes, acknowledgements and the time in;
notifications out; the per-alert record of who was told lives on the alert (and its file).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from wifimon.alerts.acks import Ack
from wifimon.alerts.engine import ActiveAlert
from wifimon.alerts.lifecycle import AlertState
from wifimon.alerts.routing import Routing
from wifimon.alerts.told import Told

Kind = Literal["firing", "escalation", "repeat", "resolved"]


@dataclass(frozen=True)
class Notification:
    """One message to send: an alert, to these recipient roles, of this kind."""

    alert_id: str
    kind: Kind
    roles: tuple[str, ...]
    at: float
    labels: dict[str, str]
    annotations: dict[str, str]
    members: tuple[str, ...] = ()
    fired_at: float | None = None
    channels: frozenset[str] | None = None  # the routes' channels; None: every one


def dispatch(
    alerts: Iterable[ActiveAlert],
    routing: Routing,
    acks: Mapping[tuple[str, float], Ack],
    now: float,
) -> list[Notification]:
    """The notifications due now; updates each alert's `told` record."""
    ordered = sorted(alerts, key=lambda a: a.rule.scope != "group")  # groups first
    told_by_group: dict[str, list[str]] = {}
    out: list[Notification] = []
    for active in ordered:
        alert = active.alert
        new_episode = alert.fired_at is not None and active.told.episode != alert.fired_at
        if new_episode and alert.state == AlertState.FIRING:
            active.told = Told(episode=alert.fired_at)  # fired again: a new story to tell
        active.ack = acks.get((active.id, alert.fired_at)) if alert.fired_at else None
        if alert.state == AlertState.FIRING:
            out += _firing(active, routing, told_by_group, now)
        elif alert.state == AlertState.RESOLVED:
            out += _resolved(active, routing, now)
        if active.rule.scope == "group":
            told_by_group[active.id] = active.told.roles
    return out


def _firing(
    active: ActiveAlert, routing: Routing, told_by_group: dict[str, list[str]], now: float
) -> list[Notification]:
    if active.silenced_by or active.inhibited_by or active.alert.flapping:
        return []
    fired_at = active.alert.fired_at or now
    told = active.told
    plan = routing.plan(active.labels)
    covered = set(active.held_from)
    for group_id in active.grouped_into:
        covered |= set(told_by_group.get(group_id, ()))
    out = []
    for index, level in enumerate(plan.levels):
        if now - fired_at < level.after or (index and active.ack is not None):
            break
        roles = tuple(r for r in level.roles if r not in told.roles and r not in covered)
        if roles:
            kind: Kind = "escalation" if index else "firing"
            out.append(notification(active, kind, roles, now, plan.channels))
            told.roles += roles
            told.last_at = now
    due = told.last_at is not None and now - told.last_at >= plan.repeat_every > 0
    if due and told.roles and active.ack is None:
        out.append(notification(active, "repeat", tuple(told.roles), now, plan.channels))
        told.last_at = now
    return out


def _resolved(active: ActiveAlert, routing: Routing, now: float) -> list[Notification]:
    told = active.told
    if not told.roles or told.resolved_sent or active.alert.flapping:
        return []  # nobody was told it fired (or it is still flapping): nothing to undo
    told.resolved_sent = True
    channels = routing.plan(active.labels).channels
    return [notification(active, "resolved", tuple(told.roles), now, channels)]


def notification(active: ActiveAlert, kind: Kind, roles: tuple[str, ...], now: float,
          channels: frozenset[str] | None) -> Notification:  # fmt: skip
    return Notification(active.id, kind, roles, now, dict(active.labels),
                        dict(active.annotations), tuple(active.members),
                        active.alert.fired_at, channels)  # fmt: skip
