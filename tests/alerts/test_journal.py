"""The alert journal records transitions and silenced (maintenance) time for the reports."""

from __future__ import annotations

from pathlib import Path

from wifimon.alerts.journal import AlertJournal, silenced_seconds
from wifimon.daemon import Daemon
from wifimon.demo.fleet import write_fleet
from wifimon.measurements import ApSample


def test_silenced_time_is_clipped_to_the_period_and_closed_by_a_restart() -> None:
    events = [
        {"at": 100.0, "alert": "A:x", "event": "silenced", "silence": "s1", "maintenance": True},
        {"at": 400.0, "alert": "A:x", "event": "unsilenced", "silence": "s1"},
        {"at": 500.0, "alert": "A:x", "event": "silenced", "silence": "s2", "maintenance": False},
        {"at": 700.0, "alert": "*", "event": "started"},
        {"at": 800.0, "alert": "A:x", "event": "silenced", "silence": "s2", "maintenance": False},
        {"at": 900.0, "alert": "B:y", "event": "unsilenced", "silence": "s2"},
    ]
    assert silenced_seconds(events, "A:x", 0.0, 1000.0) == 300 + 200 + 200
    assert silenced_seconds(events, "A:x", 200.0, 850.0) == 200 + 200 + 50
    assert silenced_seconds(events, "A:x", 0.0, 1000.0, maintenance_only=True) == 300
    assert silenced_seconds(events, "B:y", 0.0, 1000.0) == 0


def test_the_daemon_journals_transitions_and_maintenance(tmp_path: Path) -> None:
    config = write_fleet(tmp_path, 9, "127.0.0.1:9", 60.0)
    daemon = Daemon(config)
    assert daemon.engine is not None
    daemon.state.record(ApSample(ap_id="jp-glr-02-a", timestamp=0.0, reachable=False))
    daemon.state.record(ApSample(ap_id="jp-glr-02-a", timestamp=1.0, reachable=False))
    daemon._evaluate_and_save(daemon.engine, 10.0)
    daemon._evaluate_and_save(daemon.engine, 400.0)
    daemon.silences.add({"hotspot": "jp-glr-02"}, "NOC", "ganti kabel uplink", 450.0,
                        duration="5m", maintenance=True)  # fmt: skip
    daemon._evaluate_and_save(daemon.engine, 500.0)
    daemon._evaluate_and_save(daemon.engine, 800.0)  # the window ended at 750
    journal = AlertJournal(daemon.config.data_dir)
    with journal.path.open("a") as handle:
        handle.write('{"at": 900, "alert": "TitikMa')  # a line cut short by a crash
    events = list(journal.read())
    mine = [(e["event"], e["at"]) for e in events if e["alert"] == "TitikMati:jp-glr-02"]
    assert mine[:2] == [("pending", 10.0), ("firing", 400.0)]
    assert ("silenced", 500.0) in mine and ("unsilenced", 800.0) in mine
    told = [e for e in events if e["event"] == "notify" and e["alert"] == "TitikMati:jp-glr-02"]
    assert told and told[0]["roles"] == ["rw_admin"]
    assert silenced_seconds(events, "TitikMati:jp-glr-02", 0.0, 1000.0, True) == 300.0
