"""Local services that answer as the real ones do, errors included: the Telegram Bot API
(sendMessage), the WhatsApp Cloud API, HTTP gateways (WhatsApp, SMS) and a webhook."""

from __future__ import annotations

import html
import re

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
