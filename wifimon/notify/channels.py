"""Channels: how one message reaches one recipient. Each raises Retryable (time out, 5xx,
429 with its hint) or Permanent (other 4xx, unknown chat, bad address) when not accepted.
Tokens and passwords are Secrets: they go into the request and nowhere else (not into
errors or logs).
"""

from __future__ import annotations

import hashlib
import html
import json
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

import aiohttp
import aiosmtplib

from wifimon.notify.settings import (
    AlertmanagerSettings,
    ChannelSettings,
    EmailSettings,
    GatewaySettings,
    TelegramSettings,
    WebhookSettings,
    WhatsAppCloudSettings,
)
from wifimon.notify.textfit import fit, sms_fit
from wifimon.secrets import Secret

TELEGRAM_LIMIT = 4096  # characters per message, after entities are parsed
WHATSAPP_LIMIT = 4096  # characters of a text message body
WHATSAPP_PARAMETER_LIMIT = 1024  # characters of one template parameter


@dataclass(frozen=True)
class Message:
    """What a channel sends: `key` identifies it for services that de-duplicate."""

    key: str
    recipient: str
    subject: str
    body: str


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

    async def send(self, session: aiohttp.ClientSession, message: Message) -> None: ...


def idempotency_key(message: Message) -> str:
    """The same for every attempt at one delivery, so a receiver can drop a repeat."""
    return hashlib.sha256(message.key.encode()).hexdigest()[:32]


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
    """Telegram Bot API sendMessage in HTML parse mode: a bold subject, escaped text."""

    name: str
    token: Secret
    base_url: str = "https://api.telegram.org"
    timeout: float = 10.0

    async def send(self, session: aiohttp.ClientSession, message: Message) -> None:
        url = f"{self.base_url.rstrip('/')}/bot{self.token.reveal()}/sendMessage"
        request = {"chat_id": message.recipient, "text": telegram_html(message),
                   "parse_mode": "HTML", "link_preview_options": {"is_disabled": True}}  # fmt: skip
        status, payload, headers = await _post(session, url, self.timeout, json=request)
        payload = payload if isinstance(payload, dict) else {}
        if status == 200 and payload.get("ok") is True:
            return
        description = str(payload.get("description", ""))[:200]
        hint = (payload.get("parameters") or {}).get("retry_after")
        _classify(status if status != 200 else 502, headers, description,
                  float(hint) if isinstance(hint, int | float) else None)  # fmt: skip


def telegram_html(message: Message) -> str:
    """Subject in bold, then the body; escaped for HTML mode and within 4,096 characters
    as Telegram counts them (entities parsed, so `&amp;` is one)."""
    subject = fit(message.subject, 512)
    room = TELEGRAM_LIMIT - len(subject) - 2
    body = fit(message.body, room) if message.body else ""
    text = f"<b>{html.escape(subject, quote=False)}</b>"
    return f"{text}\n\n{html.escape(body, quote=False)}" if body else text


