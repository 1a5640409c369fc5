"""Each channel against a local service that speaks its documented protocol, errors too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.notify_fakes import (
    FakeGateway,
    FakeTelegram,
    FakeWhatsAppCloud,
    graph_rate_limited,
    visible_text,
)
from wifimon.notify.channels import (
    GatewayChannel,
    Message,
    Permanent,
    Retryable,
    TelegramChannel,
    WebhookChannel,
    WhatsAppCloudChannel,
    idempotency_key,
)
from wifimon.notify.settings import GatewaySettings
from wifimon.notify.textfit import sms_encoding, sms_segments
from wifimon.secrets import Secret

WA_TOKEN = "EAAG-rahasia-whatsapp"
TG_TOKEN = "123456:rahasia-bot"
SUBJECT = "PERINGATAN: Titik jp-glr-01 (RW 05, Kel. Galur) mati"
BODY = "Sejak 12 Nov 2026 10:00 WIB.\nYang bisa dicoba: periksa listrik & router <lantai 2>."


async def serve(app: web.Application) -> tuple[TestServer, str]:
    server = TestServer(app)
    await server.start_server()
    return server, str(server.make_url("")).rstrip("/")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def message(to: str, subject: str = SUBJECT, body: str = BODY) -> Message:
    return Message(f"TitikMati:jp-glr-01|1|firing|rw_admin|{to}", to, subject, body)


async def test_telegram_escapes_for_html_and_fits_4096_visible_characters(
    session: aiohttp.ClientSession,
) -> None:
    fake = FakeTelegram(TG_TOKEN)
    server, url = await serve(fake.app())
    channel = TelegramChannel("telegram", Secret(TG_TOKEN), url)
    await channel.send(session, message("1001"))
    shown = visible_text(fake.received[0]["text"])
    assert shown == f"{SUBJECT}\n\n{BODY}"  # `&` and `<lantai 2>` arrive as written
    members = ", ".join(f"jp-glr-{i:03d}" for i in range(900))  # a huge grouped alert
    await channel.send(session, message("1001", "PERINGATAN: 900 titik mati", members))
    long = visible_text(fake.received[1]["text"])
    assert 4000 < len(long) <= 4096 and long.endswith("…")
    await server.close()


async def test_whatsapp_cloud_text_template_and_errors(session: aiohttp.ClientSession) -> None:
    fake = FakeWhatsAppCloud(WA_TOKEN, script=[graph_rate_limited])
    server, url = await serve(fake.app())
    channel = WhatsAppCloudChannel("wa", Secret(WA_TOKEN), fake.phone_number_id, f"{url}/v21.0")
    with pytest.raises(Retryable) as limited:
        await channel.send(session, message("6281234567890"))
    assert limited.value.reason == "rate_limited"
    await channel.send(session, message("6281234567890"))
    sent = fake.received[0]
    assert sent["type"] == "text" and sent["to"] == "6281234567890"
    assert sent["text"]["body"] == f"*{SUBJECT}*\n\n{BODY}"
    await channel.send(session, message("6281234567890", body="x " * 4000))  # cut, not refused
    assert len(fake.received[1]["text"]["body"]) <= 4096
    with pytest.raises(Permanent) as unknown:
        await channel.send(session, message("6289999999999"))
    assert unknown.value.reason == "bad_address" and "131030" in str(unknown.value)
    template = WhatsAppCloudChannel("wa", Secret(WA_TOKEN), fake.phone_number_id,
                                    f"{url}/v21.0", template="peringatan_wifi")  # fmt: skip
    await template.send(session, message("6285600011122"))
    sent = fake.received[-1]["template"]
    assert sent["name"] == "peringatan_wifi" and sent["language"] == {"code": "id"}
    (parameter,) = sent["components"][0]["parameters"]
    assert "\n" not in parameter["text"] and parameter["text"].startswith(SUBJECT + " · ")
    expired = WhatsAppCloudChannel("wa", Secret("EAAG-old"), fake.phone_number_id,
                                   f"{url}/v21.0")  # fmt: skip
    with pytest.raises(Permanent) as denied:
        await expired.send(session, message("6281234567890"))
    assert denied.value.reason == "http_401" and "EAAG" not in str(denied.value)
    await server.close()


async def test_a_slow_service_is_a_timeout_to_retry(session: aiohttp.ClientSession) -> None:
    fake = FakeGateway(delay=2.0)
    server, url = await serve(fake.app())
    spec = GatewaySettings(type="whatsapp_gateway", url=f"{url}/send", to_field="target")
    channel = GatewayChannel("wa-lokal", spec, timeout=0.3)
    with pytest.raises(Retryable) as slow:
        await channel.send(session, message("6281234567890"))
    assert slow.value.reason == "timeout"
    await server.close()


async def test_whatsapp_gateway_form_fields_token_and_refusals(
    session: aiohttp.ClientSession,
) -> None:
    def busy(_fields: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 503, {"status": False, "reason": "device offline"}

    fake = FakeGateway(token="tok-gateway", script=[busy])
    server, url = await serve(fake.app())
    spec = GatewaySettings(type="whatsapp_gateway", url=f"{url}/send", token="gw",
                           encoding="form", to_field="target", text_field="message",
                           extra_fields={"countryCode": "62"}, ok_field="status")  # fmt: skip
    channel = GatewayChannel("wa-lokal", spec, Secret("tok-gateway"))
    with pytest.raises(Retryable) as offline:
        await channel.send(session, message("6281234567890"))
    assert offline.value.reason == "http_5xx" and "device offline" in str(offline.value)
    await channel.send(session, message("6281234567890"))
    (fields,) = fake.received
    assert fields == {"countryCode": "62", "target": "6281234567890",
                      "message": f"{SUBJECT}\n{BODY}"}  # fmt: skip
    with pytest.raises(Permanent) as refused:  # 200 with {"status": false}
        await channel.send(session, message("12345"))
    assert refused.value.reason == "refused" and "invalid target number" in str(refused.value)
    await server.close()


async def test_sms_gateway_fits_the_segments_allowed(session: aiohttp.ClientSession) -> None:
    fake = FakeGateway(to_field="to", text_field="text")
    server, url = await serve(fake.app())
    spec = GatewaySettings(type="sms_gateway", url=f"{url}/send", to_field="to",
                           text_field="text", max_segments=2)  # fmt: skip
    channel = GatewayChannel("sms", spec)
    await channel.send(session, message("6281234567890", body="panjang sekali " * 40))
    text = fake.received[0]["text"]
    assert sms_encoding(text) == "gsm" and sms_segments(text) <= 2 and text.endswith("...")
    await channel.send(session, Message("other", "6281234567890", "Titik mati ☎", "singkat"))
    assert sms_encoding(fake.received[1]["text"]) == "ucs2"  # a non-GSM character stays
    await server.close()


async def test_webhook_sends_the_same_idempotency_key_on_every_attempt(
    session: aiohttp.ClientSession,
) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        seen.append((request.headers["Idempotency-Key"], await request.json()))
        return web.json_response({}, status=500 if len(seen) == 1 else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    server, url = await serve(app)
    channel = WebhookChannel("hook", f"{url}/hook")
    note = message("NOC")
    with pytest.raises(Retryable):
        await channel.send(session, note)
    await channel.send(session, note)
    assert seen[0][0] == seen[1][0] == idempotency_key(note)
    assert seen[1][1] == {"recipient": "NOC", "subject": SUBJECT, "body": BODY,
                          "key": idempotency_key(note)}  # fmt: skip
    await server.close()


async def test_a_dead_service_is_a_connection_error_to_retry(
    session: aiohttp.ClientSession,
) -> None:
    server, url = await serve(web.Application())
    await server.close()
    with pytest.raises(Retryable) as gone:
        await WebhookChannel("hook", f"{url}/hook", timeout=2.0).send(session, message("x"))
    assert gone.value.reason == "connection"
    await asyncio.sleep(0)


async def test_gateway_429_hint_and_a_message_the_service_calls_too_long(
    session: aiohttp.ClientSession,
) -> None:
    async def limited(request: web.Request) -> web.Response:
        return web.json_response({"status": False, "reason": "quota"}, status=429,
                                 headers={"Retry-After": "120"})  # fmt: skip

    app = web.Application()
    app.router.add_post("/send", limited)
    server, url = await serve(app)
    spec = GatewaySettings(type="sms_gateway", url=f"{url}/send")
    with pytest.raises(Retryable) as slow_down:
        await GatewayChannel("sms", spec).send(session, message("6281234567890"))
    assert (slow_down.value.reason, slow_down.value.after) == ("rate_limited", 120.0)
    await server.close()

    def too_long(_body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 400, {"ok": False, "error_code": 400,
                     "description": "Bad Request: message is too long"}  # fmt: skip

    fake = FakeTelegram(TG_TOKEN, script=[too_long])
    server, url = await serve(fake.app())
    with pytest.raises(Permanent) as refused:
        await TelegramChannel("telegram", Secret(TG_TOKEN), url).send(session, message("1001"))
    assert str(refused.value) == "http_400: Bad Request: message is too long"
    await server.close()
