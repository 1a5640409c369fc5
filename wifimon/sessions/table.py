"""The open hotspot sessions, one SQLite file of their own so a restart keeps counting.

What a row holds, and nothing more: sha256(NAS key, Acct-Session-Id) as the key, a short
hash of the NAS key (to close a rebooted NAS's sessions), the titik id, when the session
started and was last heard of, its interim interval, and whether it is open or how it
ended. No user name, client MAC or address ever reaches this module.

Threads: `start`, `interim`, `stop` and `nas_restarted` are one small transaction each
(~70-100 us: WAL, synchronous=NORMAL, found by key; an Interim-Update touches no index), so
the accounting server calls them directly on the event loop, one packet at a time, and
answers the NAS after the commit. `expire` and `counts` read every open session (100,000
open: ~15 ms to count, ~0.3 s to find the silent ones) and belong off the loop
(`asyncio.to_thread`). They read through a second connection (WAL readers never wait for
the writer) and write in chunks of CHUNK rows, so a packet on the loop rarely waits for
the writer lock (measured with 100,000 open sessions while 50,000 expired at once: packet
round trip p50 0.35 ms, p99 24 ms, max 0.2 s). One lock per connection makes the table
safe to share between the loop and such threads.

With synchronous=NORMAL a commit survives wifimon being killed; a power cut may lose the
last few packets, which the NAS's next Interim-Update restores (an Interim for an unknown
session opens it).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from wifimon.errors import WifimonError
from wifimon.sessions.model import NasIdentity, Resolver
from wifimon.sqlitefile import open_database

logger = logging.getLogger(__name__)

SILENCE_FACTOR = 2.5  # a session unheard of for this many interim intervals has ended
DEFAULT_INTERIM_SECONDS = 300.0
DEFAULT_RETENTION_SECONDS = 7 * 86400.0
CHUNK = 100  # rows expire() closes or forgets per transaction
SCHEMA_VERSION = 1
MIGRATIONS: dict[int, str] = {  # version N -> N + 1; version 0 is an empty file
    0: """
