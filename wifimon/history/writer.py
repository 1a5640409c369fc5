"""The one writer of the history store: the daemon hands it observations (never blocking),
it turns them into rows and commits them in batches from a worker thread. Besides the
measurements it keeps what the alert journal records, every delivery attempt's outcome, and
each version of every silence (maintenance windows stay on record after they leave
silences.json).

Status is kept as transitions: a row when a titik's status changes, and `unknown` when its
polls stop for longer than `max_gap_seconds` (the row is dated one poll interval after the
last poll). Users are kept per minute: the newest sum of a minute is written once the
minute is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wifimon.alerts.silences import Silence
from wifimon.history.settings import HistorySettings
from wifimon.history.store import Batch, HistoryStore

log = logging.getLogger(__name__)
RETENTION_EVERY = 3600.0  # seconds between retention passes


@dataclass
class _Titik:
    status: str | None = None
    seen_at: float | None = None
    minute: int | None = None
    clients: int = 0
    capacity: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)  # associated/sessions/not_logged_in


@dataclass
class Pending:
    """Rows gathered since the last commit (pure bookkeeping, no I/O). The rules cycle and
    the notification sender hand over rows from worker threads, hence the lock."""

    interval: float
    max_gap_seconds: float
    titik: dict[str, _Titik] = field(default_factory=dict)
    status: list[tuple[str, float, str]] = field(default_factory=list)
    probes: list[tuple[str, float, str, bool, float | None]] = field(default_factory=list)
    minutes: list[tuple[str, int, int, int]] = field(default_factory=list)
    counts: list[tuple[str, int, str, int]] = field(default_factory=list)
    reboots: list[tuple[str, str, float]] = field(default_factory=list)
    events: list[tuple[float, str, str, str]] = field(default_factory=list)
    deliveries: list[tuple[float, str, str, str, str, str | None, str]] = field(
        default_factory=list
    )
    silence_rows: list[tuple[str, float, str]] = field(default_factory=list)
    _silences_seen: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def resume(self, last: dict[str, tuple[float, str]]) -> None:
        """Continue from the statuses the store holds (no repeated transition on restart)."""
        for hotspot, (_at, status) in last.items():
            self.titik.setdefault(hotspot, _Titik()).status = status

    def poll(self, hotspot: str, at: float, status: str, clients: int | None,
             capacity: int, counts: Mapping[str, int] | None = None) -> None:  # fmt: skip
        """A poll of one of the titik's APs, with the titik's status and users after it
        (`counts`: its associated clients and portal sessions, where sessions count)."""
        titik = self.titik.setdefault(hotspot, _Titik())
        if titik.seen_at is not None and at - titik.seen_at > self.max_gap_seconds:
            gap_at = titik.seen_at + self.interval
            if titik.status != "unknown":
                self.status.append((hotspot, gap_at, "unknown"))
                titik.status = "unknown"
        if titik.seen_at is None or at >= titik.seen_at:
            titik.seen_at = at
        if status != titik.status:
            self.status.append((hotspot, at, status))
            titik.status = status
        if clients is not None:
            self._minute(hotspot, titik, int(at // 60), clients, capacity, counts or {})

    def _minute(self, hotspot: str, titik: _Titik, minute: int, clients: int,
                capacity: int, counts: Mapping[str, int]) -> None:  # fmt: skip
        if titik.minute is not None and minute > titik.minute:
            self._end_minute(hotspot, titik)
        if titik.minute is None or minute >= titik.minute:
            titik.minute, titik.clients, titik.capacity = minute, clients, capacity
            titik.counts = counts

    def _end_minute(self, hotspot: str, titik: _Titik) -> None:
        """The newest values of a finished minute become its rows."""
        assert titik.minute is not None
        self.minutes.append((hotspot, titik.minute, titik.clients, titik.capacity))
        self.counts.extend((hotspot, titik.minute, k, v) for k, v in titik.counts.items())

    def probe(self, hotspot: str, at: float, kind: str, ok: bool, mbps: float | None) -> None:
        self.probes.append((hotspot, at, kind, ok, mbps))

    def reboot(self, ap: str, hotspot: str, at: float) -> None:
        self.reboots.append((ap, hotspot, at))

    def alert_events(self, events: Iterable[Mapping[str, Any]]) -> None:
        """The journal's events of one rules cycle (transitions, silences, decisions)."""
        rows = []
        for event in events:
            detail = {k: v for k, v in event.items() if k not in ("at", "alert", "event")}
            text = json.dumps(detail, sort_keys=True, ensure_ascii=False)
            rows.append((float(event["at"]), str(event["alert"]), str(event["event"]), text))
        with self._lock:
            self.events.extend(rows)

    def delivery(self, at: float, key: str, channel: str, recipient: str, result: str,
                 reason: str | None, subject: str) -> None:  # fmt: skip
        with self._lock:
            self.deliveries.append((at, key, channel, recipient, result, reason, subject))

    def silences(self, silences: Iterable[Silence], now: float) -> None:
        """Silences that are new or changed since the last call (kept after they expire and
        leave silences.json, for the reports of their months)."""
        with self._lock:
            for silence in silences:
                text = silence.model_dump_json()
                if self._silences_seen.get(silence.id) != text:
                    self._silences_seen[silence.id] = text
                    self.silence_rows.append((silence.id, now, text))

    def take(self, run_id: int, now: float, final: bool = False) -> Batch:
        """Everything gathered, as one batch; `final` also ends the current minutes."""
        if final:
            for hotspot, titik in self.titik.items():
                if titik.minute is not None:
                    self._end_minute(hotspot, titik)
                    titik.minute = None
        with self._lock:
            batch = Batch(run_id, now, self.status, self.probes, self.minutes, self.reboots,
                          self.events, self.deliveries, self.silence_rows, self.counts)  # fmt: skip
            self.status, self.probes, self.minutes, self.reboots = [], [], [], []
            self.counts = []
            self.events, self.deliveries, self.silence_rows = [], [], []
        return batch


