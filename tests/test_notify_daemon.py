"""The daemon queues what the routing decides and delivers it to a (local) Telegram API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestServer

from tests.notify_fakes import FakeTelegram
from wifimon.daemon import Daemon
from wifimon.demo.fleet import write_fleet
from wifimon.errors import ConfigError
from wifimon.measurements import ApSample

TOKEN = "987654:token-bot-kota"


def configure(tmp_path: Path, base_url: str, token_secret: str = "telegram_bot") -> Path:
    config = write_fleet(tmp_path, 9, "127.0.0.1:9", 60.0)
    data = yaml.safe_load(config.read_text())
    data["secrets"] = {**data.get("secrets", {}), "telegram_bot": {"env": "WIFIMON_TG_TOKEN"}}
    data["notifications"] = {"channels": {"telegram": {
        "type": "telegram", "token": token_secret, "base_url": base_url}}}  # fmt: skip
    data["contacts"] = [{"role": "rw_admin", "name": "Pak Joko", "kelurahan": "Galur",
                         "telegram_chat_id": "1002"}]  # fmt: skip
    config.write_text(yaml.safe_dump(data))
    return config


async def test_a_titik_down_reaches_the_rw_admin_on_telegram_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIFIMON_TG_TOKEN", TOKEN)
    fake = FakeTelegram(TOKEN)
    server = TestServer(fake.app())
    await server.start_server()
    daemon = Daemon(configure(tmp_path, str(server.make_url("")).rstrip("/")))
    assert daemon.engine is not None
    for at in (0.0, 1.0):
        daemon.state.record(ApSample(ap_id="jp-glr-02-a", timestamp=at, reachable=False))
    daemon._evaluate_and_save(daemon.engine, 10.0)
    daemon._evaluate_and_save(daemon.engine, 400.0)  # fires: the RW admin is told
    daemon._evaluate_and_save(daemon.engine, 415.0)  # nothing new
    sender = asyncio.create_task(daemon._send_notifications())
    for _ in range(100):
        if fake.received:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    daemon._stopping.set()
    await sender
    (message,) = fake.received
    assert message["chat_id"] == "1002"
    lines = message["text"].splitlines()
    assert lines[0] == (
        "<b>PERINGATAN: Titik jp-glr-02 (RW 06, Kel. Galur) mati: tidak ada access point yang "
        "menjawab</b>"
    )
    assert "Kode peringatan: TitikMati:jp-glr-02" in message["text"]
    sent = daemon.self_metrics.notifications.labels("telegram", "sent", "")._value.get()
    assert sent == 1
    daemon.outbox.close()
    await server.close()


def test_a_channel_naming_an_unknown_secret_is_refused(tmp_path: Path) -> None:
    from wifimon import config as config_module

    path = configure(tmp_path, "http://127.0.0.1:9", token_secret="tg_typo")
    with pytest.raises(
        ConfigError, match=r"notifications.channels.telegram.token: unknown secret 'tg_typo'"
    ):
        config_module.load(path, {"WIFIMON_TG_TOKEN": TOKEN})
