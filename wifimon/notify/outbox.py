"""The durable outbox: a message is written here before it is sent, marked sent after the
channel accepted it. SQLite in WAL mode in the daemon's data directory; a SIGKILL between
the two loses nothing (the message is sent after the restart).

Each delivery has a unique key (alert, episode, kind, channel, recipient), so deciding the
same message twice (a crash between enqueueing and saving the alert state) queues it once.

States: pending (due at next_attempt_at: quiet hours and retries push it later), sent,
failed (for good), held (over the recipient's rate limit, until next_attempt_at) and
digested (replaced, with the others held for that recipient, by one digest message).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from wifimon.notify.channels import Message
from wifimon.sqlitefile import open_database

FILENAME = "outbox.sqlite"
SCHEMA_VERSION = 2
MIGRATIONS = {  # version N -> N + 1; version 0 is an empty file
    0: """
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    next_attempt_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT,
    sent_at REAL
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
""",
    1: """
ALTER TABLE deliveries ADD COLUMN language TEXT NOT NULL DEFAULT 'id';
ALTER TABLE deliveries ADD COLUMN critical INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_recipient ON deliveries (channel, recipient, created_at);
""",
}

COLUMNS = ("id, key, channel, recipient, subject, body, created_at, attempts, state, last_error, "
           "next_attempt_at, language")  # fmt: skip


@dataclass(frozen=True)
class Delivery:
    id: int
    key: str
    channel: str
    recipient: str
    subject: str
    body: str
    created_at: float
    attempts: int
    state: str
    last_error: str | None
    next_attempt_at: float
    language: str = "id"

    @property
    def message(self) -> Message:
        return Message(self.key, self.recipient, self.subject, self.body)


@dataclass(frozen=True)
class NewDelivery:
    key: str
    channel: str
    recipient: str
    subject: str
    body: str
    language: str = "id"
    critical: bool = False  # passes quiet hours and rate limits
    not_before: float | None = None  # the end of the recipient's quiet hours


@dataclass(frozen=True)
class Limit:
    """A rate limit per recipient and channel: `messages` in `per_seconds`."""

    messages: int
    per_seconds: float


class Outbox:
    """One SQLite file; used from the event loop and worker threads under one lock."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FILENAME
        self._lock = threading.Lock()
        self._db = open_database(self.path, MIGRATIONS, SCHEMA_VERSION)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def enqueue(self, items: list[NewDelivery], now: float, limit: Limit | None = None) -> int:
        """Queue messages in one transaction; returns how many were new. Over the rate
        limit, a message is held for the digest due when the recipient's window ends."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            added = 0
            for item in items:
                state, due = "pending", max(now, item.not_before or now)
                if limit is not None and not item.critical:
                    window_end = self._window_end(item, now, limit)
                    if window_end is not None:
                        state, due = "held", max(due, window_end)
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO deliveries (key, channel, recipient, subject, body, "
                    "created_at, next_attempt_at, state, language, critical) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (item.key, item.channel, item.recipient, item.subject, item.body, now, due,
                     state, item.language, int(item.critical)))  # fmt: skip
                added += cursor.rowcount
            self._db.execute("COMMIT")
            return added

    def _window_end(self, item: NewDelivery, now: float, limit: Limit) -> float | None:
        """When the recipient may get another message, None if they may now."""
        rows = self._db.execute(
            "SELECT created_at FROM deliveries WHERE channel = ? AND recipient = ? "
            "AND created_at > ? AND state IN ('pending', 'sent') ORDER BY created_at DESC "
            "LIMIT ?", (item.channel, item.recipient, now - limit.per_seconds, limit.messages)
        ).fetchall()  # fmt: skip
        if len(rows) < limit.messages:
            return None
        return float(rows[-1][0]) + limit.per_seconds

    def held_due(self, now: float) -> dict[tuple[str, str], list[Delivery]]:
        """Held messages per (channel, recipient) whose digest is due."""
        due = self._select(
            "WHERE state = 'held' AND (channel, recipient) IN (SELECT channel, recipient "
            "FROM deliveries WHERE state = 'held' AND next_attempt_at <= ?) ORDER BY id",
            (now,),
        )
        groups: dict[tuple[str, str], list[Delivery]] = {}
        for delivery in due:
            groups.setdefault((delivery.channel, delivery.recipient), []).append(delivery)
        return groups

    def digest(self, held: list[Delivery], replacement: NewDelivery, now: float) -> None:
        """Replace held messages by one digest message, in one transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("UPDATE deliveries SET state = 'digested' WHERE id = ? "
                                 "AND state = 'held'", [(d.id,) for d in held])  # fmt: skip
            self._db.execute(
                "INSERT OR IGNORE INTO deliveries (key, channel, recipient, subject, body, "
                "created_at, next_attempt_at, language, critical) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                (replacement.key, replacement.channel, replacement.recipient, replacement.subject,
                 replacement.body, now, now, replacement.language))  # fmt: skip
            self._db.execute("COMMIT")

    def due(self, now: float, limit: int = 100) -> list[Delivery]:
        return self._select(
            "WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id "
            "LIMIT ?", (now, limit))  # fmt: skip

    def listing(self, states: tuple[str, ...] = ("pending", "held", "failed")) -> list[Delivery]:
        marks = ",".join("?" for _ in states)
        return self._select(f"WHERE state IN ({marks}) ORDER BY id", states)

    def counts(self) -> dict[tuple[str, str], int]:
        """(channel, state) -> deliveries."""
        with self._lock:
            rows = self._db.execute(
                "SELECT channel, state, COUNT(*) FROM deliveries GROUP BY channel, state"
            ).fetchall()
        return {(channel, state): count for channel, state, count in rows}

    def mark_sent(self, delivery_id: int, now: float) -> None:
        self._update("state = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL",
                     (now,), delivery_id)  # fmt: skip

    def mark_retry(self, delivery_id: int, next_at: float, error: str) -> None:
        self._update("attempts = attempts + 1, next_attempt_at = ?, last_error = ?",
                     (next_at, error), delivery_id)  # fmt: skip

    def mark_failed(self, delivery_id: int, error: str) -> None:
        self._update("state = 'failed', attempts = attempts + 1, last_error = ?",
                     (error,), delivery_id)  # fmt: skip

    def _update(self, assignments: str, values: tuple[object, ...], delivery_id: int) -> None:
        with self._lock:
            self._db.execute(f"UPDATE deliveries SET {assignments} WHERE id = ?",
                             (*values, delivery_id))  # fmt: skip

    def _select(self, where: str, values: tuple[object, ...]) -> list[Delivery]:
        with self._lock:
            query = f"SELECT {COLUMNS} FROM deliveries {where}"
            rows = self._db.execute(query, values).fetchall()
        return [Delivery(*row) for row in rows]
