"""The history store: SQLite in WAL mode in the daemon's data directory, written by one
writer in batches (one transaction each), read by reports.

What it keeps: each titik's status transitions (up, down, unknown), throughput probe
results, users per minute (35 days by default) and per hour (two years), AP reboots, and
the spans during which wifimon was monitoring at all (`runs`). Versioned schema with
step-by-step migrations; synchronous=FULL, so a committed batch survives a SIGKILL or a
power cut.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wifimon.sqlitefile import open_database

FILENAME = "history.sqlite"
SCHEMA_VERSION = 4
MIGRATIONS: dict[int, str] = {  # version N -> N + 1; version 0 is an empty file
    0: """
CREATE TABLE runs (id INTEGER PRIMARY KEY, started_at REAL NOT NULL, seen_at REAL NOT NULL);
CREATE TABLE status (hotspot TEXT NOT NULL, at REAL NOT NULL, status TEXT NOT NULL);
CREATE INDEX status_by_hotspot ON status (hotspot, at);
CREATE TABLE probes (hotspot TEXT NOT NULL, at REAL NOT NULL, kind TEXT NOT NULL,
                     ok INTEGER NOT NULL, mbps REAL);
CREATE INDEX probes_by_time ON probes (at);
CREATE TABLE clients_minute (hotspot TEXT NOT NULL, minute INTEGER NOT NULL,
                             clients INTEGER NOT NULL, PRIMARY KEY (hotspot, minute))
                             WITHOUT ROWID;
