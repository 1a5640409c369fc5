"""The wifimon command as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, RunningAgent

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    **os.environ,
    "WIFIMON_COMMUNITY": "rahasia-sekali",
    "WIFIMON_V3_AUTH": "aaaaaaaaaa",
    "WIFIMON_V3_PRIV": "pppppppppp",
}


def wifimon(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wifimon.cli", *args],
        capture_output=True,
        text=True,
        env=env or ENV,
        timeout=60,
        cwd=ROOT,
    )


def test_check_config_prints_a_summary() -> None:
    result = wifimon("check-config", "--config", "config/wifimon.yaml")
    assert result.returncode == 0, result.stderr
    assert "hotspots: 4" in result.stdout
    assert "access points: 5" in result.stdout
    assert "kelurahan: 3" in result.stdout
    assert "auto=3, tplink-eap=1, unifi=1" in result.stdout
    assert "rahasia-sekali" not in result.stdout + result.stderr


def test_check_config_error_exits_2_with_location() -> None:
    case = FIXTURES / "config_errors" / "unknown_key"
    result = wifimon(
        "check-config",
        "--config",
        str(case / "config.yaml"),
        env={**ENV, "WIFIMON_TEST_COMMUNITY": "x"},
    )
    assert result.returncode == 2
    assert f"{case}/config.yaml:6: polling.intervall_seconds: unknown key" in result.stderr


def test_poll_json(agent: RunningAgent, tmp_path: Path) -> None:
    secret = tmp_path / "community"
    secret.write_text("mikrotik-t0\n")
    result = wifimon(
        "poll", "127.0.0.1", "--port", str(agent.port), "--community-file", str(secret), "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["profile"] == "mikrotik"
    assert data["sys_name"] == "rptra-test"
    assert data["uptime_seconds"] == 3600.0
    assert data["clients_total"] == 12
    assert data["clients_by_radio"] == [{"label": "wlan1", "kind": "radio", "clients": 12}]
    assert {i["name"] for i in data["interfaces"]} == {"ether1", "wlan1"}
    assert set(data["interfaces"][0]) >= {
        "name",
        "oper_up",
        "speed_mbps",
        "in_octets",
        "out_octets",
    }
    assert data["errors"] == []
    assert "mikrotik-t0" not in result.stderr


def test_poll_unknown_clients_is_null(agent: RunningAgent) -> None:
    result = wifimon(
        "poll",
        "127.0.0.1",
        "--port",
        str(agent.port),
        "--community-env",
        "C",
        "--json",
        env={**ENV, "C": "no-clients"},
    )
    data = json.loads(result.stdout)
    assert result.returncode == 0
    assert data["clients_total"] is None
    assert data["errors"][0]["reason"] == "noSuchObject"


def test_poll_no_answer_exits_nonzero_with_one_line(agent: RunningAgent) -> None:
    result = wifimon(
        "poll",
        "127.0.0.1",
        "--port",
        str(agent.port),
        "--community-env",
        "C",
        "--timeout",
        "0.3",
        "--retries",
        "0",
        env={**ENV, "C": "wrong"},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"wifimon: 127.0.0.1:{agent.port} v2c: no answer"]


def test_poll_snmpv3(agent: RunningAgent) -> None:
    from tests.conftest import V3_AUTH_KEY, V3_PRIV_KEY, V3_USER

    result = wifimon(
        "poll",
        "127.0.0.1",
        "--port",
        str(agent.port),
        "--version",
        "3",
        "--user",
        V3_USER,
        "--auth-protocol",
        "SHA256",
        "--auth-key-env",
        "A",
        "--priv-protocol",
        "AES",
        "--priv-key-env",
        "P",
        "--context",
        "mikrotik-t0",
        "--json",
        env={**ENV, "A": V3_AUTH_KEY, "P": V3_PRIV_KEY},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["clients_total"] == 12


def test_inventory_import_csv_to_yaml_and_export_back(tmp_path: Path) -> None:
    out = tmp_path / "inventory.yaml"
    result = wifimon(
        "inventory",
        "import",
        "config/inventory.csv",
        "-o",
        str(out),
        "--config",
        "config/wifimon.yaml",
    )
    assert result.returncode == 0, result.stderr
    assert "wrote 2 hotspots, 2 access points" in result.stderr
    assert "latitude: -6.003" in out.read_text()
    exported = wifimon(
        "inventory",
        "export",
        "--config",
        "config/wifimon.yaml",
        "--format",
        "csv",
        "--delimiter",
        ";",
    )
    assert exported.returncode == 0
    lines = exported.stdout.splitlines()
    assert lines[0].startswith("hotspot_id;name;kota")
    assert len(lines) == 1 + 5


def test_inventory_import_error_names_the_row(tmp_path: Path) -> None:
    bad = tmp_path / "titik.csv"
    bad.write_text(
        Path(ROOT / "config" / "inventory.csv").read_text().replace("10.60.2.2", "10.60.2.999")
    )
    result = wifimon("inventory", "import", str(bad))
    assert result.returncode == 2
    assert (
        f"{bad}: row 3: column ap_address: '10.60.2.999' is not an IPv4 or IPv6 address"
        in result.stderr
    )


def test_demo_runs_and_shows_the_status_table() -> None:
    from tests.test_daemon import free_tcp_port

    result = wifimon(
        "demo", "--interval", "2", "--duration", "6", "--listen", f"127.0.0.1:{free_tcp_port()}"
    )
    assert result.returncode == 0, result.stderr
    assert "/metrics" in result.stderr
    table = result.stdout.split("\n\n")[-2]
    rows = [line for line in table.splitlines() if line.startswith(("jt-", "jp-", "cg-"))]
    assert len(rows) >= 10
    assert any("Cipinang Besar Utara" in r and "hidup" in r for r in rows)
    assert any("Citangkil" in r for r in rows)
    reported = result.stderr.split("uptime report of this run: ")[1].split(" and .pdf")[0]
    page = Path(reported).read_text(encoding="utf-8")
    assert "jt-crc-04" in page and "Laporan ketersediaan" in page
    assert Path(reported).with_suffix(".pdf").read_bytes().startswith(b"%PDF-")
    shutil.rmtree(Path(reported).parent)


def test_poll_counts_a_gateways_sessions_per_address_pool(
    device_agent: RunningAgent, tmp_path: Path
) -> None:
    secret = tmp_path / "community"
    secret.write_text("mikrotik-hotspot-gateway\n")
    result = wifimon("poll", "127.0.0.1", "--port", str(device_agent.port), "--community-file",
                     str(secret), "--address-pool", "10.5.50.0/24", "--address-pool",
                     "10.5.60.0/24", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["sessions"] == {"1": 3, "2": 2}
    assert data["sessions_by_pool"] == {"10.5.50.0/24": 3, "10.5.60.0/24": 2}
    assert "10.5.50.11" not in result.stdout


def test_poll_refuses_an_address_pool_that_is_no_subnet(tmp_path: Path) -> None:
    result = wifimon("poll", "127.0.0.1", "--address-pool", "10.5.50.1/24")
    assert result.returncode == 2
    assert "argument --address-pool: 10.5.50.1/24 has host bits set" in result.stderr
