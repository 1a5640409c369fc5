"""Small JSON files in the data directory, shared by the CLI, the API and the daemon:
replaced atomically (write, fsync, rename), edited under a lock, re-read only when changed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from wifimon.errors import ConfigError

Item = TypeVar("Item", bound=BaseModel)


def write_atomic(path: Path, body: Any, indent: int | None = None) -> None:
    """A crash leaves either the previous complete file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(body, handle, indent=indent)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class SharedList(Generic[Item]):
    """`{key: [item, ...]}` in one file; `what` names the contents in errors."""

    def __init__(self, path: Path, key: str, model: type[Item], what: str) -> None:
        self.path, self.key, self.model, self.what = path, key, model, what
        self._mtime: float | None = None
        self._cache: list[Item] = []

    def load(self) -> list[Item]:
        """Every item (the file is read again only when it changed, e.g. by the CLI)."""
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return []
        if mtime != self._mtime:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                self._cache = [self.model.model_validate(item) for item in raw.get(self.key, [])]
            except (OSError, ValueError, ValidationError) as exc:
                raise ConfigError(f"{self.path}: unreadable {self.what}: {exc}") from exc
            self._mtime = mtime
        return list(self._cache)

    @contextlib.contextmanager
    def editing(self) -> Iterator[list[Item]]:
        """The current items under an exclusive lock; the list as left is written back."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._mtime = None
            items = self.load()
            yield items
            body = {self.key: [item.model_dump(mode="json") for item in items]}
            write_atomic(self.path, body, indent=1)
