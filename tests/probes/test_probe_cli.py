"""`wifimon probe` as a user runs it."""

from __future__ import annotations

import json
import os

from tests.netsite import SPEEDTEST_PORT, site
from tests.test_cli import wifimon


def test_icmp_probe_json_fields() -> None:
    result = wifimon("probe", "--host", "127.0.0.1", "--kind", "icmp", "--count", "3", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] in ("icmp", "tcp") and data["target"] == "127.0.0.1"
    assert data["ok"] is True and data["error"] is None
    assert data["loss_ratio"] == 0.0
    for key in ("rtt_avg_seconds", "rtt_max_seconds", "jitter_seconds"):
        assert isinstance(data[key], float)


def test_http_probe_json_and_text() -> None:
    with site(26, rate_mbit=40) as s:
        s.start_speedtest_server()
        url = f"http://{s.address}:{SPEEDTEST_PORT}/download"
        as_json = wifimon(
            "probe",
            "--url",
            url,
            "--kind",
            "http",
            "--warmup",
            "0.5",
            "--duration",
            "1.5",
            "--json",
        )
        as_text = wifimon("probe", "--url", url, "--warmup", "0.5", "--duration", "1")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["kind"] == "http" and data["ok"] is True
    assert 34 < data["download_mbps"] < 44
    assert data["download_mbps_p10"] <= data["download_mbps"]
    assert data["bytes"] > 0 and data["duration_seconds"] < 5
    assert "download:" in as_text.stdout and "Mbps" in as_text.stdout


def test_failed_probe_exits_1_with_the_reason() -> None:
    with site(27) as s:
        result = wifimon(
            "probe", "--url", f"http://{s.address}:9/download", "--duration", "1", "--warmup", "0"
        )
    assert result.returncode == 1
    assert result.stderr.strip().endswith("connection refused")


def test_probe_without_a_target_is_a_usage_error() -> None:
    result = wifimon("probe")
    assert result.returncode == 2
    assert "give a HOTSPOT_ID with --config, or --url, or --host" in result.stderr


def test_probe_a_configured_titik(tmp_path) -> None:
    from tests.probes.test_runner import write_config

    with site(28, rate_mbit=40) as s:
        s.start_speedtest_server()
        config = write_config(tmp_path, {"cg-ctk-09": s.address})
        env = {**os.environ, "C": "x"}
        ping = wifimon(
            "probe",
            "cg-ctk-09",
            "--config",
            str(config),
            "--kind",
            "icmp",
            "--count",
            "2",
            "--json",
            env=env,
        )
        http = wifimon("probe", "cg-ctk-09", "--config", str(config), "--json", env=env)
        unknown = wifimon("probe", "cg-ctk-00", "--config", str(config), env=env)
    assert json.loads(ping.stdout)["target"] == s.address
    assert json.loads(ping.stdout)["loss_ratio"] == 0.0
    data = json.loads(http.stdout)
    assert data["kind"] == "http" and 34 < data["download_mbps"] < 44
    assert unknown.returncode == 2 and "no hotspot 'cg-ctk-00' in the inventory" in unknown.stderr