CREATE TABLE sessions (
    key BLOB PRIMARY KEY,          -- sha256(nas key, 0, session id)
    nas BLOB NOT NULL,             -- sha256(nas key), first 16 bytes
    titik TEXT NOT NULL,
    started REAL NOT NULL,
    last_update REAL NOT NULL,
    interim REAL NOT NULL,         -- seconds
    state INTEGER NOT NULL,        -- 0 open, 1 stopped, 2 expired, 3 its NAS restarted
    closed_at REAL
) WITHOUT ROWID;
-- an Interim-Update touches no index: only opening and closing a session do
CREATE INDEX sessions_open ON sessions (titik, state) WHERE state = 0;  -- counts() reads it alone
CREATE INDEX sessions_open_by_nas ON sessions (nas, state) WHERE state = 0;
CREATE INDEX sessions_closed ON sessions (closed_at) WHERE state != 0;
""",
}


class SessionStoreError(WifimonError):
    """The session file could not be opened, read or written."""


class State(IntEnum):
    """How a session row stands; closed rows stay until retention to absorb late packets."""

    OPEN = 0
    STOPPED = 1
    EXPIRED = 2
    NAS_RESTARTED = 3


@dataclass(frozen=True, slots=True)
class _Row:
    titik: str
    state: State
    closed_at: float | None
    last_update: float
    interim: float


def session_key(nas_key: str, session_id: str) -> bytes:
    """The only trace of a session id that is kept (NUL-separated: no two pairs collide)."""
    return hashlib.sha256(f"{nas_key}\0{session_id}".encode()).digest()


def nas_hash(nas_key: str) -> bytes:
    """Enough of a NAS key to find its sessions, no more."""
    return hashlib.sha256(nas_key.encode()).digest()[:16]


class SessionTable:
    """Open sessions per titik, durable in SQLite; duplicates of a packet count once."""

    def __init__(
        self,
        path: Path,
        resolve: Resolver,
        default_interim_seconds: float = DEFAULT_INTERIM_SECONDS,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
    ) -> None:
        if default_interim_seconds <= 0:
            raise SessionStoreError(
                f"default interim interval must be positive, not {default_interim_seconds}"
            )
        self.path = path
        self._resolve = resolve
        self._default_interim = float(default_interim_seconds)
        self._retention = float(retention_seconds)
        self._lock = threading.Lock()  # the writer connection
        self._batch_owner: int | None = None  # the thread inside `batch()`
        self._read_lock = threading.Lock()  # the reader connection
        try:
            self._db = open_database(path, MIGRATIONS, SCHEMA_VERSION)
            # WAL + NORMAL: a commit is a write to the WAL, no fsync (see module docstring)
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._reader = open_database(path, MIGRATIONS, SCHEMA_VERSION, migrate=False)
        except (sqlite3.Error, OSError, RuntimeError) as exc:
            raise SessionStoreError(f"{path}: cannot open the session file: {exc}") from exc

    def close(self) -> None:
        """Close the file; later calls raise SessionStoreError."""
        with self._read_lock:
            self._reader.close()
        with self._lock:
            self._db.close()

    # packets

    def start(
        self, identity: NasIdentity, nas_key: str, session_id: str, at: float,
        interim: float | None,
    ) -> str | None:  # fmt: skip
        """Acct-Status-Type Start; returns the titik id, None when no titik claims the NAS."""
        return self._open(identity, nas_key, session_id, at, interim, from_start=True)

    def interim(
        self, identity: NasIdentity, nas_key: str, session_id: str, at: float,
        interim: float | None,
    ) -> str | None:  # fmt: skip
        """Interim-Update; opens an unknown session (a lost Start or a wifimon restart)."""
        return self._open(identity, nas_key, session_id, at, interim, from_start=False)

    def stop(self, identity: NasIdentity, nas_key: str, session_id: str, at: float) -> str | None:
        """Stop; closes the session even when its NAS no longer maps to a titik."""
        titik = self._resolve(identity)
        key = session_key(nas_key, session_id)
        with self._transaction() as db:
            row = _fetch_row(db, key)
            if row is None:
                if titik is not None:  # remembered as stopped: a late Start must not reopen it
                    _insert(db, key, nas_key, titik, at, self._default_interim, State.STOPPED)
            elif row.state != State.STOPPED:
                db.execute(
                    "UPDATE sessions SET state = ?, closed_at = ?, last_update = ? WHERE key = ?",
                    (State.STOPPED, _later(row.closed_at, at), max(row.last_update, at), key),
                )
        return titik

    def nas_restarted(self, nas_key: str, at: float) -> int:
        """Accounting-On/Off: every open session of the NAS ended; returns how many."""
        with self._transaction() as db:
            closed = db.execute(
                "UPDATE sessions SET state = ?, closed_at = ? "
                "WHERE state = 0 AND nas = ? AND last_update <= ?",
                (State.NAS_RESTARTED, at, nas_hash(nas_key), at),
            ).rowcount
        logger.debug("sessions closed reason=nas_restarted count=%d", closed)
        return closed

    # upkeep and reading

    def expire(self, now: float, listening_since: float | None = None) -> int:
        """Close sessions unheard of for 2.5 interim intervals; forget rows past retention.

        `listening_since` (when wifimon started receiving) keeps a session from being
        blamed for updates sent while wifimon was down. Returns how many were closed."""
        since = float("-inf") if listening_since is None else listening_since
        silent = "state = 0 AND MAX(last_update, ?) + ? * interim < ?"
        keys = [key for (key,) in self._read(f"SELECT key FROM sessions WHERE {silent}",
                                             (since, SILENCE_FACTOR, now))]  # fmt: skip
        closed = 0
        for at in range(0, len(keys), CHUNK):
            with self._transaction() as db:  # the condition again: a packet may have come
                closed += db.executemany(
                    f"UPDATE sessions SET state = ?, closed_at = ? WHERE key = ? AND {silent}",
                    [(State.EXPIRED, now, key, since, SILENCE_FACTOR, now)
                     for key in keys[at : at + CHUNK]],
                ).rowcount  # fmt: skip
        forgotten = self._forget(now - self._retention)
        if closed or forgotten:
            logger.info("sessions expired count=%d forgotten=%d", closed, forgotten)
        return closed

    def counts(self) -> dict[str, int]:
        """Open sessions per titik id; a titik without any is absent."""
        rows = self._read("SELECT titik, COUNT(*) FROM sessions WHERE state = 0 GROUP BY titik", ())
        return {titik: int(count) for titik, count in rows}

    # internals

    def _open(
        self, identity: NasIdentity, nas_key: str, session_id: str, at: float,
        interim: float | None, from_start: bool,
    ) -> str | None:  # fmt: skip
        """Start and Interim alike: open, refresh, or (if it ended before `at`) reopen."""
        titik = self._resolve(identity)
        if titik is None:
            return None
        key = session_key(nas_key, session_id)
        if self._refreshed(key, titik, at, interim):
            return titik
        with self._transaction() as db:
            row = _fetch_row(db, key)
            if row is None:
                _insert(db, key, nas_key, titik, at, self._interval(interim, None), State.OPEN)
            elif row.state == State.OPEN:
                self._refresh(db, key, titik, at, interim, row)
            elif _reopens(row, at, from_start):  # an id used again (e.g. after a NAS reboot)
                _reopen(db, key, titik, at, self._interval(interim, row.interim))
        return titik

    def _refreshed(self, key: bytes, titik: str, at: float, interim: float | None) -> bool:
        """Most packets are an Interim-Update of an open session on the same titik: one
        UPDATE that touches no index, atomic alone (no savepoint inside a batch)."""
        given = float(interim) if interim is not None and interim > 0 else None
        with self._statement() as db:
            return (
                db.execute(
                    "UPDATE sessions SET last_update = MAX(last_update, ?), "
                    "interim = COALESCE(?, interim) WHERE key = ? AND state = 0 AND titik = ?",
                    (at, given, key, titik),
                ).rowcount
                == 1
            )

    def _refresh(
        self, db: sqlite3.Connection, key: bytes, titik: str, at: float,
        interim: float | None, row: _Row,
    ) -> None:  # fmt: skip
        """An open session heard of again (a duplicate changes nothing but times); the
        titik is written only when the mapping changed, so no index is touched."""
        interval = self._interval(interim, row.interim)
        last = max(row.last_update, at)
        if titik == row.titik:
            db.execute(
                "UPDATE sessions SET last_update = ?, interim = ? WHERE key = ?",
                (last, interval, key),
            )
        else:
            db.execute(
                "UPDATE sessions SET titik = ?, last_update = ?, interim = ? WHERE key = ?",
                (titik, last, interval, key),
            )

    def _forget(self, before: float) -> int:
        """Closed rows past retention, CHUNK at a time (a late packet no longer comes)."""
        forgotten, removed = 0, CHUNK
        while removed == CHUNK:
            with self._transaction() as db:
                removed = db.execute(
                    "DELETE FROM sessions WHERE key IN (SELECT key FROM sessions "
                    "WHERE state != 0 AND closed_at < ? LIMIT ?)",
                    (before, CHUNK),
                ).rowcount
            forgotten += removed
        return forgotten

    def _read(self, sql: str, parameters: tuple[object, ...]) -> list[tuple[Any, ...]]:
        """A query on the reader connection: it neither waits for nor blocks the writer."""
        with self._read_lock:
            try:
                return self._reader.execute(sql, parameters).fetchall()
            except sqlite3.Error as exc:
                raise SessionStoreError(f"{self.path}: cannot read sessions: {exc}") from exc

    def _interval(self, given: float | None, stored: float | None) -> float:
        """The NAS's interval when it says one (0 means none), else what we knew."""
        if given is not None and given > 0:
            return float(given)
        return self._default_interim if stored is None else stored

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Several packets' changes in one commit (the accounting server answers them after
        it): inside, each change is a savepoint of its own, so one that fails undoes itself."""
        with self._transaction():
            self._batch_owner = threading.get_ident()
            try:
                yield
            finally:
                self._batch_owner = None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One locked BEGIN IMMEDIATE ... COMMIT; sqlite3 errors become SessionStoreError."""
        if self._batch_owner == threading.get_ident():
            yield from self._savepoint()
            return
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise SessionStoreError(f"{self.path}: cannot write: {exc}") from exc
            try:
                yield self._db
            except BaseException as exc:
                _rollback_quietly(self._db)
                if isinstance(exc, sqlite3.Error):
                    raise SessionStoreError(f"{self.path}: cannot write: {exc}") from exc
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback_quietly(self._db)
                raise SessionStoreError(f"{self.path}: cannot commit: {exc}") from exc

    @contextlib.contextmanager
    def _statement(self) -> Iterator[sqlite3.Connection]:
        """One statement: inside a batch it needs no savepoint (a failed statement undoes
        itself), outside one it is a transaction of its own."""
        if self._batch_owner != threading.get_ident():
            with self._transaction() as db:
                yield db
            return
        try:
            yield self._db
        except sqlite3.Error as exc:
            raise SessionStoreError(f"{self.path}: cannot write: {exc}") from exc

    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        """A change inside a batch: undone alone when it fails."""
        db = self._db
        db.execute("SAVEPOINT change")
        try:
            yield db
        except BaseException as exc:
            db.execute("ROLLBACK TO change")
            db.execute("RELEASE change")
            if isinstance(exc, sqlite3.Error):
                raise SessionStoreError(f"{self.path}: cannot write: {exc}") from exc
            raise
        db.execute("RELEASE change")


