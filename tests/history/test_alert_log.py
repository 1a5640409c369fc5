"""The alert log in the history: a real daemon's rule cycle and delivery outcomes end up in
history.sqlite and in `wifimon report alerts`; a maintenance window that has left
silences.json still counts in the uptime report."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from tests.history.test_timeline import MAINTENANCE, at, run, titik
from wifimon.alerts.templates import WIB
from wifimon.daemon import Daemon
from wifimon.demo.fleet import write_fleet
from wifimon.history.query import known_silences
from wifimon.history.report import Period, build
from wifimon.history.store import Batch, HistoryStore
from wifimon.measurements import ApSample
from wifimon.notify.outbox import Delivery


def report_alerts(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wifimon.cli", "report", "alerts", "--config", str(config), *args],
        capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def test_a_rules_cycle_and_its_deliveries_are_kept_and_reported(tmp_path: Path) -> None:
    config = write_fleet(tmp_path, 9, "127.0.0.1:9", 60.0)
    daemon = Daemon(config)
    try:
        start = datetime(2026, 10, 20, 9, 0, tzinfo=WIB).timestamp()
        for offset in (0.0, 1.0):
            daemon.state.record(ApSample(ap_id="jt-crc-04-a", timestamp=start + offset,
                                         reachable=False))  # fmt: skip
        assert daemon.engine is not None
        daemon.silences.add({"hotspot": "jp-glr-01"}, "noc", "PLN", start, duration="2h",
                            maintenance=True)  # fmt: skip
        daemon._evaluate_and_save(daemon.engine, start + 10)
        daemon._evaluate_and_save(daemon.engine, start + 400)  # TitikMati fires after 5 min
        sent = Delivery(1, "TitikMati:jt-crc-04:1", "rw_telegram", "-1001", "Titik mati",
                        "body", start + 400, 0, "pending", None, start + 400)  # fmt: skip
        daemon._count_delivery(sent, "sent", None)
        run_id = daemon.history.start_run(start)
        daemon.history.write(daemon.history_writer.pending.take(run_id, start + 500))
    finally:
        daemon.history.close()
        daemon.outbox.close()
        daemon.instance_lock.release()
    done = report_alerts(config, "--from", "2026-10-01", "--to", "2099-01-01")  # sent: today
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout.lstrip("\ufeff")), delimiter=";"))
    fired = [r for r in rows if r["alert"] == "TitikMati:jt-crc-04" and r["event"] == "firing"]
    assert fired and fired[0]["time"] == "2026-10-20 09:06:40 WIB"
    assert json.loads(fired[0]["detail"])["labels"]["kelurahan"]
    told = [r for r in rows if r["event"] == "delivery"]
    assert len(told) == 1 and told[0].pop("time").endswith(" WIB")
    assert told[0] == {"alert": "TitikMati:jt-crc-04:1", "event": "delivery",
                       "channel": "rw_telegram", "recipient": "-1001", "result": "sent",
                       "detail": '{"reason": null, "subject": "Titik mati"}'}  # fmt: skip
    store = HistoryStore(tmp_path / "data", readonly=True)
    assert [json.loads(t)["reason"] for t in store.silences()] == ["PLN"]
    store.close()
    as_json = json.loads(report_alerts(config, "--month", "2026-10", "--format", "json").stdout)
    assert as_json["period"]["start"] == "2026-10-01 00:00:00 WIB"
    assert len(as_json["entries"]) == len(rows) - 1  # all but today's delivery
    september = report_alerts(config, "--month", "2026-09")
    assert september.stdout.lstrip("\ufeff").splitlines() == [
        "time;alert;event;channel;recipient;result;detail"
    ]


def test_bad_period_and_missing_history_are_clear_errors(tmp_path: Path) -> None:
    config = write_fleet(tmp_path, 9, "127.0.0.1:9", 60.0)
    done = report_alerts(config, "--month", "2026-10")
    assert done.returncode == 2 and "no history at" in done.stderr
    done = report_alerts(config, "--from", "2026-10-02", "--to", "2026-10-01")
    assert done.returncode == 2 and "--to must be after --from" in done.stderr


def test_maintenance_known_only_to_the_history_still_counts(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    run(store, at(31, 20, month=10), at(1, 6), at(1, 6))
    run_id = store.start_run(at(1, 6))
    store.write(Batch(run_id, at(1, 6), silences=[(MAINTENANCE.id, at(1, 1),
                                                   MAINTENANCE.model_dump_json())]))  # fmt: skip
    silences = known_silences([], [store])  # silences.json lost the window
    assert silences == [MAINTENANCE]
    (a,) = build([(store, [titik("A")])], silences, Period.month("2026-11"), by="hotspot",
                 now=at(1, 6)).rows  # fmt: skip
    assert a["maintenance_seconds"] == 2 * 3600
    changed = MAINTENANCE.model_copy(update={"reason": "diperpanjang"})
    assert known_silences([changed], [store]) == [changed]  # the live version wins


def test_an_unreadable_kept_silence_is_left_out_with_a_warning(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    store = HistoryStore(tmp_path)
    run_id = store.start_run(0.0)
    store.write(Batch(run_id, 1.0, silences=[("old", 0.5, '{"id": "old", "shape": "older"}'),
                                             (MAINTENANCE.id, 0.5,
                                              MAINTENANCE.model_dump_json())]))  # fmt: skip
    assert known_silences([], [store]) == [MAINTENANCE]
    assert "a silence kept in" in caplog.text and "cannot be read" in caplog.text
