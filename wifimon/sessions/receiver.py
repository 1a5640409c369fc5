"""RADIUS accounting in a process of its own, so packets and polls never wait for each other.

At 2,000 packets a second the accounting path (pyrad decoding, one SQLite commit per packet)
needs about half a core: on the daemon's event loop it starved the pollers of a 20,000-AP
fleet (benchmarks/radius_load.py). The child process owns the session table's writes and the
UDP socket; the daemon reads the counts from the same SQLite file (WAL: readers never block
the writer) and gets the packet counters over a pipe.

Messages, child to parent: ("ready", port, listening_since) or ("error", text) once, then
("counters", dropped, accepted) each `tick`. Parent to child: ("map", NasMap), ("stop",).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from wifimon.sessions.mapping import NasMap
from wifimon.sessions.model import NasIdentity
from wifimon.sessions.radius import AccountingServer, RadiusError
from wifimon.sessions.table import SessionTable

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class ReceiverConfig:
    """Everything the child needs (picklable: it crosses into a new process)."""

    path: Path
    nas_map: NasMap
    secrets: dict[str, bytes]
    host: str
    port: int
    default_interim_seconds: float
    retention_seconds: float
    tick_seconds: float


class Receiver:
    """The parent's handle on the accounting process."""

    def __init__(self, config: ReceiverConfig) -> None:
        self.config = config
        self.port: int | None = None
        self.listening_since: float | None = None
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None

    async def start(self) -> None:
        """Start the child and wait until it listens; RadiusError when it cannot."""
        context = multiprocessing.get_context("spawn")  # no copy of the daemon's threads
        parent, child = context.Pipe()
        self._process = context.Process(
            target=run, args=(self.config, child), name="wifimon-radius", daemon=True
        )
        self._process.start()
        child.close()
        self._conn = parent
        if not await asyncio.to_thread(parent.poll, START_TIMEOUT_SECONDS):
            await self.stop()
            raise RadiusError("the accounting process did not start")
        message = parent.recv()
        if message[0] == "error":
            await self.stop()
            raise RadiusError(message[1])
        _, self.port, self.listening_since = message

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def counters(self) -> tuple[Counter[str], Counter[str]]:
        """Packets dropped and accepted since the last call, by reason and kind."""
        dropped: Counter[str] = Counter()
        accepted: Counter[str] = Counter()
        conn = self._conn
        with contextlib.suppress(EOFError, OSError):
            while conn is not None and conn.poll():
                message = conn.recv()
                if message[0] == "counters":
                    dropped.update(message[1])
                    accepted.update(message[2])
        return dropped, accepted

    def adopt(self, nas_map: NasMap) -> None:
        """A reloaded inventory's NAS map, for the packets that come next."""
        with contextlib.suppress(OSError):
            if self._conn is not None:
                self._conn.send(("map", nas_map))

    async def stop(self) -> None:
        """Ask the child to stop; end it when it does not within a few seconds."""
        process, conn = self._process, self._conn
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send(("stop",))
        if process is not None:
            await asyncio.to_thread(process.join, STOP_TIMEOUT_SECONDS)
            if process.is_alive():
                process.terminate()
                await asyncio.to_thread(process.join, STOP_TIMEOUT_SECONDS)
        if conn is not None:
            conn.close()
        self._process = self._conn = None


def run(config: ReceiverConfig, conn: Connection) -> None:
    """The child process's whole life."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(config, conn))


class _Mapping:
    """The current NAS map, replaced when the parent sends a new one."""

    def __init__(self, nas_map: NasMap) -> None:
        self.nas_map = nas_map

    def __call__(self, identity: NasIdentity) -> str | None:
        return self.nas_map(identity)


async def _serve(config: ReceiverConfig, conn: Connection) -> None:
    """Listen, answer, expire stale sessions, report counters, until told to stop."""
    mapping = _Mapping(config.nas_map)
    dropped: Counter[str] = Counter()
    accepted: Counter[str] = Counter()
    try:
        table = SessionTable(config.path, mapping, config.default_interim_seconds,
                             config.retention_seconds)  # fmt: skip
        server = AccountingServer(table, config.secrets, _counting(dropped), _counting(accepted))
        await server.start(config.host, config.port)
    except (RadiusError, OSError) as exc:
        conn.send(("error", str(exc)))
        return
    conn.send(("ready", server.port, server.listening_since))
    try:
        while await _tick(config, conn, mapping, table, server):
            conn.send(("counters", dict(dropped), dict(accepted)))
            dropped.clear()
            accepted.clear()
    except (EOFError, OSError):
        pass  # the daemon went away: stop too
    finally:
        await server.stop()
        table.close()


def _counting(counter: Counter[str]) -> Callable[[str], None]:
    """A callback that counts each reason or kind it is called with."""

    def count(key: str) -> None:
        counter[key] += 1

    return count


async def _tick(
    config: ReceiverConfig,
    conn: Connection,
    mapping: _Mapping,
    table: SessionTable,
    server: AccountingServer,
) -> bool:
    """One wait for the parent's word or the next tick; False when told to stop."""
    if await asyncio.to_thread(conn.poll, config.tick_seconds):
        message = conn.recv()
        if message[0] == "stop":
            return False
        if message[0] == "map":
            mapping.nas_map = message[1]
    await asyncio.to_thread(table.expire, time.time(), server.listening_since)
    return True
