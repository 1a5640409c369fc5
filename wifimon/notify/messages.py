"""The words of a message, in Bahasa Indonesia: what is wrong, since when, what to do."""

from __future__ import annotations

from collections.abc import Mapping

from wifimon.alerts.dispatch import Notification
from wifimon.alerts.recipients import Directory
from wifimon.alerts.templates import wib
from wifimon.inventory import Contact
from wifimon.notify.outbox import NewDelivery
from wifimon.notify.settings import ChannelSettings, TelegramSettings

HEADINGS = {
    "firing": "PERINGATAN",
    "escalation": "ESKALASI (belum ditangani)",
    "repeat": "PENGINGAT",
    "resolved": "PULIH, sudah normal kembali. Sebelumnya",
}


def render(note: Notification) -> tuple[str, str]:
    """(subject, body) of one notification."""
    summary = note.annotations.get("summary") or note.labels.get("alertname", note.alert_id)
    subject = f"{HEADINGS[note.kind]}: {summary}"
    lines = []
    if note.kind == "resolved":
        lines.append(f"Pulih pada {wib(note.at)} (mulai {wib(note.fired_at)}).")
    else:
        lines.append(f"Sejak {wib(note.fired_at)}.")
        if note.annotations.get("description"):
            lines.append(note.annotations["description"])
        lines.append(f"Kode peringatan: {note.alert_id} (sebutkan kode ini saat melapor ke NOC)")
    return subject, "\n".join(lines)


def address(contact: Contact, role: str, channel: ChannelSettings) -> str | None:
    """Where this channel reaches this contact, None when it cannot."""
    if isinstance(channel, TelegramSettings):
        return contact.telegram_chat_id
    return f"{contact.name} ({role})"


def deliveries(
    note: Notification, directory: Directory, channels: Mapping[str, ChannelSettings]
) -> list[NewDelivery]:
    """One delivery per person told and channel that reaches them, keyed so that deciding
    the same message again queues nothing new."""
    subject, body = render(note)
    episode = f"{note.fired_at:.3f}" if note.fired_at is not None else "-"
    when = f"{note.at:.3f}" if note.kind == "repeat" else ""
    out = []
    for role in note.roles:
        for contact in directory.resolve(role, note.labels):
            for name, channel in channels.items():
                to = address(contact, role, channel)
                if to is not None:
                    key = "|".join((note.alert_id, episode, note.kind, when, role, name, to))
                    out.append(NewDelivery(key, name, to, subject, body))
    return out
