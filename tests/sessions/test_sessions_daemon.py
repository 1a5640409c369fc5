"""Sessions in the daemon: a MikroTik gateway's hotspot users become a titik's users."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningAgent
from tests.fleet_edit import edited_fleet, titik
from wifimon.config import load as load_config
from wifimon.daemon import Daemon
from wifimon.errors import ConfigError


def fleet_with_gateway(tmp_path: Path, port: int) -> Path:
    """Titik jb-dks-02's AP is a hotspot gateway that also serves js-psm-01 (server 2)."""

    def credentials(data: dict[str, Any]) -> None:
        data["snmp_credentials"]["gw"] = {"version": "2c", "community": "community-gw"}

    def gateway(inventory: dict[str, Any]) -> None:
        duri = titik(inventory, "jb-dks-02")
        duri["access_points"][0].update(address=f"127.0.0.1:{port}", credentials="gw")
        duri["sessions"] = {"gateway": "jb-dks-02-a", "hotspot_server": "1"}
        titik(inventory, "js-psm-01")["sessions"] = {"gateway": "jb-dks-02-a",
                                                     "hotspot_server": "2"}  # fmt: skip
        cbu = titik(inventory, "jt-cbu-02")
        cbu["sessions"] = {"gateway": "jb-dks-02-a", "hotspot_server": "9"}
        cbu["users_from"] = "associated"

    return edited_fleet(tmp_path, secrets={"community-gw": "mikrotik-hotspot-gateway"},
                        config=credentials, inventory=gateway)  # fmt: skip


async def test_a_gateways_hotspot_users_are_the_users_of_the_titik_it_serves(
    tmp_path: Path, device_agent: RunningAgent
) -> None:
    daemon = Daemon(fleet_with_gateway(tmp_path, device_agent.port))
    await daemon.poll_once("jb-dks-02-a", time.time())
    view = daemon.state.hotspot_view("jb-dks-02")
    assert (view.users_from, view.clients, view.sessions, view.associated) == ("sessions", 3, 3, 17)
    assert view.not_logged_in == 14
    assert view.utilisation == 3 / 50
    other = daemon.state.hotspot_view("js-psm-01")  # its own AP not polled yet
    assert (other.clients, other.sessions, other.associated) == (2, 2, None)
    chosen = daemon.state.hotspot_view("jt-cbu-02")  # users_from: associated
    assert (chosen.users_from, chosen.sessions, chosen.clients) == ("associated", 0, None)
    body = (await daemon.metrics_body()).decode()
    assert 'wifimon_hotspot_sessions{hotspot="jb-dks-02"' in body
    assert 'wifimon_hotspot_not_logged_in_clients{hotspot="jb-dks-02"' in body
    assert 'users_from="sessions"} 1' in body
    assert "voucher-1001" not in body and "10.5.50.11" not in body


async def test_titik_without_a_session_source_never_shows_sessions(
    tmp_path: Path, device_agent: RunningAgent
) -> None:
    daemon = Daemon(fleet_with_gateway(tmp_path, device_agent.port))
    await daemon.poll_once("jb-dks-02-a", time.time())
    view = daemon.state.hotspot_view("jt-crc-01")
    assert (view.users_from, view.sessions) == ("associated", None)
    body = (await daemon.metrics_body()).decode()
    assert 'wifimon_hotspot_sessions{hotspot="jt-crc-01"' not in body


def fleet_with_pools(tmp_path: Path, port: int, duri_pool: str = "10.5.50.0/24") -> Path:
    """One hotspot server on the gateway, a client subnet per titik (a VLAN each)."""

    def credentials(data: dict[str, Any]) -> None:
        data["snmp_credentials"]["gw"] = {"version": "2c", "community": "community-gw"}

    def pools(inventory: dict[str, Any]) -> None:
        duri = titik(inventory, "jb-dks-02")
        duri["access_points"][0].update(address=f"127.0.0.1:{port}", credentials="gw")
        duri["sessions"] = {"gateway": "jb-dks-02-a", "address_pool": duri_pool}
        titik(inventory, "js-psm-01")["sessions"] = {
            "gateway": "jb-dks-02-a", "address_pool": ["10.5.60.0/26", "10.5.61.0/24"]}  # fmt: skip

    return edited_fleet(tmp_path, secrets={"community-gw": "mikrotik-hotspot-gateway"},
                        config=credentials, inventory=pools)  # fmt: skip


async def test_titik_behind_one_hotspot_server_are_told_apart_by_address_pool(
    tmp_path: Path, device_agent: RunningAgent
) -> None:
    daemon = Daemon(fleet_with_pools(tmp_path, device_agent.port))
    await daemon.poll_once("jb-dks-02-a", time.time())
    duri = daemon.state.hotspot_view("jb-dks-02")
    assert (duri.users_from, duri.sessions, duri.associated) == ("sessions", 3, 17)
    assert daemon.state.hotspot_view("js-psm-01").sessions == 2
    body = (await daemon.metrics_body()).decode()
    assert 'wifimon_hotspot_sessions{hotspot="js-psm-01"' in body
    assert "10.5.50.11" not in body and "10.5.60" not in body


async def test_a_silent_gateway_leaves_pool_titik_unknown(tmp_path: Path) -> None:
    daemon = Daemon(fleet_with_pools(tmp_path, 9))  # nothing answers on port 9
    await daemon.poll_once("jb-dks-02-a", time.time())
    assert daemon.state.hotspot_view("js-psm-01").sessions is None


def test_overlapping_pools_on_one_gateway_are_a_config_error(tmp_path: Path) -> None:
    path = fleet_with_pools(tmp_path, 9, duri_pool="10.5.60.0/24")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        "hotspot 'js-psm-01': sessions.address_pool '10.5.60.0/26' overlaps '10.5.60.0/24' "
        "of hotspot 'jb-dks-02' on gateway 'jb-dks-02-a'"
    )
