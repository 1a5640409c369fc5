"""Vendor profiles against real firmware recordings (../shared/devices), replayed by snmpsim.

Expected figures are the ones listed in that folder's README.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import SHARED_DEVICES, RunningAgent
from wifimon.poller import poll_ap
from wifimon.snmp.profiles import load_profiles
from wifimon.snmp.pysnmp_client import PysnmpClient

PROFILES = load_profiles()

# recording: (profile auto-detected, clients_total, uptime known, min interfaces, radios)
# The last six are the LibreNMS test-data recordings: their client counts as that README
# gives them (a controller or vendor whose count LibreNMS reads as one figure).
EXPECTED = {
    "routeros": ("mikrotik", 11, True, 12, {"wlan1": 7, "wlan4": 4}),
    "unifi": ("unifi", 4, True, 0, None),
    "airos": ("airos", 22, True, 0, None),
    "ruckuswireless": ("ruckus-zonedirector", 11, True, 0, None),
    "aruba-instant": ("aruba-instant", 0, True, 1, None),
    "ciscoair": ("cisco-aironet", 0, True, 1, None),
    "tplink_eap": ("tplink-eap", 9, False, 0, None),
    "openwrt": ("openwrt", 3, True, 1, {"wlan0": 2, "wlan1": 1}),
    "epmp": ("cambium-epmp", 1, True, 2, None),
    "fortigate_60f": ("fortigate", 0, True, 1, None),
    "pmp": ("cambium-pmp", 34, True, 1, None),
    "arubaos_vmc": ("aruba-controller", 0, True, 1, None),
    "hiveos-wireless_650ax": ("hiveos", 0, True, 1, None),
    "fortiap_fap231g": ("fortiap", 0, False, 0, None),
    "albentiaaos_axs-bs-452-n": ("albentia", 6, False, 0, None),
}


def test_every_shared_recording_is_checked() -> None:
    """A recording added to ../shared/devices without an expectation here fails."""
    if not SHARED_DEVICES.is_dir():
        pytest.skip(f"{SHARED_DEVICES} not present: real-device recordings come from shared/")
    assert {p.stem for p in SHARED_DEVICES.glob("*.snmprec")} == set(EXPECTED)


@pytest.fixture
async def client():
    c = PysnmpClient()
    yield c
    await c.close()


@pytest.mark.parametrize("recording", sorted(EXPECTED))
async def test_device_recording(shared_agent: RunningAgent, client, recording: str) -> None:
    profile, clients, has_uptime, min_ifaces, radios = EXPECTED[recording]
    sample = await poll_ap(
        client, shared_agent.target(recording, timeout=2.0, retries=1), recording, PROFILES, "auto"
    )
    assert sample.reachable
    assert sample.detection is not None
    assert sample.profile == profile, sample.detection.reason
    assert sample.clients.total == clients
    assert (sample.uptime_seconds is not None) == has_uptime
    assert len(sample.interfaces) >= min_ifaces
    if radios is not None:
        by_radio = {r.label: r.clients for r in sample.clients.by_radio}
        assert {k: by_radio.get(k) for k in radios} == radios


async def test_ruckus_breakdown_per_wlan(shared_agent: RunningAgent, client) -> None:
    sample = await poll_ap(
        client, shared_agent.target("ruckuswireless", timeout=2.0), "zd", PROFILES, "auto"
    )
    assert sorted(r.clients for r in sample.clients.by_radio) == [0, 0, 0, 0, 0, 0, 2, 3]
    assert sample.clients.total == 11  # the controller's own total, not the WLAN sum


async def test_routeros_uptime_and_64_bit_counters(shared_agent: RunningAgent, client) -> None:
    sample = await poll_ap(
        client, shared_agent.target("routeros", timeout=2.0), "r", PROFILES, "auto"
    )
    assert sample.uptime_seconds == pytest.approx(20204.0)
    wan = next(i for i in sample.interfaces if i.name == "WAN")
    assert wan.counter_bits == 64 and wan.in_octets == 6422347895


async def test_epmp_speed_unit(shared_agent: RunningAgent, client) -> None:
    sample = await poll_ap(client, shared_agent.target("epmp", timeout=2.0), "e", PROFILES, "auto")
    assert {i.name: i.speed_mbps for i in sample.interfaces} == {
        "LAN interface 1": 1000.0,
        "WLAN interface": 220.0,
    }


async def test_cisco_hex_sysdescr_is_readable(shared_agent: RunningAgent, client) -> None:
    sample = await poll_ap(
        client, shared_agent.target("ciscoair", timeout=2.0), "c", PROFILES, "auto"
    )
    assert sample.sys_descr is not None and sample.sys_descr.startswith("Cisco IOS Software")
    assert "\r" not in sample.sys_descr and "\n" not in sample.sys_descr


@pytest.mark.parametrize("recording", sorted(EXPECTED))
def test_poll_json_shows_the_profile_and_why(
    shared_agent: RunningAgent,
    recording: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from wifimon.cli import main

    monkeypatch.setenv("WIFIMON_TEST_COMMUNITY", recording)
    argv = ["poll", "127.0.0.1", "--port", str(shared_agent.port), "--community-env",
            "WIFIMON_TEST_COMMUNITY", "--timeout", "2", "--json"]  # fmt: skip
    assert main(argv) == 0
    out, err = capsys.readouterr()
    shown = json.loads(out)
    profile, clients = EXPECTED[recording][:2]
    assert (shown["profile"], shown["clients_total"]) == (profile, clients)
    assert shown["detection"]["profile"] == profile
    assert shown["detection"]["reason"].split(":")[0] in ("sysObjectID", "sysDescr", "probe")
    assert recording not in err  # the community is never printed
