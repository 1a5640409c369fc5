"""`notifications:` in the config: named channels and how hard to retry."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from wifimon.notify.channels import Channel, TelegramChannel, WebhookChannel
from wifimon.secrets import Secret


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TelegramSettings(_Strict):
    type: Literal["telegram"]
    token: str = Field(min_length=1)  # the name of a secret holding the bot token
    base_url: str = Field(default="https://api.telegram.org", pattern=r"^https?://\S+$")


class WebhookSettings(_Strict):
    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://\S+$")


ChannelSettings = Annotated[TelegramSettings | WebhookSettings, Field(discriminator="type")]


class NotificationSettings(_Strict):
    channels: dict[str, ChannelSettings] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    backoff_base_seconds: float = Field(default=5.0, gt=0, le=3600)
    backoff_max_seconds: float = Field(default=900.0, gt=0, le=86_400)
    max_attempts: int = Field(default=12, ge=1, le=100)


def build_channels(
    settings: NotificationSettings, secrets: dict[str, Secret]
) -> dict[str, Channel]:
    """Channel objects by name (secret names were checked when the config loaded)."""
    channels: dict[str, Channel] = {}
    for name, spec in settings.channels.items():
        if isinstance(spec, TelegramSettings):
            channels[name] = TelegramChannel(name, secrets[spec.token], spec.base_url,
                                             settings.timeout_seconds)  # fmt: skip
        else:
            channels[name] = WebhookChannel(name, spec.url, settings.timeout_seconds)
    return channels
