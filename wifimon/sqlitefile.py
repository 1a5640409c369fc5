"""wifimon's SQLite files (outbox, history): one way to open them and migrate their schema."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from wifimon.statedir import file_lock

BUSY_TIMEOUT_SECONDS = 10.0  # how long a statement waits for another connection's lock


def open_database(path: Path, migrations: Mapping[int, str], version: int,
                  migrate: bool = True) -> sqlite3.Connection:  # fmt: skip
    """WAL mode and synchronous writes (a committed transaction survives a SIGKILL or a
    power cut), explicit transactions; the schema brought from its stored version to
    `version` one step (`migrations[N]`: N -> N + 1) at a time, each step atomic."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False,
                         isolation_level=None)  # fmt: skip
    db.execute("PRAGMA synchronous=FULL")
    if not migrate:
        return db  # a reader: the file is in WAL mode already (the mode is kept in the file)
    try:
        # one opener at a time: switching a new file to WAL needs it alone (SQLite answers
        # "database is locked" at once rather than wait, to avoid a deadlock), and two
        # openers must not both run step 0
        with file_lock(path.with_name(path.name + ".migrate-lock")):
            db.execute("PRAGMA journal_mode=WAL")
            _migrate(db, path, migrations, version)
    except BaseException:
        db.close()
        raise
    return db


def _migrate(db: sqlite3.Connection, path: Path, migrations: Mapping[int, str],
             version: int) -> None:  # fmt: skip
    """Steps from the stored version (read under the lock)."""
    current = int(db.execute("PRAGMA user_version").fetchone()[0])
    if current > version:
        raise RuntimeError(f"{path}: schema version {current} is newer than this wifimon "
                           f"knows ({version})")  # fmt: skip
    for step in range(current, version):
        db.executescript(f"BEGIN IMMEDIATE;{migrations[step]}PRAGMA user_version={step + 1};"
                         "COMMIT;")  # fmt: skip