@dataclass
class WhatsAppCloudChannel:
    """WhatsApp Business Cloud API: POST /{phone_number_id}/messages, text or template."""

    name: str
    token: Secret
    phone_number_id: str
    base_url: str = "https://graph.facebook.com/v21.0"
    template: str | None = None
    template_language: str = "id"
    timeout: float = 10.0

    async def send(self, session: aiohttp.ClientSession, message: Message) -> None:
        url = f"{self.base_url.rstrip('/')}/{self.phone_number_id}/messages"
        headers = {"Authorization": f"Bearer {self.token.reveal()}"}
        status, payload, answer_headers = await _post(
            session, url, self.timeout, json=self._request(message), headers=headers)  # fmt: skip
        if 200 <= status < 300 and isinstance(payload, dict) and payload.get("messages"):
            return
        error = (payload or {}).get("error") if isinstance(payload, dict) else None
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        description = f"code {code}: {str(error.get('message', ''))[:160]}"
        if code in WHATSAPP_RETRYABLE or status == 429:
            reason = "rate_limited" if code in WHATSAPP_RATE_LIMITS or status == 429 else "busy"
            raise Retryable(reason, description, _retry_after(answer_headers))
        if code in WHATSAPP_UNREACHABLE:
            raise Permanent("bad_address", description)
        _classify(status if status >= 300 else 502, answer_headers, description)

    def _request(self, message: Message) -> dict[str, Any]:
        base = {"messaging_product": "whatsapp", "recipient_type": "individual",
                "to": message.recipient}  # fmt: skip
        if self.template is None:
            text = f"*{message.subject}*\n\n{message.body}" if message.body else message.subject
            return {**base, "type": "text",
                    "text": {"preview_url": False, "body": fit(text, WHATSAPP_LIMIT)}}  # fmt: skip
        # template parameters may hold no newlines, tabs or runs of spaces
        flat = " · ".join(" ".join(part.split()) for part in (message.subject, message.body)
                          if part)  # fmt: skip
        parameter = {"type": "text", "text": fit(flat, WHATSAPP_PARAMETER_LIMIT)}
        return {**base, "type": "template", "template": {
            "name": self.template, "language": {"code": self.template_language},
            "components": [{"type": "body", "parameters": [parameter]}]}}  # fmt: skip


# Cloud API error codes (Graph API `error.code`) that are worth another try later
WHATSAPP_RATE_LIMITS = frozenset({4, 80007, 130429, 131048, 131056})
WHATSAPP_RETRYABLE = WHATSAPP_RATE_LIMITS | {1, 2, 131000, 131016, 133004}
WHATSAPP_UNREACHABLE = frozenset({131026, 131030, 131045, 131047})


@dataclass
class GatewayChannel:
    """A local WhatsApp or SMS gateway: one form or JSON POST per message."""

    name: str
    spec: GatewaySettings
    token: Secret | None = None
    timeout: float = 10.0

    async def send(self, session: aiohttp.ClientSession, message: Message) -> None:
        text = message.subject if not message.body else f"{message.subject}\n{message.body}"
        if self.spec.type == "sms_gateway":
            text = sms_fit(text, self.spec.max_segments)
        fields = {**self.spec.extra_fields, self.spec.to_field: message.recipient,
                  self.spec.text_field: text}  # fmt: skip
        headers = {"Idempotency-Key": idempotency_key(message)}
        if self.token is not None:
            scheme = f"{self.spec.auth_scheme} " if self.spec.auth_scheme else ""
            headers[self.spec.auth_header] = scheme + self.token.reveal()
        body: dict[str, Any] = (
            {"json": fields} if self.spec.encoding == "json" else {"data": fields}
        )
        status, payload, answer_headers = await _post(
            session, self.spec.url, self.timeout, headers=headers, **body)  # fmt: skip
        detail = _gateway_detail(payload)
        _classify(status, answer_headers, detail)
        if self.spec.ok_field and not (isinstance(payload, dict)
                                       and payload.get(self.spec.ok_field)):  # fmt: skip
            raise Permanent("refused", detail or f"no true {self.spec.ok_field!r} in the answer")


def _gateway_detail(payload: Any) -> str:
    if isinstance(payload, dict):
        for name in ("reason", "message", "error", "detail", "description"):
            if payload.get(name):
                return str(payload[name])[:200]
    return ""


