"""`notifications:` in the config: named channels, people-first policies, how hard to retry."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from wifimon.inventory import QUIET_HOURS, Contact
from wifimon.secrets import Secret

URL = r"^https?://\S+$"
DURATION = r"^\d+(\.\d+)?[smhd]$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TelegramSettings(_Strict):
    """Telegram Bot API: the contact's `telegram_chat_id`."""

    type: Literal["telegram"]
    token: str = Field(min_length=1)  # the name of a secret holding the bot token
    base_url: str = Field(default="https://api.telegram.org", pattern=URL)


class WhatsAppCloudSettings(_Strict):
    """WhatsApp Business Cloud API: the contact's `whatsapp` (else `phone`) number.

    Outside the 24-hour window WhatsApp only delivers approved templates: with `template`
    set, the message goes as that template with the text as its one body parameter.
    """

    type: Literal["whatsapp_cloud"]
    token: str = Field(min_length=1)  # secret name: the access token
    phone_number_id: str = Field(pattern=r"^[0-9]{5,20}$")
    base_url: str = Field(default="https://graph.facebook.com/v21.0", pattern=URL)
    template: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,512}$")
    template_language: str = Field(default="id", pattern=r"^[a-z]{2}(_[A-Z]{2})?$")


class GatewaySettings(_Strict):
    """A generic HTTP gateway (local WhatsApp gateways, SMS gateways): one POST per message.

    `fields` names the form or JSON fields for the number and the text; `ok_field` names a
    field of the answer that must be true (gateways that answer 200 with {"status": false}).
    """

    type: Literal["whatsapp_gateway", "sms_gateway"]
    url: str = Field(pattern=URL)
    token: str | None = None  # secret name, sent in `auth_header`
    auth_header: str = Field(default="Authorization", pattern=r"^[A-Za-z0-9-]{1,64}$")
    auth_scheme: str = Field(default="", pattern=r"^[A-Za-z]{0,16}$")  # e.g. Bearer
    encoding: Literal["json", "form"] = "json"
    to_field: str = Field(default="to", min_length=1)
    text_field: str = Field(default="message", min_length=1)
    extra_fields: dict[str, str] = Field(default_factory=dict)
    ok_field: str | None = None
    max_segments: int = Field(default=3, ge=1, le=10)  # sms_gateway: longest message sent


class EmailSettings(_Strict):
    """E-mail over SMTP: the contact's `email`."""

    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: str | None = None  # secret name
    sender: str = Field(pattern=r"^([^<>]*<)?[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+>?$")
    ca_file: str | None = None  # trust this CA (a city's own mail server)


class WebhookSettings(_Strict):
    """A generic JSON webhook: {recipient, subject, body, key} to one URL, for anyone."""

    type: Literal["webhook"]
    url: str = Field(pattern=URL)


class AlertmanagerSettings(_Strict):
    """Alertmanager's /api/v2/alerts, for contacts (usually the NOC) that list this channel."""

    type: Literal["alertmanager"]
    urls: list[str] = Field(min_length=1)
    resend_every: str = Field(default="1m", pattern=DURATION)  # firing alerts sent again

    @field_validator("urls")
    @classmethod
    def _urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not re.fullmatch(URL, url):
                raise ValueError(f"not an http(s) URL: {url!r}")
        return urls


ChannelSettings = Annotated[
    TelegramSettings | WhatsAppCloudSettings | GatewaySettings | EmailSettings
    | WebhookSettings | AlertmanagerSettings,
    Field(discriminator="type"),
]  # fmt: skip


class RateLimit(_Strict):
    """At most `messages` per recipient and channel in `per`; the rest become one digest."""

    messages: int = Field(ge=1, le=1000)
    per: str = Field(pattern=DURATION)


class NotificationSettings(_Strict):
    channels: dict[str, ChannelSettings] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    backoff_base_seconds: float = Field(default=5.0, gt=0, le=3600)
    backoff_max_seconds: float = Field(default=900.0, gt=0, le=86_400)
    max_attempts: int = Field(default=12, ge=1, le=100)
    quiet_hours: dict[str, str] = Field(default_factory=dict)  # role -> "21:00-06:00" WIB
    rate_limit: RateLimit | None = None
    grafana_url: str | None = Field(default=None, pattern=URL)  # links in the NOC's messages
    templates_dir: str | None = None  # own message templates, over the shipped ones

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, hours: dict[str, str]) -> dict[str, str]:
        for role, span in hours.items():
            if not re.fullmatch(QUIET_HOURS, span):
                raise ValueError(f"quiet_hours.{role}: {span!r} is not HH:MM-HH:MM")
        return hours


def address(contact: Contact, name: str, channel: ChannelSettings) -> str | None:
    """Where channel `name` reaches this contact, None when it cannot (or is not theirs)."""
    if contact.channels is not None and name not in contact.channels:
        return None
    if isinstance(channel, TelegramSettings):
        return contact.telegram_chat_id
    if isinstance(channel, WhatsAppCloudSettings):
        return _digits(contact.whatsapp or contact.phone)
    if isinstance(channel, GatewaySettings):
        number = contact.whatsapp if channel.type == "whatsapp_gateway" else None
        return _digits(number or contact.phone)
    if isinstance(channel, EmailSettings):
        return contact.email
    if isinstance(channel, AlertmanagerSettings):
        return contact.name if contact.channels is not None else None  # only when listed
    return f"{contact.name} ({contact.role})"


def _digits(number: str | None) -> str | None:
    """+62 812-3456-7890 -> 6281234567890 (what the WhatsApp and SMS APIs take)."""
    if not number:
        return None
    digits = re.sub(r"\D", "", number)
    return "62" + digits[1:] if digits.startswith("0") else digits


def build_secret_names(settings: NotificationSettings) -> list[tuple[str, str, str]]:
    """(channel, field, secret name) for every secret a channel needs."""
    out = []
    for name, spec in settings.channels.items():
        for field in ("token", "password"):
            ref = getattr(spec, field, None)
            if ref:
                out.append((name, field, ref))
    return out


def build_channels(settings: NotificationSettings, secrets: dict[str, Secret]) -> dict:
    """Channel objects by name (secret names were checked when the config loaded)."""
    from wifimon.notify.channels import make_channel

    return {name: make_channel(name, spec, secrets, settings.timeout_seconds)
            for name, spec in settings.channels.items()}  # fmt: skip
