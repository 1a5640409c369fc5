"""Channels: how one message reaches one recipient over HTTP. Each raises Retryable (time
out, 5xx, 429 with its hint) or Permanent (other 4xx, unknown chat) when not accepted.
Tokens are Secrets: they go into the request and nowhere else (not into errors or logs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from wifimon.secrets import Secret

TELEGRAM_LIMIT = 4096  # characters per message


class DeliveryError(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason  # a short word for metrics: timeout, http_5xx, rate_limited, ...


class Retryable(DeliveryError):
    def __init__(self, reason: str, detail: str = "", after: float | None = None) -> None:
        super().__init__(reason, detail)
        self.after = after  # the service's own hint (Retry-After, retry_after), seconds


class Permanent(DeliveryError):
    pass


class Channel(Protocol):
    name: str

    async def send(self, session: aiohttp.ClientSession, recipient: str, subject: str,
                   body: str) -> None: ...  # fmt: skip


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


async def _post(session: aiohttp.ClientSession, url: str, timeout: float, **kwargs: Any
                ) -> tuple[int, Any, Any]:  # fmt: skip
    """POST and read a JSON (or text) answer; network trouble is Retryable."""
    try:
        async with session.post(url, timeout=aiohttp.ClientTimeout(total=timeout),
                                **kwargs) as response:  # fmt: skip
            try:
                payload = await response.json(content_type=None)
            except ValueError:
                payload = None
            return response.status, payload, response.headers
    except TimeoutError:
        raise Retryable("timeout", f"no answer within {timeout:g} s") from None
    except aiohttp.ClientError as exc:
        raise Retryable("connection", type(exc).__name__) from None


def _classify(status: int, headers: Any, description: str, after: float | None = None) -> None:
    if 200 <= status < 300:
        return
    if status == 429:
        raise Retryable("rate_limited", description, after or _retry_after(headers))
    if status >= 500 or status == 408:
        raise Retryable(f"http_{status // 100}xx", description, _retry_after(headers))
    raise Permanent(f"http_{status}", description)


@dataclass
class TelegramChannel:
    """Telegram Bot API sendMessage (plain text, no parse mode: nothing to escape)."""

    name: str
    token: Secret
    base_url: str = "https://api.telegram.org"
    timeout: float = 10.0

    async def send(self, session: aiohttp.ClientSession, recipient: str, subject: str,
                   body: str) -> None:  # fmt: skip
        text = f"{subject}\n\n{body}".strip() if body else subject
        if len(text) > TELEGRAM_LIMIT:
            text = text[: TELEGRAM_LIMIT - 1] + "…"
        url = f"{self.base_url.rstrip('/')}/bot{self.token.reveal()}/sendMessage"
        status, payload, headers = await _post(
            session, url, self.timeout, json={"chat_id": recipient, "text": text})  # fmt: skip
        payload = payload if isinstance(payload, dict) else {}
        if status == 200 and payload.get("ok") is True:
            return
        description = str(payload.get("description", ""))[:200]
        hint = (payload.get("parameters") or {}).get("retry_after")
        _classify(status if status != 200 else 502, headers, description,
                  float(hint) if isinstance(hint, int | float) else None)  # fmt: skip


@dataclass
class WebhookChannel:
    """A generic JSON webhook: POST {recipient, subject, body} to one URL."""

    name: str
    url: str
    timeout: float = 10.0

    async def send(self, session: aiohttp.ClientSession, recipient: str, subject: str,
                   body: str) -> None:  # fmt: skip
        status, payload, headers = await _post(
            session, self.url, self.timeout,
            json={"recipient": recipient, "subject": subject, "body": body})  # fmt: skip
        _classify(status, headers, str(payload)[:200] if payload else "")
