"""APScheduler jobs in named groups (polls, ICMP probes, throughput probes), spread by phase."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import zlib
from collections.abc import Awaitable, Callable, Collection, Iterator
from datetime import UTC, datetime

from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.interval import IntervalTrigger

JobFunc = Callable[[str, float], Awaitable[None]]
# Jobs added or removed between two turns of the event loop when a reload changes many: adding
# one costs APScheduler 0.1-0.2 ms, so 20,000 at once would keep the loop from answering for
# seconds; 100 keep each turn to tens of milliseconds.
CHUNK = 100


def phase_offset(key: str, interval: float) -> float:
    """A stable offset in [0, interval) so a fleet is spread, not run in one burst."""
    return (zlib.crc32(key.encode()) % 100_000) / 100_000 * interval


def expected_start(now: float, first_run: float, interval: float) -> float:
    """The planned run time this run belongs to (the last one not after now)."""
    if now <= first_run:
        return first_run
    periods = int((now - first_run) // interval)
    return first_run + periods * interval


class Scheduler:
    """Owns the APScheduler instance; jobs are coalesced and never overlap themselves."""

    def __init__(self) -> None:
        self._scheduler = AsyncIOScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1}
        )

    def group(self, name: str, func: JobFunc, interval: float) -> JobGroup:
        return JobGroup(self._scheduler, name, func, interval)

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def jobs(self) -> list[Job]:
        """Every job as APScheduler holds it (to check that each key has exactly one)."""
        return list(self._scheduler.get_jobs())


class JobGroup:
    """One interval job per key (an AP or a hotspot), called as `func(key, first_run)`."""

    def __init__(
        self, scheduler: AsyncIOScheduler, name: str, func: JobFunc, interval: float
    ) -> None:
        self._scheduler = scheduler
        self.name = name
        self._func = func
        self.interval = interval
        self._keys: set[str] = set()  # scheduled now (asking APScheduler walks every job)

    def _job_id(self, key: str) -> str:
        return f"{self.name}:{key}"

    def add(self, key: str, now: float) -> None:
        """Schedule `key` (again): first run at its phase within the next interval."""
        first = now + phase_offset(f"{self.name}:{key}", self.interval)
        start = datetime.fromtimestamp(first, UTC)
        trigger = IntervalTrigger(seconds=self.interval, start_date=start, timezone=UTC)
        self._scheduler.add_job(
            self._func,
            trigger,
            args=[key, first],
            id=self._job_id(key),
            replace_existing=True,
            name=f"{self.name} {key}",
            next_run_time=start,
            misfire_grace_time=max(1, int(self.interval)),
        )
        self._keys.add(key)

    def remove(self, key: str) -> None:
        if key in self._keys:
            self._keys.discard(key)
            with contextlib.suppress(JobLookupError):
                self._scheduler.remove_job(self._job_id(key))

    def scheduled_keys(self) -> set[str]:
        return set(self._keys)

    def reschedule_all(self, interval: float, now: float) -> None:
        """Apply a new interval to every job of the group (state is untouched)."""
        self.interval = interval
        self._add_all(sorted(self._keys), now)

    def sync(self, wanted: Collection[str], changed: Collection[str], now: float) -> None:
        """Make the scheduled keys equal `wanted`, re-adding `changed` ones."""
        gone, new = self._difference(wanted, changed)
        for key in gone:
            self.remove(key)
        self._add_all(new, now)

    async def reschedule_all_gradually(self, interval: float, now: float) -> None:
        """reschedule_all, letting the event loop run between chunks of jobs."""
        self.interval = interval
        for chunk in _chunks(sorted(self._keys)):
            self._add_all(chunk, now)
            await asyncio.sleep(0)

    async def sync_gradually(
        self, wanted: Collection[str], changed: Collection[str], now: float
    ) -> None:
        """sync, letting the event loop run between chunks: jobs of a key that is no longer
        wanted may run meanwhile, so they must check that their key still exists."""
        gone, new = self._difference(wanted, changed)
        for chunk in _chunks(gone):
            for key in chunk:
                self.remove(key)
            await asyncio.sleep(0)
        for chunk in _chunks(new):
            self._add_all(chunk, now)
            await asyncio.sleep(0)

    def _difference(
        self, wanted: Collection[str], changed: Collection[str]
    ) -> tuple[list[str], list[str]]:
        """(keys to remove, keys to add or add again), in a stable order."""
        wanted = wanted if isinstance(wanted, set | frozenset) else set(wanted)
        gone = sorted(self._keys - wanted)
        new = sorted((wanted - self._keys) | {key for key in changed if key in wanted})
        return gone, new

    def _add_all(self, keys: Collection[str], now: float) -> None:
        with self._one_wakeup():
            for key in keys:
                self.add(key, now)

    @contextlib.contextmanager
    def _one_wakeup(self) -> Iterator[None]:
        """Add many jobs with one wake-up of the scheduler, not one each (each wake-up is a
        pass over the due jobs on the event loop). Nothing runs meanwhile: no await."""
        if self._scheduler.state != STATE_RUNNING:
            yield
            return
        self._scheduler.pause()
        try:
            yield
        finally:
            self._scheduler.resume()


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    """CHUNK keys at a time."""
    it = iter(keys)
    while chunk := list(itertools.islice(it, CHUNK)):
        yield chunk
