"""wifimon's SQLite files (outbox, history): one way to open them and migrate their schema."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from wifimon.statedir import file_lock


def open_database(path: Path, migrations: Mapping[int, str], version: int,
                  migrate: bool = True) -> sqlite3.Connection:  # fmt: skip
    """WAL mode and synchronous writes (a committed transaction survives a SIGKILL or a
    power cut), explicit transactions; the schema brought from its stored version to
    `version` one step (`migrations[N]`: N -> N + 1) at a time, each step atomic."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=10000")
    if migrate:
        try:
            with file_lock(path.with_name(path.name + ".migrate-lock")):
                _migrate(db, path, migrations, version)
        except BaseException:
            db.close()
            raise
    return db


def _migrate(db: sqlite3.Connection, path: Path, migrations: Mapping[int, str],
             version: int) -> None:  # fmt: skip
    """Steps from the stored version, read under the lock: two processes opening a new file
    at once must not both run step 0."""
    current = int(db.execute("PRAGMA user_version").fetchone()[0])
    if current > version:
        raise RuntimeError(f"{path}: schema version {current} is newer than this wifimon "
                           f"knows ({version})")  # fmt: skip
    for step in range(current, version):
        db.executescript(f"BEGIN IMMEDIATE;{migrations[step]}PRAGMA user_version={step + 1};"
                         "COMMIT;")  # fmt: skip
