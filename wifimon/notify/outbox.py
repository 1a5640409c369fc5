"""The durable outbox: a message is written here before it is sent, marked sent after the
channel accepted it. SQLite in WAL mode in the daemon's data directory; a SIGKILL between
the two loses nothing (the message is sent after the restart).

Each delivery has a unique key (alert, episode, kind, channel, recipient), so deciding the
same message twice (a crash between enqueueing and saving the alert state) queues it once.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

FILENAME = "outbox.sqlite"
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
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
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_attempt_at);
"""

COLUMNS = ("id, key, channel, recipient, subject, body, created_at, attempts, state, last_error, "
           "next_attempt_at")  # fmt: skip


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


@dataclass(frozen=True)
class NewDelivery:
    key: str
    channel: str
    recipient: str
    subject: str
    body: str


class Outbox:
    """One SQLite file; used from the event loop and worker threads under one lock."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / FILENAME
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        with self._lock:
            self._db.executescript(SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def enqueue(self, items: list[NewDelivery], now: float) -> int:
        """Queue messages in one transaction; returns how many were new."""
        with self._lock:
            before = self._db.total_changes
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR IGNORE INTO deliveries (key, channel, recipient, subject, body, "
                "created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(i.key, i.channel, i.recipient, i.subject, i.body, now, now) for i in items],
            )
            self._db.execute("COMMIT")
            return self._db.total_changes - before

    def due(self, now: float, limit: int = 100) -> list[Delivery]:
        return self._select(
            "WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id "
            "LIMIT ?", (now, limit))  # fmt: skip

    def listing(self, states: tuple[str, ...] = ("pending", "failed")) -> list[Delivery]:
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
