"""The SQLite helper: concurrent first opens migrate once; newer files are refused."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from wifimon.sqlitefile import open_database

SLOW_STEP = """
CREATE TABLE numbers (n INTEGER);
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 200000)
INSERT INTO numbers SELECT n FROM c;
"""
MIGRATIONS = {0: SLOW_STEP, 1: "CREATE TABLE later (x TEXT);"}


def test_many_openers_of_a_new_file_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def opener() -> None:
        start.wait()
        try:
            open_database(path, MIGRATIONS, 2).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM numbers").fetchone()[0] == 200000
    db.close()


def test_a_file_from_a_newer_wifimon_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    open_database(path, MIGRATIONS, 2).close()
    with pytest.raises(RuntimeError, match="schema version 2 is newer than this wifimon knows"):
        open_database(path, MIGRATIONS, 1)
