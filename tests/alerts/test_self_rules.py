"""Rules about wifimon itself: a lagging or stalled scheduler raises PemantauanTertinggal."""

from __future__ import annotations

from pathlib import Path

from wifimon.alerts.lifecycle import AlertState
from wifimon.daemon import Daemon
from wifimon.demo.fleet import write_fleet


def state_of(daemon: Daemon) -> AlertState | None:
    assert daemon.engine is not None
    active = daemon.engine.alerts.get(("PemantauanTertinggal", "wifimon"))
    return active.alert.state if active else None


def test_stalled_polling_raises_and_clears(tmp_path: Path) -> None:
    daemon = Daemon(write_fleet(tmp_path, 9, "127.0.0.1:9", 60.0))
    assert daemon.engine is not None
    daemon._last_poll_at = 0.0
    daemon._evaluate_and_save(daemon.engine, 100.0)
    assert state_of(daemon) is None  # polled 100 s ago: fine
    daemon._evaluate_and_save(daemon.engine, 400.0)
    assert state_of(daemon) == AlertState.PENDING  # no poll for over 5 minutes
    daemon._evaluate_and_save(daemon.engine, 700.0)
    assert state_of(daemon) == AlertState.FIRING
    summary = daemon.engine.alerts[("PemantauanTertinggal", "wifimon")].annotations["summary"]
    assert summary == "wifimon tertinggal: poll terlambat 0 detik, poll terakhir 700 detik lalu"
    daemon._last_poll_at = 690.0
    daemon._lag_max = 40.0  # polls run again, but late
    daemon._evaluate_and_save(daemon.engine, 710.0)
    assert state_of(daemon) == AlertState.FIRING
    daemon._last_poll_at = 715.0
    daemon._evaluate_and_save(daemon.engine, 720.0)
    assert state_of(daemon) == AlertState.RESOLVED
