"""Local services that answer as the real ones do, errors included: the Telegram Bot API
(sendMessage), the WhatsApp Cloud API, HTTP gateways (WhatsApp, SMS) and a webhook."""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Script = Callable[[dict[str, Any]], tuple[int, dict[str, Any]] | None]


@dataclass
class FakeTelegram:
    token: str
    received: list[dict[str, Any]] = field(default_factory=list)
    script: list[Script] = field(default_factory=list)  # one per request, then plain success
    known_chats: set[str] = field(default_factory=lambda: {"1001", "1002", "-4001"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/sendMessage", self.send_message)
        return app

    async def send_message(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)  # fmt: skip
        body = await request.json()
        if self.script:
            answer = self.script.pop(0)(body)
            if answer is not None:
                status, payload = answer
                return web.json_response(payload, status=status)
        if str(body.get("chat_id")) not in self.known_chats:
            return refuse(400, "Bad Request: chat not found")
        text = body.get("text", "")
        if body.get("parse_mode") == "HTML":
            problem = html_problem(text)
            if problem:
                return refuse(400, f"Bad Request: can't parse entities: {problem}")
            text = visible_text(text)
        if len(text) > 4096:
            return refuse(400, "Bad Request: message is too long")
        self.received.append(body)
        return web.json_response({"ok": True, "result": {"message_id": len(self.received),
                                                         "chat": {"id": body["chat_id"]},
                                                         "text": body["text"]}})  # fmt: skip


def refuse(status: int, description: str) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description}
    return web.json_response(body, status=status)


def too_many(retry_after: int) -> Script:
    return lambda _body: (429, {"ok": False, "error_code": 429,
                                "description": f"Too Many Requests: retry after {retry_after}",
                                "parameters": {"retry_after": retry_after}})  # fmt: skip


def server_error(_body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}


TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                 "tg-spoiler", "blockquote", "span"}  # fmt: skip


def html_problem(text: str) -> str | None:
    """What Telegram's HTML parse mode would refuse: unknown tags, unbalanced tags, a bare
    `&` or `<`."""
    open_tags: list[str] = []
    for match in re.finditer(r"<(/?)([a-z-]+)[^>]*>|<|&(#?\w+;)?", text):
        whole, closing, tag = match.group(0), match.group(1), match.group(2)
        if whole == "<":
            return f"unsupported start tag at byte offset {match.start()}"
        if whole.startswith("&"):
            if not match.group(3):
                return f"bare & at byte offset {match.start()}"
            continue
        if tag not in TELEGRAM_TAGS:
            return f'unsupported start tag "{tag}"'
        if closing:
            if not open_tags or open_tags.pop() != tag:
                return f'unexpected end tag "{tag}"'
        else:
            open_tags.append(tag)
    return f'unclosed tag "{open_tags[-1]}"' if open_tags else None


def visible_text(text: str) -> str:
    """The text as Telegram counts it: tags removed, entities as one character."""
    return html.unescape(re.sub(r"</?[a-z-]+[^>]*>", "", text))


@dataclass
class FakeWhatsAppCloud:
    """POST /{phone_number_id}/messages as the Cloud API answers it (Graph API errors)."""

    token: str
    phone_number_id: str = "106540352242922"
    received: list[dict[str, Any]] = field(default_factory=list)
    script: list[Script] = field(default_factory=list)
    known_numbers: set[str] = field(default_factory=lambda: {"6281234567890", "6285600011122"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v21.0/{phone_id}/messages", self.messages)
        return app

    async def messages(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return graph_error(401, 190, "OAuthException",
                               "Error validating access token: Session has expired")  # fmt: skip
        if request.match_info["phone_id"] != self.phone_number_id:
            return graph_error(400, 100, "GraphMethodException",
                               "Unsupported post request. Object does not exist")  # fmt: skip
        body = await request.json()
        if self.script:
            answer = self.script.pop(0)(body)
            if answer is not None:
                return web.json_response(answer[1], status=answer[0])
        if body.get("messaging_product") != "whatsapp" or "to" not in body:
            return graph_error(400, 131008, "OAuthException", "Required parameter is missing")
        if body.get("type") == "text" and len(body["text"]["body"]) > 4096:
            return graph_error(
                400,
                100,
                "OAuthException",
                "(#100) Param text['body'] must be at most 4096 characters long.",
            )
        if body["to"] not in self.known_numbers:
            return graph_error(
                400,
                131030,
                "OAuthException",
                "(#131030) Recipient phone number not in allowed list",
            )
        self.received.append(body)
        return web.json_response({"messaging_product": "whatsapp",
                                  "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                                  "messages": [{"id": f"wamid.{len(self.received)}"}]})  # fmt: skip


def graph_error(status: int, code: int, kind: str, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind, "code": code,
                                        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"}},
                             status=status)  # fmt: skip


def graph_rate_limited(_body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 400, {"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException",
                           "code": 130429, "fbtrace_id": "x"}}  # fmt: skip


@dataclass
class FakeGateway:
    """A local WhatsApp/SMS gateway: form or JSON fields, a token header, and answers like
    {"status": true, "id": ...} or 200 {"status": false, "reason": ...}. Drops repeats of
    one Idempotency-Key, as a careful receiver would, but counts every request."""

    token: str | None = None
    to_field: str = "target"
    text_field: str = "message"
    delay: float = 0.0
    received: list[dict[str, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # idempotency keys, repeats included
    accepted_at: dict[str, float] = field(default_factory=dict)
    script: list[Script] = field(default_factory=list)
    valid_numbers: re.Pattern[str] = re.compile(r"^62\d{8,13}$")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/send", self.send)
        return app

    async def send(self, request: web.Request) -> web.Response:
        if self.token is not None and request.headers.get("Authorization") != self.token:
            return web.json_response({"status": False, "reason": "invalid token"}, status=401)
        if request.content_type == "application/json":
            fields = {k: str(v) for k, v in (await request.json()).items()}
        else:
            fields = {k: str(v) for k, v in (await request.post()).items()}
        if self.delay:
            await asyncio.sleep(self.delay)
        key = request.headers.get("Idempotency-Key", "")
        self.requests.append(key)
        if self.script:
            answer = self.script.pop(0)(fields)
            if answer is not None:
                return web.json_response(answer[1], status=answer[0])
        if not self.valid_numbers.match(fields.get(self.to_field, "")):
            return web.json_response({"status": False, "reason": "invalid target number"})
        if key not in self.accepted_at:
            self.received.append(fields)
            self.accepted_at[key] = time.time()
        return web.json_response({"status": True, "id": [len(self.received)]})