def _rollback_quietly(db: sqlite3.Connection) -> None:
    """After a failed COMMIT the transaction may still be open; end it."""
    try:
        if db.in_transaction:
            db.execute("ROLLBACK")
    except sqlite3.Error:
        logger.debug("session file rollback failed")


def _fetch_row(db: sqlite3.Connection, key: bytes) -> _Row | None:
    found = db.execute(
        "SELECT titik, state, closed_at, last_update, interim FROM sessions WHERE key = ?",
        (key,),
    ).fetchone()
    if found is None:
        return None
    return _Row(found[0], State(found[1]), found[2], found[3], found[4])


def _insert(db: sqlite3.Connection, key: bytes, nas_key: str, titik: str, at: float,
            interval: float, state: State) -> None:  # fmt: skip
    closed_at = None if state == State.OPEN else at
    db.execute(
        "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (key, nas_hash(nas_key), titik, at, at, interval, int(state), closed_at),
    )


def _reopen(db: sqlite3.Connection, key: bytes, titik: str, at: float, interval: float) -> None:
    db.execute(
        "UPDATE sessions SET state = 0, closed_at = NULL, titik = ?, started = ?, "
        "last_update = ?, interim = ? WHERE key = ?",
        (titik, at, at, interval, key),
    )


def _reopens(row: _Row, at: float, from_start: bool) -> bool:
    """A closed session comes back only with news from after it closed; an Interim never
    undoes a Stop (a late retransmit), a Start may (the NAS uses the id again)."""
    if row.state == State.STOPPED and not from_start:
        return False
    return row.closed_at is None or at > row.closed_at


def _later(a: float | None, b: float) -> float:
    return b if a is None else max(a, b)
