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
    from prometheus_client import generate_latest

    exposed = generate_latest(daemon.registry).decode()
    assert 'wifimon_notification_delivery_seconds_count{channel="telegram"} 1.0' in exposed
    assert 'wifimon_notifications_queued{channel="telegram",state="pending"} 0.0' in exposed
    daemon.outbox.close()
    await server.close()


def test_a_channel_naming_an_unknown_secret_is_refused(tmp_path: Path) -> None:
    from wifimon import config as config_module

    path = configure(tmp_path, "http://127.0.0.1:9", token_secret="tg_typo")
    with pytest.raises(
        ConfigError, match=r"notifications.channels.telegram.token: unknown secret 'tg_typo'"
    ):
        config_module.load(path, {"WIFIMON_TG_TOKEN": TOKEN})


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    import os
    import sys

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wifimon.cli", *args, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_notify_test_sends_one_message_now_and_reports_refusals(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN)
    server = TestServer(fake.app())
    await server.start_server()
    config = configure(tmp_path, str(server.make_url("")).rstrip("/"))
    env = {"WIFIMON_TG_TOKEN": TOKEN}
    code, out, _ = await run_cli("notify", "test", "--config", str(config), "--channel",
                                 "telegram", "--to", "1001", env=env)  # fmt: skip
    assert code == 0, out
    assert out.startswith("sent over telegram to 1001: UJI wifimon: pesan percobaan")
    assert fake.received[0]["chat_id"] == "1001"
    assert "dapat mengirim peringatan kepada Anda" in fake.received[0]["text"]
    code, _, err = await run_cli("notify", "test", "--config", str(config), "--language", "en",
                                 "--channel", "telegram", "--to", "555", env=env)  # fmt: skip
    assert code == 1
    assert "not sent over telegram to 555: http_400: Bad Request: chat not found" in err
    assert TOKEN not in err
    code, _, err = await run_cli("notify", "test", "--config", str(config), "--channel",
                                 "sms", "--to", "555", env=env)  # fmt: skip
    assert code == 2 and "no channel 'sms' (notifications.channels has: telegram)" in err
    await server.close()


def test_unknown_channels_and_broken_templates_are_refused_at_load(tmp_path: Path) -> None:
    from wifimon import config as config_module

    path = configure(tmp_path, "http://127.0.0.1:9")
    data = yaml.safe_load(path.read_text())
    data["contacts"][0]["channels"] = ["telegram", "wa"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(
        ConfigError,
        match=r"config.yaml:\d+: contacts\[0\] \(Pak Joko\): unknown "
        r"notification channel 'wa' \(notifications.channels has: telegram\)",
    ):
        config_module.load(path, {"WIFIMON_TG_TOKEN": TOKEN})
    data["contacts"][0]["channels"] = ["telegram"]
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "message.id.j2").write_text("{{ summary | nosuchfilter }}\n")
    data["notifications"]["templates_dir"] = "tpl"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"notifications.templates_dir: .*nosuchfilter"):
        config_module.load(path, {"WIFIMON_TG_TOKEN": TOKEN})
