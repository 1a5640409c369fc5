"""A whole poll: detection, partial failures and timeouts, against the fake and real agents."""

from __future__ import annotations

import time

from tests.conftest import FIXTURES, RECORDINGS, RunningAgent
from wifimon.measurements import ApSample
from wifimon.poller import poll_ap
from wifimon.snmp.fake import FakeSnmpClient
from wifimon.snmp.profiles import ProfileSet, load_profiles
from wifimon.snmp.pysnmp_client import PysnmpClient
from wifimon.snmp.types import SnmpTarget

PROFILES = load_profiles()
TARGET = SnmpTarget("192.0.2.1")


async def test_auto_detects_and_reads_a_mikrotik() -> None:
    client = FakeSnmpClient.from_file(RECORDINGS / "mikrotik-t0.snmprec")
    sample = await poll_ap(client, TARGET, "ap1", PROFILES, "auto")
    assert sample.reachable and sample.profile == "mikrotik"
    assert sample.uptime_seconds == 3600.0
    assert sample.clients.total == 12
    assert sample.issues == []


async def test_known_profile_skips_detection() -> None:
    client = FakeSnmpClient.from_file(RECORDINGS / "mikrotik-t0.snmprec")
    await poll_ap(client, TARGET, "ap1", PROFILES, "auto", known_profile="mikrotik")
    walked = [args[0] for kind, args in client.calls if kind == "walk"]
    assert "1.3.6.1.4.1.41112.1.6.1.2.1.8" not in walked  # no UniFi detection probe


async def test_unreachable_ap_records_timeout() -> None:
    client = FakeSnmpClient(unreachable=True)
    sample = await poll_ap(client, TARGET, "ap1", PROFILES, "mikrotik")
    assert not sample.reachable
    assert [i.reason for i in sample.issues] == ["timeout"]


async def test_partial_failure_keeps_what_was_read() -> None:
    client = FakeSnmpClient.from_file(RECORDINGS / "mikrotik-t0.snmprec")
    client.failures["1.3.6.1.4.1.14988.1.1.1.3.1.6"] = "malformed"
    sample = await poll_ap(client, TARGET, "ap1", PROFILES, "mikrotik")
    assert sample.reachable
    assert sample.uptime_seconds == 3600.0
    assert [i.name for i in sample.interfaces] == ["ether1", "wlan1"]
    assert "malformed" in [i.reason for i in sample.issues]
    assert sample.clients.total is None


async def test_unknown_profile_name_falls_to_generic_detection() -> None:
    client = FakeSnmpClient.from_file(RECORDINGS / "strings-for-numbers.snmprec")
    sample = await poll_ap(client, TARGET, "ap1", PROFILES, "auto")
    assert sample.profile == "tplink-eap"
    assert sample.clients.total is None


async def poll_stalled(
    agent: RunningAgent, community: str, profiles: ProfileSet, profile: str
) -> ApSample:
    """Poll a recording whose table stalls after its first row (SNMPv1: one row a request)."""
    await agent.settle(community)
    client = PysnmpClient()
    try:
        target = agent.target(community, version="1", timeout=1.0, retries=1)
        return await poll_ap(client, target, community, profiles, profile)
    finally:
        await client.close()


async def test_a_table_that_stalls_mid_walk_gives_unknown_not_a_partial_sum(
    slow_agent: RunningAgent,
) -> None:
    """The first row answers, the second never does in time (SNMPv1: one row a request)."""
    profiles = load_profiles([FIXTURES / "profiles"])
    sample = await poll_stalled(slow_agent, "stall-mid-table", profiles, "test-wlc")
    assert sample.reachable and sample.sys_name == "stall-mid-table"
    assert "timeout" in [i.reason for i in sample.issues]
    assert sample.clients.total is None  # not 5, the rows that came before the stall
    assert sample.managed_aps is None


async def test_a_hotspot_table_cut_mid_walk_gives_unknown_sessions(
    slow_agent: RunningAgent,
) -> None:
    """One logged-in user answers, the next never does in time: sessions unknown, not 1."""
    sample = await poll_stalled(slow_agent, "stall-hotspot", PROFILES, "mikrotik")
    assert sample.reachable and "timeout" in [i.reason for i in sample.issues]
    assert sample.sessions is None


async def test_hotspot_sessions_never_read_user_names_addresses_or_macs() -> None:
    client = FakeSnmpClient.from_file(FIXTURES / "devices" / "mikrotik-hotspot-gateway.snmprec")
    sample = await poll_ap(client, TARGET, "gw", PROFILES, "mikrotik")
    assert sample.sessions == {"1": 3, "2": 2}
    users = "1.3.6.1.4.1.14988.1.1.5.1.1."
    asked = [root for _, roots in client.calls for root in roots if root.startswith(users)]
    assert asked and all(root == users + "2" for root in asked)


async def test_real_agent_slow_table_times_out_but_scalars_are_kept(
    slow_agent: RunningAgent,
) -> None:
    await slow_agent.settle("slow-walk")
    client = PysnmpClient()
    try:
        started = time.monotonic()
        target = slow_agent.target("slow-walk", timeout=0.5, retries=0)
        sample = await poll_ap(client, target, "slow", PROFILES, "mikrotik")
        elapsed = time.monotonic() - started
    finally:
        await client.close()
    assert sample.reachable
    assert sample.sys_name == "slow-one"
    assert sample.uptime_seconds == 50.0
    assert "timeout" in [i.reason for i in sample.issues]
    assert elapsed < 3.0  # one table timing out stops the poll instead of waiting per table


async def test_real_agent_poll_of_fixture_recording(agent: RunningAgent) -> None:
    client = PysnmpClient()
    try:
        sample = await poll_ap(client, agent.target("mikrotik-t0"), "ap", PROFILES, "auto")
    finally:
        await client.close()
    assert sample.profile == "mikrotik"
    assert sample.clients.total == 12
    assert {i.name: i.counter_bits for i in sample.interfaces} == {"ether1": 32, "wlan1": 32}
