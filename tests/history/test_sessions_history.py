"""Associated clients, portal sessions and those not logged in, kept per hour and reported."""

from __future__ import annotations

from pathlib import Path

from tests.history.test_timeline import INTERVAL, at, titik
from wifimon.history.report import Period, build
from wifimon.history.store import HistoryStore
from wifimon.history.writer import Pending


def test_a_portal_titik_reports_its_sessions_beside_its_associated_clients(
    tmp_path: Path,
) -> None:
    store = HistoryStore(tmp_path)
    pending = Pending(INTERVAL, 2.5 * INTERVAL)
    run_id = store.start_run(at(1, 8))
    for minute in range(120):  # two hours, a poll a minute
        t = at(1, 8) + minute * INTERVAL
        sessions = 30 if minute < 60 else 40
        counts = {"associated": 45, "sessions": sessions, "not_logged_in": 45 - sessions}
        pending.poll("A", t, "up", sessions, 50, counts)  # users_from: sessions
        pending.poll("B", t, "up", 12, 50)  # no session source
    store.write(pending.take(run_id, at(1, 10), final=True))
    report = build([(store, [titik("A"), titik("B")])], [], Period.month("2026-11"),
                   by="hotspot", now=at(1, 10))  # fmt: skip
    a, b = report.rows
    assert (a["avg_users"], a["avg_sessions"], a["avg_associated"], a["avg_not_logged_in"]) == (
        35.0, 35.0, 45.0, 10.0,
    )  # fmt: skip
    assert (b["avg_users"], b["avg_sessions"], b["avg_associated"]) == (12.0, None, None)
    total = report.total
    assert total is not None and total["avg_sessions"] == 35.0  # only titik that count sessions
