"""From a decided notification to deliveries: which people, over which channels, in which
language and form, and when (quiet hours). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from wifimon.alerts.dispatch import Notification
from wifimon.alerts.recipients import Directory
from wifimon.alerts.templates import WIB
from wifimon.notify.messages import Renderer
from wifimon.notify.outbox import NewDelivery
from wifimon.notify.settings import (
    AlertmanagerSettings,
    ChannelSettings,
    GatewaySettings,
    NotificationSettings,
    address,
)


def form_of(channel: ChannelSettings) -> str:
    """Which rendering a channel takes: the full message, a short SMS, or an alert."""
    if isinstance(channel, AlertmanagerSettings):
        return "alertmanager"
    if isinstance(channel, GatewaySettings) and channel.type == "sms_gateway":
        return "sms"
    return "message"


def quiet_until(span: str | None, now: float) -> float | None:
    """The end of the quiet hours ("21:00-06:00" WIB) `now` falls in, None outside them."""
    if not span:
        return None
    start_text, end_text = span.split("-")
    local = datetime.fromtimestamp(now, WIB)
    start = local.replace(hour=int(start_text[:2]), minute=int(start_text[3:]), second=0,
                          microsecond=0)  # fmt: skip
    end = local.replace(hour=int(end_text[:2]), minute=int(end_text[3:]), second=0, microsecond=0)
    if start <= end:  # within one day, e.g. 12:00-13:00
        return end.timestamp() if start <= local < end else None
    if local >= start:  # across midnight, evening part
        return (end + timedelta(days=1)).timestamp()
    return end.timestamp() if local < end else None


def deliveries(
    note: Notification,
    directory: Directory,
    settings: NotificationSettings,
    renderer: Renderer,
    channels: Mapping[str, ChannelSettings] | None = None,
) -> list[NewDelivery]:
    """One delivery per person told and channel that reaches them, keyed so that deciding
    the same message again queues nothing new."""
    channels = settings.channels if channels is None else channels
    episode = f"{note.fired_at:.3f}" if note.fired_at is not None else "-"
    when = f"{note.at:.3f}" if note.kind == "repeat" else ""
    critical = note.labels.get("severity") == "critical"
    out = []
    texts: dict[tuple[str, str, str], tuple[str, str]] = {}  # rendered once per kind of reader
    for role in note.roles:
        for contact in directory.resolve(role, note.labels):
            quiet = None if critical else quiet_until(
                contact.quiet_hours or settings.quiet_hours.get(role), note.at)  # fmt: skip
            for name, channel in channels.items():
                if note.channels is not None and name not in note.channels:
                    continue
                to = address(contact, name, channel)
                if to is None:
                    continue
                reader = (role, contact.language, form_of(channel))
                if reader not in texts:
                    texts[reader] = renderer.message(note, *reader)
                subject, body = texts[reader]
                key = "|".join((note.alert_id, episode, note.kind, when, role, name, to))
                out.append(NewDelivery(key, name, to, subject, body, contact.language,
                                       critical, quiet))  # fmt: skip
    return out
