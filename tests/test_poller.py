"""A whole poll: detection, partial failures and timeouts, against the fake and real agents."""

from __future__ import annotations

import time
from collections.abc import Sequence
from ipaddress import ip_network

from tests.conftest import FIXTURES, RECORDINGS, RunningAgent
from wifimon.measurements import AddressPool, ApSample
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
    agent: RunningAgent,
    community: str,
    profiles: ProfileSet,
    profile: str,
    pools: Sequence[AddressPool] = (),
) -> ApSample:
    """Poll a recording whose table stalls after its first row (SNMPv1: one row a request)."""
    await agent.settle(community)
    client = PysnmpClient()
    try:
        target = agent.target(community, version="1", timeout=1.0, retries=1)
        return await poll_ap(client, target, community, profiles, profile, address_pools=pools)
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


async def test_a_hotspot_table_cut_mid_walk_gives_unknown_sessions_in_every_pool(
    slow_agent: RunningAgent,
) -> None:
    pools = [ip_network("10.5.50.0/24")]
    sample = await poll_stalled(slow_agent, "stall-hotspot", PROFILES, "mikrotik", pools)
    assert "timeout" in [i.reason for i in sample.issues]
    assert sample.sessions is None and sample.sessions_by_pool is None


GATEWAY = FIXTURES / "devices" / "mikrotik-hotspot-gateway.snmprec"
USERS_TABLE = "1.3.6.1.4.1.14988.1.1.5.1.1."


async def test_hotspot_sessions_are_counted_per_address_pool() -> None:
    """One hotspot server, a pool (or VLAN subnet) per titik: users counted by address."""
    client = FakeSnmpClient.from_file(GATEWAY)
    pools = [ip_network("10.5.50.0/24"), ip_network("10.5.60.0/25"), ip_network("fd00::/64")]
    sample = await poll_ap(client, TARGET, "gw", PROFILES, "mikrotik", address_pools=pools)
    assert sample.sessions_by_pool == {"10.5.50.0/24": 3, "10.5.60.0/25": 2, "fd00::/64": 0}
    asked = {root for _, roots in client.calls for root in roots if root.startswith(USERS_TABLE)}
    assert asked == {USERS_TABLE + "2", USERS_TABLE + "5"}  # never user names or MACs


async def test_an_empty_hotspot_table_is_zero_sessions_in_every_pool() -> None:
    client = FakeSnmpClient.from_file(FIXTURES / "devices" / "mikrotik-hotspot-idle.snmprec")
    pools = [ip_network("10.5.50.0/24")]
    sample = await poll_ap(client, TARGET, "gw", PROFILES, "mikrotik", address_pools=pools)
    assert sample.sessions_by_pool == {"10.5.50.0/24": 0}


async def test_pools_on_a_profile_that_reads_no_addresses_are_unknown_with_a_reason() -> None:
    client = FakeSnmpClient.from_file(GATEWAY)
    pools = [ip_network("10.5.50.0/24")]
    sample = await poll_ap(client, TARGET, "gw", PROFILES, "generic", address_pools=pools)
    assert sample.sessions_by_pool is None
    assert ("unsupported", "profile generic reads no session addresses: address pools "
            "unknown") in [(i.reason, i.detail) for i in sample.issues]  # fmt: skip


async def test_hotspot_sessions_never_read_user_names_addresses_or_macs() -> None:
    client = FakeSnmpClient.from_file(GATEWAY)
    sample = await poll_ap(client, TARGET, "gw", PROFILES, "mikrotik")
    assert sample.sessions == {"1": 3, "2": 2} and sample.sessions_by_pool is None
    asked = [root for _, roots in client.calls for root in roots if root.startswith(USERS_TABLE)]
    assert asked and all(root == USERS_TABLE + "2" for root in asked)


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
