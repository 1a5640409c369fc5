"""A real daemon keeps history while it polls the simulated fleet; a SIGKILL in the middle of
its writes leaves a sound store with every committed batch; the report then shows the
offline titik down, the others up, and the time the daemon was dead as unknown."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.test_daemon import RunningDaemon, _ready, free_tcp_port, kill_all
from wifimon.demo.fleet import FLEET, write_fleet
from wifimon.demo.simulator import Simulator


def report(config: Path, *args: str) -> dict:  # type: ignore[type-arg]
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 3600))
    tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 31 * 3600))
    result = subprocess.run(
        [sys.executable, "-m", "wifimon.cli", "report", "uptime", "--config", str(config),
         "--from", day, "--to", tomorrow, "--format", "json", *args],
        capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_history_through_sigkill_and_the_report_it_gives(tmp_path: Path) -> None:
    simulator = Simulator(tmp_path / "recordings")
    listen = f"127.0.0.1:{free_tcp_port()}"
    config = write_fleet(tmp_path, simulator.port, listen, 2.0)
    data = yaml.safe_load(config.read_text())
    data["history"] = {"batch_seconds": 0.5}
    config.write_text(yaml.safe_dump(data))
    store = tmp_path / data["daemon"]["data_dir"] / "history.sqlite"
    loop = asyncio.new_event_loop()
    loop.run_until_complete(simulator.start(f"komunitas-{FLEET[0].aps[0].id}"))
    log = tmp_path / "wifimon.log"
    first = RunningDaemon.spawn(config, listen, log)
    second = None

    def rows(query: str) -> list[tuple]:  # type: ignore[type-arg]
        with sqlite3.connect(store) as db:
            return db.execute(query).fetchall()

    try:
        down = "SELECT COUNT(*) FROM status WHERE hotspot = 'jt-crc-04' AND status = 'down'"
        first.wait_for(lambda: store.exists() and rows(down)[0][0] == 1, timeout=60,
                       what="the offline titik recorded down")  # fmt: skip
        time.sleep(2)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        killed_at = time.time()
        assert rows("PRAGMA integrity_check") == [("ok",)]
        committed = rows("SELECT COUNT(*) FROM status")[0][0]
        time.sleep(4)  # dead: nobody is monitoring
        second = RunningDaemon.spawn(config, listen, log)
        second.wait_for(lambda: _ready(second), what="/-/ready")
        time.sleep(6)
        second.process.send_signal(signal.SIGTERM)
        assert second.process.wait(timeout=15) == 0
    finally:
        kill_all(first, second)
        loop.run_until_complete(simulator.stop())
        loop.close()
    assert rows("SELECT COUNT(*) FROM status")[0][0] >= committed  # nothing committed lost
    (run1, run2) = rows("SELECT started_at, seen_at FROM runs ORDER BY id")
    assert run1[1] <= killed_at and run2[0] - run1[1] >= 4
    # a restart is no new "up" for a titik that stayed up (the offline one is honestly
    # unknown again until its first polls fail)
    repeated = rows("SELECT hotspot, status, COUNT(*) FROM status WHERE status = 'up' "
                    "GROUP BY hotspot HAVING COUNT(*) > 1")  # fmt: skip
    assert repeated == []
    by_titik = {r["group"]: r for r in report(config, "--by", "hotspot")["rows"]}
    offline, healthy = by_titik["jt-crc-04"], by_titik["jp-glr-01"]
    assert offline["availability_percent"] == 0.0 and offline["downtime_seconds"] > 0
    assert offline["outages"] >= 1
    assert healthy["availability_percent"] == 100.0 and healthy["outages"] == 0
    assert healthy["unknown_seconds"] >= 4  # the time the daemon was dead
    assert healthy["avg_users"] is not None and healthy["peak_users"] is not None
    kelurahan = report(config, "--by", "kelurahan", "--provider", "JakWifi Mitra A")
    assert kelurahan["filters"] == {"provider": "JakWifi Mitra A"}
    assert {r["group"] for r in kelurahan["rows"]} <= {h.kelurahan for h in FLEET}
