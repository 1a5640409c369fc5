"""The history store: migrations from schema versions 1 and 2, retention, batches
all-or-nothing, and the alert log and silences it keeps."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from wifimon.history.store import MIGRATIONS, SCHEMA_VERSION, Batch, HistoryStore

DAY = 86_400.0


def test_a_version_1_file_is_migrated_with_its_rows(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "history.sqlite")
    db.executescript(f"BEGIN;{MIGRATIONS[0]}PRAGMA user_version=1;COMMIT;")
    db.executemany("INSERT INTO clients_minute VALUES (?, ?, ?)",
                   [("A", 600, 10), ("A", 601, 30), ("A", 660, 5)])  # fmt: skip
    db.execute("INSERT INTO status VALUES ('A', 1.0, 'up')")
    db.commit()
    db.close()
    store = HistoryStore(tmp_path)
    assert store.version == SCHEMA_VERSION == 4
    assert store.last_status() == {"A": (1.0, "up")}
    assert sorted(store.users(600 * 60, 662 * 60)) == [("A", 3, 45, 30, 0)]  # rolled up


def test_retention_keeps_what_it_must(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    run = store.start_run(0.0)
    now = 800 * DAY
    store.write(Batch(run, now, status=[("A", 10 * DAY, "down"), ("A", 20 * DAY, "up"),
                                        ("A", 790 * DAY, "down")],
                      probes=[("A", 10 * DAY, "http", True, 60.0),
                              ("A", 790 * DAY, "http", True, 70.0)],
                      minutes=[("A", int(700 * DAY // 60), 5, 50),
                               ("A", int(790 * DAY // 60), 7, 50)]))  # fmt: skip
    removed = store.retain(now, minutes_days=35, hours_days=730, events_days=730)
    assert removed["clients_minute"] == 1 and removed["probes"] == 1
    assert removed["clients_hour"] == 0  # 700 days old: within two years
    # the transition before the cut survives: it says the titik was up from day 20 on
    assert store.transitions(["A"], 780 * DAY, now)["A"] == [(20 * DAY, "up"),
                                                             (790 * DAY, "down")]  # fmt: skip


def test_a_failed_batch_writes_nothing(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    run = store.start_run(0.0)
    bad = Batch(run, 5.0, status=[("A", 1.0, "up")], probes=[("A", 2.0, "http")])  # type: ignore[list-item]
    with pytest.raises(sqlite3.Error):
        store.write(bad)
    assert store.last_status() == {}
    store.write(Batch(run, 6.0, status=[("A", 1.0, "up")]))
    assert store.last_status() == {"A": (1.0, "up")}


def test_weekly_maintenance_across_midnight_gives_its_windows_in_wib() -> None:
    from datetime import datetime

    from wifimon.alerts.silences import Silence, Weekly
    from wifimon.alerts.templates import WIB

    def at(day: int, hour: int) -> float:
        return datetime(2026, 11, day, hour, tzinfo=WIB).timestamp()

    weekly = Silence(id="w", matchers={"kelurahan": "Galur"}, author="PLN", reason="listrik",
                     maintenance=True, starts_at=at(1, 0), created_at=at(1, 0),
                     weekly=Weekly(days=["sun"], start="23:00", duration="4h"))  # fmt: skip
    # Sundays in November 2026: the 1st, 8th; a window from Sunday 23:00 to Monday 03:00
    assert weekly.windows(at(1, 0), at(10, 0)) == [(at(1, 23), at(2, 3)), (at(8, 23), at(9, 3))]
    assert weekly.windows(at(2, 1), at(2, 2)) == [(at(2, 1), at(2, 2))]  # clipped


def test_a_version_2_file_gains_the_alert_log_and_keeps_its_rows(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "history.sqlite")
    db.executescript(f"BEGIN;{MIGRATIONS[0]}{MIGRATIONS[1]}PRAGMA user_version=2;COMMIT;")
    db.execute("INSERT INTO status VALUES ('A', 1.0, 'down')")
    db.commit()
    db.close()
    store = HistoryStore(tmp_path)
    assert store.version == SCHEMA_VERSION == 4
    assert store.last_status() == {"A": (1.0, "down")}
    run = store.start_run(2.0)
    store.write(Batch(run, 3.0, alert_events=[(2.5, "TitikMati:A", "firing", "{}")],
                      deliveries=[(2.6, "TitikMati:A:1", "telegram", "-100", "sent", None,
                                   "Titik A mati")]))  # fmt: skip
    assert store.alert_events(0, 10) == [(2.5, "TitikMati:A", "firing", "{}")]
    assert store.deliveries(0, 10) == [(2.6, "TitikMati:A:1", "telegram", "-100", "sent", None,
                                        "Titik A mati")]  # fmt: skip


def test_the_alert_log_is_kept_as_long_as_events_and_silences_for_good(tmp_path: Path) -> None:
    from wifimon.alerts.silences import Silence
    from wifimon.history.writer import Pending

    store = HistoryStore(tmp_path)
    run = store.start_run(0.0)
    pending = Pending(60.0, 150.0)
    fired = {"at": 1 * DAY, "alert": "TitikMati:A", "event": "firing", "labels": {"hotspot": "A"}}
    pending.alert_events([fired, {"at": 790 * DAY, "alert": "TitikMati:A", "event": "resolved"}])
    pending.delivery(1 * DAY, "k1", "email", "rw05@example.org", "failed", "bad_address", "s")
    work = Silence(id="s1", matchers={"hotspot": "A"}, author="noc", reason="PLN",
                   maintenance=True, starts_at=DAY, ends_at=2 * DAY, created_at=DAY)  # fmt: skip
    pending.silences([work], DAY)
    pending.silences([work], 2 * DAY)  # unchanged: not written again
    batch = pending.take(run, 790 * DAY)
    assert len(batch.silences) == 1
    store.write(batch)
    assert store.alert_events(0, DAY + 1) == [
        (DAY, "TitikMati:A", "firing", '{"labels": {"hotspot": "A"}}')
    ]
    removed = store.retain(800 * DAY, minutes_days=35, hours_days=730, events_days=730)
    assert removed["alert_events"] == 1 and removed["deliveries"] == 1
    assert [e[2] for e in store.alert_events(0, 900 * DAY)] == ["resolved"]
    assert [Silence.model_validate_json(t) for t in store.silences()] == [work]