CREATE TABLE reboots (ap TEXT NOT NULL, hotspot TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX reboots_by_time ON reboots (at);
""",
    1: """
CREATE TABLE clients_hour (hotspot TEXT NOT NULL, hour INTEGER NOT NULL,
                           samples INTEGER NOT NULL, total INTEGER NOT NULL,
                           peak INTEGER NOT NULL, at_capacity INTEGER NOT NULL,
                           PRIMARY KEY (hotspot, hour)) WITHOUT ROWID;
INSERT INTO clients_hour
    SELECT hotspot, minute / 60, COUNT(*), SUM(clients), MAX(clients), 0
    FROM clients_minute GROUP BY hotspot, minute / 60;
""",
    2: """
CREATE TABLE alert_events (at REAL NOT NULL, alert TEXT NOT NULL, event TEXT NOT NULL,
                           detail TEXT NOT NULL);
CREATE INDEX alert_events_by_time ON alert_events (at);
CREATE TABLE deliveries (at REAL NOT NULL, key TEXT NOT NULL, channel TEXT NOT NULL,
                         recipient TEXT NOT NULL, result TEXT NOT NULL, reason TEXT,
                         subject TEXT NOT NULL);
CREATE INDEX deliveries_by_time ON deliveries (at);
CREATE TABLE silences (id TEXT PRIMARY KEY, saved_at REAL NOT NULL, silence TEXT NOT NULL);
""",
    3: """
CREATE TABLE counts_hour (hotspot TEXT NOT NULL, hour INTEGER NOT NULL, kind TEXT NOT NULL,
                          samples INTEGER NOT NULL, total INTEGER NOT NULL,
                          peak INTEGER NOT NULL,
                          PRIMARY KEY (hotspot, hour, kind)) WITHOUT ROWID;
""",
}


@dataclass(frozen=True)
class Batch:
    """What one writer transaction adds."""

    run_id: int
    seen_at: float
    status: Sequence[tuple[str, float, str]] = ()  # hotspot, at, up|down|unknown
    probes: Sequence[tuple[str, float, str, bool, float | None]] = ()  # hotspot, at, kind, ok, mbps
    minutes: Sequence[tuple[str, int, int, int]] = ()  # hotspot, minute, clients, capacity
    reboots: Sequence[tuple[str, str, float]] = ()  # ap, hotspot, at
    alert_events: Sequence[tuple[float, str, str, str]] = ()  # at, alert, event, detail JSON
    # at, key, channel, recipient, result (sent|retry|failed), reason, subject
    deliveries: Sequence[tuple[float, str, str, str, str, str | None, str]] = ()
    silences: Sequence[tuple[str, float, str]] = ()  # id, saved at, the silence as JSON
    # hotspot, minute, kind (associated|sessions|not_logged_in), value: where sessions count
    counts: Sequence[tuple[str, int, str, int]] = ()


class HistoryStore:
    """One SQLite file; the writer and readers share one connection under a lock."""

    def __init__(self, directory: Path, readonly: bool = False) -> None:
        self.path = directory / FILENAME
        self._lock = threading.Lock()
        self._db = open_database(self.path, MIGRATIONS, SCHEMA_VERSION, migrate=not readonly)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def start_run(self, now: float) -> int:
        with self._lock:
            cursor = self._db.execute("INSERT INTO runs (started_at, seen_at) VALUES (?, ?)",
                                      (now, now))  # fmt: skip
            return int(cursor.lastrowid or 0)

    def last_status(self) -> dict[str, tuple[float, str]]:
        """Each titik's newest transition (to continue where the last run stopped)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT hotspot, MAX(at), status FROM status GROUP BY hotspot"
            ).fetchall()
        return {hotspot: (at, status) for hotspot, at, status in rows}

    def write(self, batch: Batch) -> None:
        """One transaction: all of it, or (after a crash) none of it."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("UPDATE runs SET seen_at = MAX(seen_at, ?) WHERE id = ?",
                           (batch.seen_at, batch.run_id))  # fmt: skip
                db.executemany("INSERT INTO status VALUES (?, ?, ?)", batch.status)
                db.executemany("INSERT INTO probes VALUES (?, ?, ?, ?, ?)", batch.probes)
                db.executemany("INSERT INTO reboots VALUES (?, ?, ?)", batch.reboots)
                db.executemany("INSERT INTO alert_events VALUES (?, ?, ?, ?)", batch.alert_events)
                db.executemany("INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?)",
                               batch.deliveries)  # fmt: skip
                db.executemany("INSERT OR REPLACE INTO silences VALUES (?, ?, ?)", batch.silences)
                self._write_minutes(batch.minutes)
                self._write_counts(batch.counts)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _write_minutes(self, minutes: Sequence[tuple[str, int, int, int]]) -> None:
        """A minute is written once (the writer sends complete minutes); its hour's rollup
        grows with it."""
        added = []
        for hotspot, minute, clients, capacity in minutes:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO clients_minute VALUES (?, ?, ?)",
                (hotspot, minute, clients))  # fmt: skip
            if cursor.rowcount:
                added.append((hotspot, minute // 60, clients, clients,
                              int(clients >= capacity)))  # fmt: skip
        self._db.executemany(
            "INSERT INTO clients_hour VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT (hotspot, hour) "
            "DO UPDATE SET samples = samples + 1, total = total + excluded.total, "
            "peak = MAX(peak, excluded.peak), at_capacity = at_capacity + excluded.at_capacity",
            added)  # fmt: skip

    def _write_counts(self, counts: Sequence[tuple[str, int, str, int]]) -> None:
        """The hourly rollup of each kind of user count (a minute arrives once)."""
        self._db.executemany(
            "INSERT INTO counts_hour VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (hotspot, hour, kind) "
            "DO UPDATE SET samples = samples + 1, total = total + excluded.total, "
            "peak = MAX(peak, excluded.peak)",
            [
                (hotspot, minute // 60, kind, value, value)
                for hotspot, minute, kind, value in counts
            ],
        )

    def retain(self, now: float, minutes_days: float, hours_days: float,
               events_days: float) -> dict[str, int]:  # fmt: skip
        """Drop what is older than the retention; returns rows removed per table."""
        minute_cut = int((now - minutes_days * 86400) // 60)
        hour_cut = int((now - hours_days * 86400) // 3600)
        event_cut = now - events_days * 86400
        removed = {}
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            for table, where, value in (
                ("clients_minute", "minute < ?", minute_cut),
                ("clients_hour", "hour < ?", hour_cut),
                ("counts_hour", "hour < ?", hour_cut),
                ("probes", "at < ?", event_cut),
                ("reboots", "at < ?", event_cut),
                ("alert_events", "at < ?", event_cut),
                ("deliveries", "at < ?", event_cut),
                ("runs", "seen_at < ?", event_cut),
            ):
                removed[table] = self._db.execute(f"DELETE FROM {table} WHERE {where}",
                                                  (value,)).rowcount  # fmt: skip
            # keep each titik's last transition before the cut: it says what held after it
            removed["status"] = self._db.execute(
                "DELETE FROM status WHERE at < ? AND at < (SELECT MAX(at) FROM status s "
                "WHERE s.hotspot = status.hotspot AND s.at < ?)", (event_cut, event_cut)
            ).rowcount  # fmt: skip
            self._db.execute("COMMIT")
        return removed

    # reads, for reports

    def runs(self, start: float, end: float) -> list[tuple[float, float]]:
        return self._rows("SELECT started_at, seen_at FROM runs WHERE seen_at >= ? AND "
                          "started_at < ? ORDER BY started_at", (start, end))  # fmt: skip

    def transitions(self, hotspots: Iterable[str], start: float, end: float
                    ) -> dict[str, list[tuple[float, str]]]:  # fmt: skip
        """Per titik: the last transition before `start` and every one up to `end`."""
        wanted = set(hotspots)
        rows = self._rows(
            "SELECT hotspot, at, status FROM status WHERE at < ? AND (at >= ? OR at = "
            "(SELECT MAX(at) FROM status s WHERE s.hotspot = status.hotspot AND s.at < ?)) "
            "ORDER BY hotspot, at", (end, start, start))  # fmt: skip
        out: dict[str, list[tuple[float, str]]] = {h: [] for h in wanted}
        for hotspot, at, status in rows:
            if hotspot in wanted:
                out[hotspot].append((at, status))
        return out

    def probes(self, start: float, end: float) -> list[tuple[str, int, list[float]]]:
        """Per titik: throughput probes run, and the Mbps of those that succeeded.

        The values travel as one text per titik (exact: 17 significant digits): a month of
        millions of probes is read in a fraction of the time one row per probe takes."""
        rows = self._rows(
            "SELECT hotspot, COUNT(*), group_concat(CASE WHEN ok AND mbps IS NOT NULL "
            "THEN printf('%.17g', mbps) END) FROM probes WHERE at >= ? AND at < ? "
            "AND kind IN ('http', 'iperf3') GROUP BY hotspot", (start, end))  # fmt: skip
        return [(hotspot, count, list(map(float, values.split(","))) if values else [])
                for hotspot, count, values in rows]  # fmt: skip

    def users(self, start: float, end: float) -> list[tuple[str, int, int, int, int]]:
        """Per titik: samples, total users, peak, minutes at capacity (whole hours)."""
        return self._rows(
            "SELECT hotspot, SUM(samples), SUM(total), MAX(peak), SUM(at_capacity) "
            "FROM clients_hour WHERE hour >= ? AND hour < ? GROUP BY hotspot",
            (int(start // 3600), int(-(-end // 3600))))  # fmt: skip

    def counts(self, start: float, end: float) -> list[tuple[str, str, int, int, int]]:
        """Per titik and kind of count: samples, total, peak (whole hours)."""
        return self._rows(
            "SELECT hotspot, kind, SUM(samples), SUM(total), MAX(peak) FROM counts_hour "
            "WHERE hour >= ? AND hour < ? GROUP BY hotspot, kind",
            (int(start // 3600), int(-(-end // 3600))))  # fmt: skip

    def reboots(self, start: float, end: float) -> list[tuple[str, int]]:
        return self._rows("SELECT hotspot, COUNT(*) FROM reboots WHERE at >= ? AND at < ? "
                          "GROUP BY hotspot", (start, end))  # fmt: skip

    def alert_events(self, start: float, end: float) -> list[tuple[float, str, str, str]]:
        """(at, alert, event, detail JSON) in time order."""
        return self._rows("SELECT at, alert, event, detail FROM alert_events WHERE at >= ? "
                          "AND at < ? ORDER BY at, rowid", (start, end))  # fmt: skip

    def deliveries(self, start: float, end: float
                   ) -> list[tuple[float, str, str, str, str, str | None, str]]:  # fmt: skip
        """(at, key, channel, recipient, result, reason, subject) in time order."""
        return self._rows("SELECT at, key, channel, recipient, result, reason, subject FROM "
                          "deliveries WHERE at >= ? AND at < ? ORDER BY at, rowid",
                          (start, end))  # fmt: skip

    def silences(self) -> list[str]:
        """Every silence ever saved, newest version of each, as JSON."""
        return [row[0] for row in self._rows("SELECT silence FROM silences ORDER BY id", ())]

    def _rows(self, query: str, values: tuple[object, ...]) -> list[Any]:
        with self._lock:
            return self._db.execute(query, values).fetchall()
