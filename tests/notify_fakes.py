"""A local Telegram Bot API (sendMessage) that answers as the real one does, errors included."""

from __future__ import annotations

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
        if len(body.get("text", "")) > 4096:
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