@dataclass
class EmailChannel:
    """E-mail over SMTP (STARTTLS, TLS or plain), with a plain-text part and an HTML one."""

    name: str
    spec: EmailSettings
    password: Secret | None = None
    timeout: float = 10.0

    async def send(self, session: aiohttp.ClientSession, message: Message) -> None:
        try:
            await aiosmtplib.send(
                email_message(message, self.spec.sender),
                hostname=self.spec.host,
                port=self.spec.port,
                use_tls=self.spec.security == "tls",
                start_tls=self.spec.security == "starttls",
                username=self.spec.username,
                password=self.password.reveal() if self.password else None,
                tls_context=self._tls(),
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise Permanent("bad_address", _smtp_reasons(exc.recipients)) from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise Permanent("auth", f"{exc.code} {exc.message}"[:200]) from None
        except aiosmtplib.SMTPResponseException as exc:
            detail = f"{exc.code} {exc.message}"[:200]
            if 400 <= exc.code < 500:
                raise Retryable("smtp_4xx", detail) from None
            raise Permanent(f"smtp_{exc.code}", detail) from None
        except aiosmtplib.SMTPTimeoutError:
            raise Retryable("timeout", f"no answer within {self.timeout:g} s") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise Retryable("connection", type(exc).__name__) from None

    def _tls(self) -> ssl.SSLContext | None:
        if self.spec.security == "none":
            return None
        return ssl.create_default_context(cafile=self.spec.ca_file)


def email_message(message: Message, sender: str) -> EmailMessage:
    """A proper mail: Subject (encoded as needed), Date, Message-ID, text and HTML parts."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = " ".join(message.subject.split())[:250]
    mail["Date"] = formatdate(localtime=False)
    domain = sender.rsplit("@", 1)[-1].rstrip(">")
    mail["Message-ID"] = make_msgid(idstring=idempotency_key(message)[:16], domain=domain)
    mail.set_content(message.body or message.subject, charset="utf-8")
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in message.body.splitlines()
                         if line.strip())  # fmt: skip
    mail.add_alternative(
        f"<!doctype html><html><body><h3>{html.escape(message.subject)}</h3>{paragraphs}"
        "</body></html>", subtype="html", charset="utf-8")  # fmt: skip
    return mail


def _smtp_reasons(recipients: list[Any]) -> str:
    return "; ".join(f"{getattr(r, 'code', '')} {getattr(r, 'message', r)}" for r in recipients
                     )[:200]  # fmt: skip


@dataclass
class WebhookChannel:
    """A generic JSON webhook: POST {recipient, subject, body, key} to one URL."""

    name: str
    url: str
    timeout: float = 10.0

    async def send(self, session: aiohttp.ClientSession, message: Message) -> None:
        key = idempotency_key(message)
        status, payload, headers = await _post(
            session, self.url, self.timeout, headers={"Idempotency-Key": key},
            json={"recipient": message.recipient, "subject": message.subject,
                  "body": message.body, "key": key})  # fmt: skip
        _classify(status, headers, str(payload)[:200] if payload else "")


@dataclass
class AlertmanagerChannel:
    """POST the alert (the message body, JSON) to /api/v2/alerts of every Alertmanager.

    Alertmanager de-duplicates by labels, so sending again is harmless; any refusal makes
    the whole delivery try again.
    """

    name: str
    urls: tuple[str, ...]
    timeout: float = 10.0

    async def send(self, session: aiohttp.ClientSession, message: Message) -> None:
        await self.post(session, [json.loads(message.body)])

    async def post(self, session: aiohttp.ClientSession, alerts: list[dict[str, Any]]) -> None:
        for url in self.urls:
            status, payload, headers = await _post(
                session, f"{url.rstrip('/')}/api/v2/alerts", self.timeout, json=alerts
            )
            _classify(status, headers, str(payload)[:200] if payload else "")


def make_channel(
    name: str, spec: ChannelSettings, secrets: dict[str, Secret], timeout: float
) -> Channel:
    """The channel object for one `notifications.channels` entry."""
    if isinstance(spec, TelegramSettings):
        return TelegramChannel(name, secrets[spec.token], spec.base_url, timeout)
    if isinstance(spec, WhatsAppCloudSettings):
        return WhatsAppCloudChannel(name, secrets[spec.token], spec.phone_number_id,
                                    spec.base_url, spec.template, spec.template_language,
                                    timeout)  # fmt: skip
    if isinstance(spec, GatewaySettings):
        return GatewayChannel(name, spec, secrets[spec.token] if spec.token else None, timeout)
    if isinstance(spec, EmailSettings):
        return EmailChannel(name, spec, secrets[spec.password] if spec.password else None,
                            timeout)  # fmt: skip
    if isinstance(spec, AlertmanagerSettings):
        return AlertmanagerChannel(name, tuple(spec.urls), timeout)
    assert isinstance(spec, WebhookSettings)
    return WebhookChannel(name, spec.url, timeout)