class HistoryWriter:
    """Owns the store's writes: `start()`, observations, `stop()` (which flushes)."""

    def __init__(self, store: HistoryStore, interval: float, max_gap_seconds: float,
                 settings: HistorySettings | None = None) -> None:  # fmt: skip
        self.store = store
        self.pending = Pending(interval, max_gap_seconds)
        self.settings = settings or HistorySettings()
        self.batch_seconds = self.settings.batch_seconds
        self._retained_at = 0.0
        self.run_id = 0
        self._task: asyncio.Task[None] | None = None
        self.failures = 0  # batches that could not be written (kept and tried again)
        self._unwritten: list[Batch] = []

    def start(self, now: float | None = None) -> None:
        self.pending.resume(self.store.last_status())
        self.run_id = self.store.start_run(now or time.time())
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.batch_seconds)
            await self.flush()
            if time.time() - self._retained_at >= RETENTION_EVERY:
                await self.retain()

    async def retain(self) -> None:
        """Drop rows older than the retention (hourly, in a worker thread)."""
        self._retained_at = now = time.time()
        s = self.settings
        try:
            removed = await asyncio.to_thread(self.store.retain, now, s.minutes_days,
                                              s.hours_days, s.events_days)  # fmt: skip
        except Exception as exc:
            log.error("history retention failed path=%s error=%s", self.store.path, exc)
            return
        if any(removed.values()):
            log.info("history retention %s", " ".join(f"{k}={v}" for k, v in removed.items()))

    async def flush(self, final: bool = False) -> None:
        """Commit what is pending in a worker thread; a failed batch is kept for later."""
        self._unwritten.append(self.pending.take(self.run_id, time.time(), final))
        while self._unwritten:
            try:
                await asyncio.to_thread(self.store.write, self._unwritten[0])
            except Exception as exc:  # disk full, locked: keep the rows, say so
                self.failures += 1
                log.error("history batch not written path=%s error=%s", self.store.path, exc)
                return
            self._unwritten.pop(0)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            await self.flush(final=True)
