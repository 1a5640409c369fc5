"""Outbox and sender against a local Telegram Bot API: retries, hints, permanent failures."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from tests.notify_fakes import FakeTelegram, server_error, too_many
from wifimon.notify.channels import TelegramChannel
from wifimon.notify.outbox import Limit, NewDelivery, Outbox
from wifimon.notify.sender import Backoff, Sender
from wifimon.secrets import Secret

TOKEN = "123456:rahasia-bot-token"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def setup(tmp_path: Path, fake: FakeTelegram):  # type: ignore[no-untyped-def]
    server = TestServer(fake.app())
    await server.start_server()
    channel = TelegramChannel("telegram", Secret(TOKEN), str(server.make_url("")).rstrip("/"),
                              timeout=5.0)  # fmt: skip
    clock = Clock()
    outbox = Outbox(tmp_path)
    results: list[tuple[int, str, str | None]] = []
    sender = Sender(outbox, {"telegram": channel}, Backoff(5.0, 300.0, 4), clock=clock,
                    on_result=lambda d, r, why: results.append((d.id, r, why)))  # fmt: skip
    return server, outbox, sender, clock, results


def message(key: str, chat: str = "1001") -> NewDelivery:
    return NewDelivery(key, "telegram", chat, "PERINGATAN: Titik jp-glr-01 mati", "Sejak 10:00 WIB")


async def test_sent_once_even_if_decided_twice(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN)
    server, outbox, sender, clock, _results = await setup(tmp_path, fake)
    assert outbox.enqueue([message("a"), message("a"), message("b", "1002")], clock()) == 2
    async with aiohttp.ClientSession() as session:
        assert await sender.run_once(session) == 2
        assert await sender.run_once(session) == 0
    assert sorted(m["chat_id"] for m in fake.received) == ["1001", "1002"]
    assert fake.received[0]["text"] == "<b>PERINGATAN: Titik jp-glr-01 mati</b>\n\nSejak 10:00 WIB"
    assert fake.received[0]["parse_mode"] == "HTML"
    assert outbox.counts() == {("telegram", "sent"): 2}
    await server.close()


async def test_429_waits_as_told_and_5xx_backs_off(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN, script=[too_many(37), server_error])
    server, outbox, sender, clock, results = await setup(tmp_path, fake)
    outbox.enqueue([message("a")], clock())
    async with aiohttp.ClientSession() as session:
        await sender.run_once(session)  # 429: retry after 37 s
        (pending,) = outbox.listing()
        assert pending.next_attempt_at - clock() >= 37
        assert "rate_limited" in (pending.last_error or "")
        clock.now += 36
        assert await sender.run_once(session) == 0  # not before
        clock.now += 1
        await sender.run_once(session)  # 502
        (pending,) = outbox.listing()
        assert 5.0 <= pending.next_attempt_at - clock() <= 10.0  # second failure: 10 s * jitter
        clock.now += 10
        await sender.run_once(session)
    assert [r for _, r, _ in results] == ["retry", "retry", "sent"]
    assert len(fake.received) == 1
    await server.close()


async def test_unknown_chat_fails_at_once_and_tokens_stay_secret(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    fake = FakeTelegram(TOKEN)
    server, outbox, sender, clock, results = await setup(tmp_path, fake)
    outbox.enqueue([message("a", "999")], clock())
    async with aiohttp.ClientSession() as session:
        await sender.run_once(session)
        clock.now += 10_000
        assert await sender.run_once(session) == 0  # never retried
    (failed,) = outbox.listing()
    assert failed.state == "failed"
    assert failed.last_error == "http_400: Bad Request: chat not found"
    assert results == [(failed.id, "failed", "http_400")]
    assert TOKEN not in caplog.text and TOKEN not in (failed.last_error or "")
    await server.close()


async def test_gives_up_after_max_attempts_and_survives_a_dead_server(tmp_path: Path) -> None:
    fake = FakeTelegram(TOKEN)
    server, outbox, sender, clock, _results = await setup(tmp_path, fake)
    await server.close()  # nobody listens any more
    outbox.enqueue([message("a")], clock())
    async with aiohttp.ClientSession() as session:
        for _ in range(4):
            await sender.run_once(session)
            clock.now += 1000
    (failed,) = outbox.listing()
    assert failed.state == "failed" and failed.attempts == 4
    assert (failed.last_error or "").startswith("gave up after 4 attempts: connection")


async def test_outbox_work_stays_off_the_event_loop(tmp_path: Path) -> None:
    """Synchronous SQLite commits must not stall polling: every outbox call of the sender
    (reading what is due, marking sent/retry/failed, digests, counts) runs in a worker."""
    fake = FakeTelegram(TOKEN, script=[server_error])
    server, outbox, sender, clock, _results = await setup(tmp_path, fake)
    loop_thread = threading.get_ident()
    calls: list[tuple[str, bool]] = []
    for name in ("due", "held_due", "mark_sent", "mark_retry", "mark_failed", "counts"):
        original = getattr(outbox, name)

        def spy(*args, _name=name, _original=original):  # type: ignore[no-untyped-def]
            calls.append((_name, threading.get_ident() == loop_thread))
            return _original(*args)

        setattr(outbox, name, spy)
    sender.on_cycle = outbox.counts
    sender.limit = Limit(100, 3600.0)
    outbox.enqueue([message("a"), message("b", "1002"), message("c", "999")], clock())
    stop = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        runner = asyncio.create_task(sender.run(session, stop, poll_seconds=0.01))
        while not any(name == "mark_retry" for name, _ in calls):
            await asyncio.sleep(0.01)
        stop.set()
        await runner
    names = {name for name, _ in calls}
    assert {"due", "held_due", "mark_sent", "mark_retry", "mark_failed", "counts"} <= names
    assert [name for name, on_loop in calls if on_loop] == []
    await server.close()


async def test_the_outbox_survives_reopening(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.enqueue([message("a")], 1.0)
    outbox.close()
    again = Outbox(tmp_path)
    assert [d.key for d in again.due(2.0)] == ["a"]
    assert again.enqueue([message("a")], 3.0) == 0


def test_notify_queue_lists_what_waits_and_what_failed(tmp_path: Path) -> None:
    import subprocess
    import sys

    import yaml

    from wifimon.demo.fleet import write_fleet

    config = write_fleet(tmp_path, 9, "127.0.0.1:9", 60.0)
    data_dir = tmp_path / yaml.safe_load(config.read_text())["daemon"]["data_dir"]
    outbox = Outbox(data_dir)
    outbox.enqueue([message("a"), message("b", "999")], 1_786_500_000.0)
    (_, failed) = outbox.listing()
    outbox.mark_failed(failed.id, "http_400: Bad Request: chat not found")
    outbox.close()
    result = subprocess.run([sys.executable, "-m", "wifimon.cli", "notify", "queue",
                             "--config", str(config)], capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1 pending telegram to 1001 attempts=0 next 2026-08-12 09:00:00 WIB")
    assert lines[1] == ("2 failed telegram to 999 attempts=1 (http_400: Bad Request: chat not "
                        "found): PERINGATAN: Titik jp-glr-01 mati")  # fmt: skip
