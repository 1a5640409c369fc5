"""Spreads one poll job per AP over the interval with APScheduler and measures lag."""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

PollFunc = Callable[[str, float], Awaitable[None]]


def phase_offset(ap_id: str, interval: float) -> float:
    """A stable offset in [0, interval) so the fleet is spread, not polled in one burst."""
    return (zlib.crc32(ap_id.encode()) % 100_000) / 100_000 * interval


def expected_start(now: float, first_run: float, interval: float) -> float:
    """The planned run time this run belongs to (the last one not after now)."""
    if now <= first_run:
        return first_run
    periods = int((now - first_run) // interval)
    return first_run + periods * interval


class PollScheduler:
    """One interval job per AP; jobs are coalesced and never overlap themselves."""

    def __init__(self, poll: PollFunc, interval: float) -> None:
        self._poll = poll
        self.interval = interval
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": max(1, int(interval)),
            },
        )

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def add(self, ap_id: str, now: float) -> None:
        """Schedule an AP: first run at its phase within the next interval."""
        first = now + phase_offset(ap_id, self.interval)
        start = datetime.fromtimestamp(first, UTC)
        trigger = IntervalTrigger(seconds=self.interval, start_date=start, timezone=UTC)
        self._scheduler.add_job(
            self._poll,
            trigger,
            args=[ap_id, first],
            id=ap_id,
            replace_existing=True,
            name=f"poll {ap_id}",
            next_run_time=start,
        )

    def remove(self, ap_id: str) -> None:
        if self._scheduler.get_job(ap_id) is not None:
            self._scheduler.remove_job(ap_id)

    def job_ids(self) -> set[str]:
        return {job.id for job in self._scheduler.get_jobs()}

    def reschedule_all(self, interval: float, now: float) -> None:
        """Apply a new interval to every job (state is untouched)."""
        self.interval = interval
        for ap_id in self.job_ids():
            self.add(ap_id, now)
