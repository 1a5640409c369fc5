"""Where one wifimon instance keeps its state, and the lock that keeps it to one instance.

Shared by every instance of a deployment (people's decisions): silences and acks in
`daemon.data_dir`. Per instance (runtime state): alert state, journal, outbox and history,
in `data_dir` itself or, for `--shard K/N`, in `data_dir/shard-K-of-N`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from wifimon.errors import WifimonError
from wifimon.shard import Shard

LOCK_FILENAME = "wifimon.lock"


class DataDirBusy(WifimonError):
    """Another running wifimon already keeps its state in this directory."""


def instance_dir(data_dir: Path, shard: Shard | None) -> Path:
    """The directory of one instance's runtime state."""
    if shard is None:
        return data_dir
    return data_dir / f"shard-{shard.index}-of-{shard.count}"


def instance_dirs(data_dir: Path) -> list[Path]:
    """Every instance directory under `data_dir` that exists (unsharded first)."""
    found = sorted(p for p in data_dir.glob("shard-*-of-*") if p.is_dir())
    return [data_dir, *found] if data_dir.is_dir() else found


class InstanceLock:
    """An exclusive lock on an instance directory, held while the daemon runs; the kernel
    drops it when the process dies, so a SIGKILLed daemon never leaves a stale lock."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_FILENAME
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise DataDirBusy(
                f"{self.path.parent}: another wifimon (pid {holder}) keeps its state here; "
                "give each instance its own daemon.data_dir, or run them with --shard K/N"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the descriptor drops the lock
            self._handle = None


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Block until this process holds `path` exclusively (for one-off steps such as a
    schema migration that two processes could otherwise both start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
