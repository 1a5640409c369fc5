"""APScheduler jobs in named groups (polls, ICMP probes, throughput probes), spread by phase."""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

JobFunc = Callable[[str, float], Awaitable[None]]


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


class JobGroup:
    """One interval job per key (an AP or a hotspot), called as `func(key, first_run)`."""

    def __init__(
        self, scheduler: AsyncIOScheduler, name: str, func: JobFunc, interval: float
    ) -> None:
        self._scheduler = scheduler
        self.name = name
        self._func = func
        self.interval = interval

    def _job_id(self, key: str) -> str:
        return f"{self.name}:{key}"

    def add(self, key: str, now: float) -> None:
        """Schedule `key`: first run at its phase within the next interval."""
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

    def remove(self, key: str) -> None:
        if self._scheduler.get_job(self._job_id(key)) is not None:
            self._scheduler.remove_job(self._job_id(key))

    def scheduled_keys(self) -> set[str]:
        prefix = f"{self.name}:"
        return {
            job.id[len(prefix) :] for job in self._scheduler.get_jobs() if job.id.startswith(prefix)
        }

    def reschedule_all(self, interval: float, now: float) -> None:
        """Apply a new interval to every job of the group (state is untouched)."""
        self.interval = interval
        for key in self.scheduled_keys():
            self.add(key, now)

    def sync(self, wanted: set[str], changed: set[str], now: float) -> None:
        """Make the scheduled keys equal `wanted`, re-adding `changed` ones."""
        current = self.scheduled_keys()
        for key in current - wanted:
            self.remove(key)
        for key in (wanted - current) | (changed & wanted):
            self.add(key, now)
