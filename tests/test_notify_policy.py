"""People first: a rate limit per recipient holds the rest back for one digest; quiet hours
delay; the outbox file of an older wifimon is migrated, not lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from tests.notify_fakes import FakeTelegram, visible_text
from tests.test_notify_sender import TOKEN, Clock
from wifimon.notify.channels import TelegramChannel
from wifimon.notify.outbox import Limit, NewDelivery, Outbox
from wifimon.notify.sender import Backoff, Sender
from wifimon.secrets import Secret


def note(key: str, chat: str = "1001", critical: bool = False,
         not_before: float | None = None) -> NewDelivery:  # fmt: skip
    return NewDelivery(key, "telegram", chat, f"PERINGATAN: Titik {key} lambat", "Sejak 10:00",
                       "id", critical, not_before)  # fmt: skip


async def test_over_the_limit_messages_become_one_digest_when_the_window_ends(
    tmp_path: Path,
) -> None:
    fake = FakeTelegram(TOKEN)
    server = TestServer(fake.app())
    await server.start_server()
    clock, outbox = Clock(), Outbox(tmp_path)
    limit = Limit(3, 3600.0)
    channel = TelegramChannel("telegram", Secret(TOKEN), str(server.make_url("")).rstrip("/"))
    sender = Sender(outbox, {"telegram": channel}, Backoff(), clock=clock, limit=limit)
    start = clock.now
    for index in range(7):
        outbox.enqueue([note(f"t{index}")], clock.now, limit)
        clock.now += 60
    outbox.enqueue([note("critical", critical=True)], clock.now, limit)  # passes
    outbox.enqueue([note("other-chat", chat="1002")], clock.now, limit)  # its own limit
    async with aiohttp.ClientSession() as session:
        await sender.run_once(session)
        sent = [visible_text(m["text"]).splitlines()[0] for m in fake.received]
        assert sent == ["PERINGATAN: Titik t0 lambat", "PERINGATAN: Titik t1 lambat",
                        "PERINGATAN: Titik t2 lambat", "PERINGATAN: Titik critical lambat",
                        "PERINGATAN: Titik other-chat lambat"]  # fmt: skip
        assert {d.state for d in outbox.listing()} == {"held"}
        clock.now = start + 3599
        await sender.run_once(session)
        assert len(fake.received) == 5  # the window is not over yet
        clock.now = start + 3600
        await sender.run_once(session)
    digest = visible_text(fake.received[-1]["text"])
    assert digest.splitlines()[0] == "RINGKASAN wifimon: 4 pesan ditahan (batas 3 pesan per 1 jam)"
    for index in range(3, 7):
        assert f"PERINGATAN: Titik t{index} lambat" in digest
    assert len(fake.received) == 6 and outbox.listing() == []
    assert outbox.counts()[("telegram", "digested")] == 4
    await server.close()


def test_quiet_hours_make_a_message_due_later(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.enqueue([note("night", not_before=5000.0)], 1000.0)
    assert outbox.due(4999.0) == []
    assert [d.key for d in outbox.due(5000.0)] == ["night"]


def test_an_outbox_of_schema_version_1_is_migrated_with_its_messages(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "outbox.sqlite")
    db.executescript("""
        CREATE TABLE deliveries (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE,
            channel TEXT NOT NULL, recipient TEXT NOT NULL, subject TEXT NOT NULL,
            body TEXT NOT NULL, created_at REAL NOT NULL, next_attempt_at REAL NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'pending',
            last_error TEXT, sent_at REAL);
        CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
        INSERT INTO deliveries (key, channel, recipient, subject, body, created_at,
            next_attempt_at) VALUES ('old', 'telegram', '1001', 'PERINGATAN: lama', '', 1, 1);
        PRAGMA user_version = 1;
    """)
    db.close()
    outbox = Outbox(tmp_path)
    (old,) = outbox.due(2.0)
    assert (old.key, old.language, old.subject) == ("old", "id", "PERINGATAN: lama")
    assert outbox.enqueue([note("new")], 3.0, Limit(5, 60.0)) == 1
    version = sqlite3.connect(tmp_path / "outbox.sqlite").execute("PRAGMA user_version")
    assert version.fetchone()[0] == 2
