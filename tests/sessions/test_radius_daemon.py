"""`wifimon run` as an extra RADIUS accounting server: real radclient packets fill a titik.

60 logged-in users on a 50-user titik fire TitikPenuh; 20 logging out clears it; the NAS's
Accounting-On (it rebooted) closes the rest; a packet with the wrong secret changes nothing.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fleet_edit import edited_fleet, titik
from tests.test_daemon import RunningDaemon, _ready, free_tcp_port

RADCLIENT = shutil.which("radclient")
SECRET = "rahasia-nas-duri"
TITIK = "jb-dks-02"
RULES = """
evaluation_interval: 1s
rules:
  - name: TitikPenuh
    scope: hotspot
    expr: clients >= sla.capacity_users
    clear: clients < sla.capacity_users
    severity: info
    summary: "Titik {{ hotspot }} penuh: {{ clients | angka(0) }} pengguna"
"""

pytestmark = pytest.mark.skipif(RADCLIENT is None, reason="radclient (freeradius-utils) missing")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningDaemon, int]]:
    workdir = tmp_path_factory.mktemp("radius")
    listen = f"127.0.0.1:{free_tcp_port()}"
    radius_port = free_udp_port()

    def radius(data: dict[str, Any]) -> None:
        data["sessions"] = {
            "radius": {"listen": f"127.0.0.1:{radius_port}",
                       "nas": [{"address": "127.0.0.1", "secret": "radius-duri"}]},
            "refresh_seconds": 0.5,
        }  # fmt: skip
        data["probes"] = {"icmp": {"enabled": False}, "throughput": {"enabled": False}}
        data["rules"] = "penuh.yaml"

    def nas(inventory: dict[str, Any]) -> None:
        titik(inventory, TITIK)["sessions"] = {"nas_identifier": ["gw-duri-kosambi"]}

    config = edited_fleet(workdir, listen=listen, secrets={"radius-duri": SECRET},
                          config=radius, inventory=nas)  # fmt: skip
    (workdir / "penuh.yaml").write_text(RULES)
    running = RunningDaemon.spawn(config, listen, workdir / "wifimon.log")
    try:
        running.wait_for(lambda: _ready(running), what="/-/ready")
        yield running, radius_port
    finally:
        if running.process.poll() is None:
            running.process.terminate()
            running.process.wait(timeout=20)


def packets(kind: str, sessions: range, nas: str = "gw-duri-kosambi") -> str:
    """radclient input: one accounting packet per session, blank lines between."""
    return "\n".join(
        f'Acct-Status-Type = {kind}\nAcct-Session-Id = "sesi-{n:04d}"\nNAS-Identifier = "{nas}"\n'
        f'User-Name = "voucher-{n:04d}"\nCalling-Station-Id = "AA-BB-CC-00-{n // 256:02X}-'
        f'{n % 256:02X}"\nFramed-IP-Address = 10.5.50.{n % 250 + 1}\n'
        for n in sessions
    )


def radclient(
    port: int, text: str, secret: str = SECRET, wait: int = 5
) -> subprocess.CompletedProcess[str]:
    """radclient sending `text`'s packets; `wait` seconds for each answer (short where none
    is expected)."""
    assert RADCLIENT is not None
    return subprocess.run(
        [RADCLIENT, "-q", "-r", "1", "-t", str(wait), "-p", "20", f"127.0.0.1:{port}", "acct",
         secret],
        input=text, text=True, capture_output=True, timeout=60, check=False,
    )  # fmt: skip


def sessions(d: RunningDaemon) -> float | None:
    return d.value("wifimon_hotspot_sessions", hotspot=TITIK)


def penuh(d: RunningDaemon) -> float | None:
    return d.value("wifimon_alert", alertname="TitikPenuh", hotspot=TITIK, alertstate="firing")


def test_logged_in_users_fill_the_titik_and_leave_it(daemon: tuple[RunningDaemon, int]) -> None:
    d, port = daemon
    d.wait_for(lambda: sessions(d) == 0, what="0 sessions, known, before any packet")
    assert radclient(port, packets("Start", range(60))).returncode == 0
    d.wait_for(lambda: sessions(d) == 60, what="60 sessions")
    assert d.value("wifimon_hotspot_clients", hotspot=TITIK) == 60
    assert d.value("wifimon_hotspot_users_from", hotspot=TITIK, users_from="sessions") == 1
    d.wait_for(lambda: penuh(d) == 1, what="TitikPenuh firing")
    assert radclient(port, packets("Start", range(10))).returncode == 0  # retransmits
    assert radclient(port, packets("Stop", range(20))).returncode == 0
    d.wait_for(lambda: sessions(d) == 40, what="40 sessions after 20 stops")
    d.wait_for(lambda: penuh(d) is None, what="TitikPenuh cleared")
    wrong = radclient(port, packets("Stop", range(20, 40)), secret="bukan-rahasia", wait=1)
    assert wrong.returncode != 0  # never answered
    assert d.value("wifimon_radius_packets_total", result="dropped", reason="bad_authenticator")
    assert sessions(d) == 40
    on = 'Acct-Status-Type = Accounting-On\nNAS-Identifier = "gw-duri-kosambi"\n'
    assert radclient(port, on).returncode == 0
    d.wait_for(lambda: sessions(d) == 0, what="Accounting-On closes the NAS's sessions")
    log = d.log.read_text()
    assert "voucher-0001" not in log and "AA-BB-CC" not in log and SECRET not in log
    _, body = d.get("/metrics")
    assert "voucher-" not in body and "10.5.50." not in body


def test_sessions_survive_a_restart(daemon: tuple[RunningDaemon, int], tmp_path: Path) -> None:
    d, port = daemon
    assert radclient(port, packets("Start", range(100, 107))).returncode == 0
    d.wait_for(lambda: sessions(d) == 7, what="7 sessions")
    d.process.terminate()
    d.process.wait(timeout=20)
    again = RunningDaemon.spawn(d.workdir / "config.yaml", d.listen, d.log)
    d.process = again.process
    d.wait_for(lambda: _ready(d), what="/-/ready after restart")
    d.wait_for(lambda: sessions(d) == 7, what="7 sessions after the restart")
