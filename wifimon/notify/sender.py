"""Sends what is due in the outbox, one task per message, never blocking polling: the
outbox's SQLite reads and synchronous commits run in worker threads, off the event loop.

Timeouts, 5xx and 429 are retried with exponential backoff and jitter (a service's own
Retry-After / retry_after wins when longer); other 4xx fail at once; after `max_attempts`
a message fails for good. Every failure is logged with its reason, never with a token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aiohttp

from wifimon.notify.channels import Channel, Permanent, Retryable
from wifimon.notify.messages import Renderer
from wifimon.notify.outbox import Delivery, Limit, NewDelivery, Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 5.0
    max_seconds: float = 900.0
    max_attempts: int = 12

    def delay(self, attempts: int, hint: float | None, rng: random.Random) -> float:
        """Seconds before the next try after `attempts` failed ones."""
        exponential = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        jittered = exponential * rng.uniform(0.5, 1.0)
        return max(jittered, hint or 0.0)


class Sender:
    def __init__(
        self,
        outbox: Outbox,
        channels: Mapping[str, Channel],
        backoff: Backoff = Backoff(),
        concurrency: int = 8,
        clock: Callable[[], float] = time.time,
        on_result: Callable[[Delivery, str, str | None], None] | None = None,
        limit: Limit | None = None,
        renderer: Renderer | None = None,
        on_cycle: Callable[[], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.channels = channels
        self.backoff = backoff
        self.clock = clock
        self.on_result = on_result  # (delivery, sent|retry|failed, reason)
        self.limit = limit
        self.renderer = renderer or Renderer()
        self.on_cycle = on_cycle  # after each pass (metrics)
        self._slots = asyncio.Semaphore(concurrency)
        self._rng = random.Random()

    def release_digests(self) -> int:
        """Turn the messages a rate limit held back, once due, into one digest each."""
        if self.limit is None:
            return 0
        now = self.clock()
        groups = self.outbox.held_due(now)
        for (channel, recipient), held in groups.items():
            language = held[0].language
            items = [{"created_at": d.created_at, "subject": d.subject} for d in held]
            subject, body = self.renderer.digest(items, language, self.limit.messages,
                                                 self.limit.per_seconds)  # fmt: skip
            key = f"digest|{channel}|{recipient}|{held[0].id}-{held[-1].id}"
            self.outbox.digest(held, NewDelivery(key, channel, recipient, subject, body,
                                                 language, True), now)  # fmt: skip
            log.info("notification digest channel=%s messages=%d", channel, len(held))
        return len(groups)

    async def run_once(self, session: aiohttp.ClientSession) -> int:
        """Try every due message once; returns how many were tried."""
        await asyncio.to_thread(self.release_digests)
        due = await asyncio.to_thread(self.outbox.due, self.clock())
        await asyncio.gather(*(self._deliver(session, d) for d in due))
        return len(due)

    async def run(self, session: aiohttp.ClientSession, stop: asyncio.Event,
                  poll_seconds: float = 1.0) -> None:  # fmt: skip
        while not stop.is_set():
            try:
                tried = await self.run_once(session)
            except Exception:
                log.exception("notification sender cycle failed")
                tried = 0
            if self.on_cycle is not None:
                await asyncio.to_thread(self.on_cycle)
            if not tried:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_seconds)

    async def _deliver(self, session: aiohttp.ClientSession, delivery: Delivery) -> None:
        channel = self.channels.get(delivery.channel)
        if channel is None:
            await asyncio.to_thread(self._failed, delivery, "unknown_channel",
                                    f"no channel {delivery.channel!r}")  # fmt: skip
            return
        async with self._slots:  # a slot covers the send and its record: at most
            try:  # `concurrency` messages are ever out but not yet recorded as sent
                await channel.send(session, delivery.message)
            except Retryable as exc:
                await asyncio.to_thread(self._retry, delivery, exc)
                return
            except Permanent as exc:
                await asyncio.to_thread(self._failed, delivery, exc.reason, str(exc))
                return
            await asyncio.to_thread(self._sent, delivery)

    def _sent(self, delivery: Delivery) -> None:
        self.outbox.mark_sent(delivery.id, self.clock())
        self._report(delivery, "sent", None)

    def _retry(self, delivery: Delivery, exc: Retryable) -> None:
        attempts = delivery.attempts + 1
        if attempts >= self.backoff.max_attempts:
            self._failed(delivery, exc.reason, f"gave up after {attempts} attempts: {exc}")
            return
        wait = self.backoff.delay(attempts, exc.after, self._rng)
        self.outbox.mark_retry(delivery.id, self.clock() + wait, str(exc))
        log.warning("notification retry id=%d channel=%s reason=%s in=%.0fs", delivery.id,
                    delivery.channel, exc.reason, wait)  # fmt: skip
        self._report(delivery, "retry", exc.reason)

    def _failed(self, delivery: Delivery, reason: str, detail: str) -> None:
        self.outbox.mark_failed(delivery.id, detail)
        log.error("notification failed id=%d channel=%s reason=%s detail=%s", delivery.id,
                  delivery.channel, reason, detail)  # fmt: skip
        self._report(delivery, "failed", reason)

    def _report(self, delivery: Delivery, result: str, reason: str | None) -> None:
        if self.on_result is not None:
            self.on_result(delivery, result, reason)
