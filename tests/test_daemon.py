"""`wifimon run` as a real process against the simulated fleet: metrics, reload, signals."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from wifimon.api_auth import hash_token
from wifimon.demo.fleet import FLEET, write_fleet
from wifimon.demo.simulator import Simulator

INTERVAL = 2.0
RELOADER = "reload-token-for-tests"


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningDaemon:
    def __init__(
        self, workdir: Path, listen: str, process: subprocess.Popen[bytes], log: Path
    ) -> None:
        self.workdir, self.listen, self.process, self.log = workdir, listen, process, log

    @classmethod
    def spawn(
        cls, config: Path, listen: str, log: Path, *run_args: str, log_level: str = "info"
    ) -> RunningDaemon:
        """`wifimon run` on `config` as a real process, its output appended to `log`."""
        with log.open("ab") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "wifimon.cli",
                    "--log-level",
                    log_level,
                    "run",
                    "--config",
                    str(config),
                    "--listen",
                    listen,
                    *run_args,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return cls(config.parent, listen, process, log)

    def url(self, path: str) -> str:
        return f"http://{self.listen}{path}"

    def get(self, path: str) -> tuple[int, str]:
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(self.url(path), timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post(self, path: str, token: str | None = None) -> tuple[int, str]:
        import urllib.error
        import urllib.request

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = urllib.request.Request(self.url(path), method="POST", data=b"", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def samples(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample of one scrape keyed by (name, sorted labels)."""
        _, body = self.get("/metrics")
        result = {}
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                result[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return result

    def value(self, name: str, **labels: str) -> float | None:
        wanted = set(labels.items())
        for (sample_name, sample_labels), value in self.samples().items():
            if sample_name == name and wanted <= set(sample_labels):
                return value
        return None

    def wait_for(self, predicate, timeout: float = 30.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.3)
        raise AssertionError(f"timed out waiting for {what}; log:\n{self.log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDaemon]:
    workdir = tmp_path_factory.mktemp("fleet")
    listen = f"127.0.0.1:{free_tcp_port()}"
    simulator = Simulator(workdir / "recordings")
    config = write_fleet(workdir, simulator.port, listen, INTERVAL)
    settings = yaml.safe_load(config.read_text())  # a NOC token: POST /-/reload needs one
    settings["api"] = {"tokens": [{"name": "noc", "role": "noc", "sha256": hash_token(RELOADER)}]}
    config.write_text(yaml.safe_dump(settings))
    loop = asyncio.new_event_loop()
    loop.run_until_complete(simulator.start(f"komunitas-{FLEET[0].aps[0].id}"))
    running = RunningDaemon.spawn(config, listen, workdir / "wifimon.log", log_level="debug")
    process = running.process
    try:
        running.wait_for(lambda: _ready(running), what="/-/ready")
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        loop.run_until_complete(simulator.stop())
        loop.close()


def _ready(d: RunningDaemon) -> bool:
    try:
        return d.get("/-/ready")[0] == 200
    except OSError:
        return False


def _uplink_bps(d: RunningDaemon, ap: str) -> float | None:
    return d.value("wifimon_interface_receive_bits_per_second", ap=ap, role="uplink")


def test_health_endpoints(daemon: RunningDaemon) -> None:
    assert daemon.get("/-/healthy")[0] == 200
    assert daemon.get("/-/ready")[0] == 200


def test_clients_and_rates_for_several_vendors(daemon: RunningDaemon) -> None:
    expected_uplink = {
        ap.id: ap.uplink_mbps
        for h in FLEET
        for ap in h.aps
        if ap.vendor != "tplink-eap" and not ap.offline
    }
    daemon.wait_for(
        lambda: all(_uplink_bps(daemon, ap) for ap in expected_uplink),
        what="uplink rates of every AP",
    )
    for ap, mbps in expected_uplink.items():
        measured = _uplink_bps(daemon, ap)
        assert measured == pytest.approx(mbps * 1e6, rel=0.15), ap
    for hotspot in FLEET:
        for ap in hotspot.aps:
            if ap.offline:
                assert daemon.value("wifimon_ap_clients", ap=ap.id) is None
                continue
            clients = daemon.value("wifimon_ap_clients", ap=ap.id)
            assert clients is not None, ap.id
            assert 0 <= clients <= 2 * ap.clients_base + 10, ap.id
    profiles = {
        labels: v for (name, labels), v in daemon.samples().items() if name == "wifimon_ap_info"
    }
    seen = {dict(labels)["profile"] for labels in profiles}
    assert {"mikrotik", "unifi", "openwrt", "tplink-eap", "cambium-epmp"} <= seen


def test_counters_grow_between_scrapes(daemon: RunningDaemon) -> None:
    ap = "jt-cbu-03-a"  # OpenWrt with 32-bit counters near their wrap
    daemon.wait_for(
        lambda: daemon.value("wifimon_interface_receive_bytes_total", ap=ap, role="uplink"),
        what="byte counter",
    )
    first = daemon.value("wifimon_interface_receive_bytes_total", ap=ap, role="uplink")
    time.sleep(INTERVAL * 1.6)
    second = daemon.value("wifimon_interface_receive_bytes_total", ap=ap, role="uplink")
    assert first is not None and second is not None and second > first


def test_hotspot_series_carry_the_hierarchy(daemon: RunningDaemon) -> None:
    info = daemon.value(
        "wifimon_hotspot_info",
        hotspot="jp-glr-01",
        kelurahan="Galur",
        kecamatan="Johar Baru",
        kota="Jakarta Pusat",
    )
    assert info == 1
    assert daemon.value("wifimon_hotspot_up", hotspot="jp-glr-01") == 1
    daemon.wait_for(
        lambda: daemon.value("wifimon_hotspot_up", hotspot="jt-crc-04") == 0,
        what="the offline titik to be down",
    )
    assert daemon.value("wifimon_ap_poll_errors_total", ap="jt-crc-04-a", reason="timeout") >= 2
    assert daemon.value("wifimon_hotspot_capacity_users", hotspot="jp-glr-01") == 50
    assert daemon.value("wifimon_poll_duration_seconds_count", result="success") > 0
    assert daemon.value("wifimon_scheduler_lag_seconds_count") > 0
    assert daemon.value("wifimon_polls_total", result="success") > 0


def test_reachability_probes_run_in_the_daemon(daemon: RunningDaemon) -> None:
    daemon.wait_for(
        lambda: daemon.value("wifimon_probe_reachable", hotspot="jp-glr-01") is not None,
        timeout=20,
        what="an ICMP probe result",
    )
    assert daemon.value("wifimon_probe_reachable", hotspot="jp-glr-01") == 1
    assert daemon.value("wifimon_probe_loss_ratio", hotspot="jp-glr-01") == 0
    assert daemon.value("wifimon_probe_rtt_avg_seconds", hotspot="jp-glr-01") < 0.1


def test_rules_engine_raises_alerts_for_the_offline_titik(daemon: RunningDaemon) -> None:
    daemon.wait_for(
        lambda: (
            daemon.value("wifimon_alert", alertname="TitikMati", hotspot="jt-crc-04") is not None
        ),
        timeout=40,
        what="a TitikMati alert",
    )
    assert (
        daemon.value(
            "wifimon_alert",
            alertname="TitikMati",
            hotspot="jt-crc-04",
            alertstate="pending",
            kelurahan="Ciracas",
        )
        == 1
    )
    assert daemon.value("wifimon_alerts", alertname="TitikMati", state="pending") == 1
    assert daemon.value("wifimon_alert", alertname="ApMati", ap="jt-crc-04-a") == 1
    assert daemon.value("wifimon_alert", alertname="TitikMati", hotspot="jp-glr-01") is None
    assert "alert alertname=TitikMati state=pending hotspot=jt-crc-04" in daemon.log.read_text()


def test_secrets_stay_out_of_metrics_and_logs(daemon: RunningDaemon) -> None:
    _, body = daemon.get("/metrics")
    assert "komunitas-" not in body
    assert "komunitas-" not in daemon.log.read_text()


def test_reload_adds_removes_and_keeps(daemon: RunningDaemon) -> None:
    inventory_path = daemon.workdir / "inventory.yaml"
    original = inventory_path.read_text()
    data = yaml.safe_load(original)
    kept_ap = "jt-cbu-01-a"
    before = daemon.value("wifimon_interface_receive_bytes_total", ap=kept_ap, role="uplink")
    data["hotspots"] = [h for h in data["hotspots"] if h["id"] != "jp-glr-02"]
    galur = next(h for h in data["hotspots"] if h["id"] == "jp-glr-01")
    galur["access_points"].append(
        {
            "id": "jp-glr-01-c",
            "address": galur["access_points"][0]["address"],
            "credentials": "jp-glr-01-a",
        }
    )
    inventory_path.write_text(yaml.safe_dump(data, allow_unicode=True))
    try:
        status, text = daemon.post("/-/reload", RELOADER)
        assert status == 200, text
        daemon.wait_for(
            lambda: daemon.value("wifimon_ap_up", ap="jp-glr-01-c") == 1,
            what="the added AP to be polled",
        )
        assert daemon.value("wifimon_ap_up", ap="jp-glr-02-a") is None
        assert daemon.value("wifimon_hotspot_info", hotspot="jp-glr-02") is None
        after = daemon.value("wifimon_interface_receive_bytes_total", ap=kept_ap, role="uplink")
        assert before is not None and after is not None and after >= before
        assert daemon.value("wifimon_config_last_reload_successful") == 1
    finally:
        inventory_path.write_text(original)
        assert daemon.post("/-/reload", RELOADER)[0] == 200


def test_bad_reload_is_refused_and_the_old_config_keeps_running(daemon: RunningDaemon) -> None:
    inventory_path = daemon.workdir / "inventory.yaml"
    original = inventory_path.read_text()
    inventory_path.write_text(original.replace("latitude: -6.1808", "latitude: utara", 1))
    try:
        status, text = daemon.post("/-/reload", RELOADER)
        assert status == 400
        assert "inventory.yaml" in text and "latitude" in text
        assert daemon.value("wifimon_config_last_reload_successful") == 0
        seen = daemon.value("wifimon_ap_last_success_timestamp_seconds", ap="jp-glr-01-a")
        daemon.wait_for(
            lambda: (
                (daemon.value("wifimon_ap_last_success_timestamp_seconds", ap="jp-glr-01-a") or 0)
                > (seen or 0)
            ),
            what="polling to go on with the old config",
        )
        assert "config reload refused" in daemon.log.read_text()
    finally:
        inventory_path.write_text(original)
    os.kill(daemon.process.pid, signal.SIGHUP)
    daemon.wait_for(
        lambda: daemon.value("wifimon_config_last_reload_successful") == 1, what="SIGHUP reload"
    )


def test_sigterm_stops_within_seconds(daemon: RunningDaemon) -> None:
    started = time.monotonic()
    daemon.process.send_signal(signal.SIGTERM)
    assert daemon.process.wait(timeout=10) == 0
    assert time.monotonic() - started < 6
    assert "stopped" in daemon.log.read_text()


def test_alerts_survive_sigkill(tmp_path: Path) -> None:
    """A daemon killed with SIGKILL while an alert is pending restarts with the same alert and
    the same timer: it neither forgets the alert nor starts its `for` again."""
    simulator = Simulator(tmp_path / "recordings")
    listen = f"127.0.0.1:{free_tcp_port()}"
    config = write_fleet(tmp_path, simulator.port, listen, 2.0)
    rules = yaml.safe_load((tmp_path / "rules.yaml").read_text())
    rules["evaluation_interval"] = "2s"
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    loop = asyncio.new_event_loop()
    loop.run_until_complete(simulator.start(f"komunitas-{FLEET[0].aps[0].id}"))

    def start() -> RunningDaemon:
        d = RunningDaemon.spawn(config, listen, tmp_path / "wifimon.log")
        d.wait_for(lambda: _ready(d), what="/-/ready")
        return d

    def since(d: RunningDaemon) -> float | None:
        return d.value(
            "wifimon_alert_since_timestamp_seconds", alertname="TitikMati", hotspot="jt-crc-04"
        )

    first = start()
    try:
        first.wait_for(lambda: since(first) is not None, timeout=40, what="a pending alert")
        before = since(first)
        first.wait_for(lambda: (tmp_path / "data" / "alerts.json").exists(), what="saved state")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        second = start()
        try:
            assert since(second) == before  # restored before any new evaluation ran
            time.sleep(5)
            assert since(second) == before  # and the timer was not restarted
            assert "alerts restored count=" in second.log.read_text()
        finally:
            second.process.terminate()
            second.process.wait(timeout=10)
    finally:
        if first.process.poll() is None:
            first.process.kill()
        loop.run_until_complete(simulator.stop())
        loop.close()


def test_acknowledged_alert_survives_sigkill_and_nobody_is_told_twice(tmp_path: Path) -> None:
    """The RW admin is told once; an acknowledgement from the CLI stops the escalation to the
    NOC, also after a SIGKILL and a restart."""
    simulator = Simulator(tmp_path / "recordings")
    listen = f"127.0.0.1:{free_tcp_port()}"
    config = write_fleet(tmp_path, simulator.port, listen, 2.0)
    rules = yaml.safe_load((tmp_path / "rules.yaml").read_text())
    rules["evaluation_interval"] = "2s"
    for rule in rules["rules"]:
        rule["for"] = "0s"
    route = {"match": {"alertname": "TitikMati"}, "notify": ["rw_admin"],
             "escalate": [{"after": "20s", "notify": ["noc"]}]}  # fmt: skip
    rules["routing"] = {"routes": [route]}
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    log = tmp_path / "wifimon.log"
    loop = asyncio.new_event_loop()
    loop.run_until_complete(simulator.start(f"komunitas-{FLEET[0].aps[0].id}"))
    told = "notify alert=TitikMati:jt-crc-04 kind=firing roles=rw_admin"
    first = RunningDaemon.spawn(config, listen, log)
    second = None
    try:
        first.wait_for(lambda: told in log.read_text(), timeout=40, what="the RW admin told")
        alerts = tmp_path / "data" / "alerts.json"
        first.wait_for(lambda: '"roles": ["rw_admin"]' in alerts.read_text(), what="told saved")
        listed = wifimon_cli("alert", "list", "--config", str(config))
        assert "TitikMati:jt-crc-04 firing since" in listed.stdout, listed.stderr
        comment = "listrik padam, PLN dihubungi"
        acked = wifimon_cli("alert", "ack", "TitikMati:jt-crc-04", "--by", "Pak Joko (RW 04)",
                            "--comment", comment, "--config", str(config))  # fmt: skip
        assert acked.returncode == 0, acked.stderr
        assert "acknowledged by Pak Joko (RW 04)" in acked.stdout
        refused = wifimon_cli("alert", "ack", "TitikMati:jp-glr-01", "--by", "x",
                              "--config", str(config))  # fmt: skip
        assert refused.returncode != 0
        assert "no firing alert 'TitikMati:jp-glr-01'" in refused.stderr
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        mark = len(log.read_text())
        second = RunningDaemon.spawn(config, listen, log)
        second.wait_for(lambda: _ready(second), what="/-/ready")
        time.sleep(25)  # past the 20 s escalation
        after = log.read_text()[mark:]
        assert "notify alert=TitikMati:jt-crc-04" not in after, after
        assert "[ack Pak Joko (RW 04)]" in wifimon_cli("alert", "list", "--config",
                                                      str(config)).stdout  # fmt: skip
    finally:
        kill_all(first, second)
        loop.run_until_complete(simulator.stop())
        loop.close()


def kill_all(*daemons: RunningDaemon | None) -> None:
    """Whatever a test left running is killed and reaped."""
    for d in daemons:
        if d is not None and d.process.poll() is None:
            d.process.kill()
            d.process.wait(timeout=10)


def wifimon_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wifimon.cli", *args], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
