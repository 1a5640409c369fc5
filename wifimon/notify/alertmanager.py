"""Keeps Alertmanager's view current: Alertmanager ends an alert it has not heard of for
its resolve_timeout, so every firing alert routed to an Alertmanager channel is sent again
every `resend_every` (as Prometheus does). Firing and resolved messages themselves go
through the outbox like any other; this resend is best effort and idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import aiohttp

from wifimon.alerts.dispatch import Notification, notification
from wifimon.alerts.engine import ActiveAlert
from wifimon.alerts.expr import parse_duration
from wifimon.alerts.lifecycle import AlertState
from wifimon.alerts.recipients import Directory
from wifimon.alerts.routing import Routing
from wifimon.notify.channels import AlertmanagerChannel, DeliveryError
from wifimon.notify.messages import alertmanager_alert
from wifimon.notify.settings import AlertmanagerSettings, NotificationSettings

log = logging.getLogger(__name__)
Firing = list[tuple[Notification, set[str]]]


class AlertmanagerSync:
    def __init__(self, settings: NotificationSettings) -> None:
        self.every = {name: parse_duration(spec.resend_every)
                      for name, spec in settings.channels.items()
                      if isinstance(spec, AlertmanagerSettings)}  # fmt: skip
        self._task: asyncio.Task[None] | None = None

    def firing(self, alerts: Iterable[ActiveAlert], directory: Directory, routing: Routing,
               now: float) -> Firing:  # fmt: skip
        """Firing alerts someone was told of, with the Alertmanager channels of the people
        told (as their contacts and the alert's routes allow)."""
        out: Firing = []
        for active in alerts:
            if active.alert.state != AlertState.FIRING or not active.told.roles:
                continue
            allowed = routing.plan(active.labels).channels
            names = {name for role in active.told.roles
                     for contact in directory.resolve(role, active.labels)
                     for name in contact.channels or ()
                     if name in self.every and (allowed is None or name in allowed)}  # fmt: skip
            if names:
                note = notification(active, "repeat", tuple(active.told.roles),
                                    now, allowed)  # fmt: skip
                out.append((note, names))
        return out

    def start(self, session: aiohttp.ClientSession, channels: Mapping[str, Any],
              provider: Callable[[], Firing]) -> None:  # fmt: skip
        if self.every:
            self._task = asyncio.create_task(self._run(session, channels, provider))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, session: aiohttp.ClientSession, channels: Mapping[str, Any],
                   provider: Callable[[], Firing]) -> None:  # fmt: skip
        tick, last = min(self.every.values()), dict.fromkeys(self.every, 0.0)
        while True:
            await asyncio.sleep(tick)
            now = asyncio.get_running_loop().time()
            due = {name for name, every in self.every.items() if now - last[name] >= every}
            await self.resend(session, channels, provider(), due)
            last.update(dict.fromkeys(due, now))

    async def resend(self, session: aiohttp.ClientSession, channels: Mapping[str, Any],
                     firing: Firing, names: Iterable[str] | None = None) -> None:  # fmt: skip
        for name in self.every if names is None else names:
            channel = channels.get(name)
            alerts = [alertmanager_alert(note) for note, targets in firing if name in targets]
            if not alerts or not isinstance(channel, AlertmanagerChannel):
                continue
            try:
                await channel.post(session, alerts)
            except DeliveryError as exc:
                log.warning("alertmanager resend failed channel=%s reason=%s", name, exc.reason)
