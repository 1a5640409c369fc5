"""The pysnmp client against a real agent (snmpsim)."""

from __future__ import annotations

import time

import pytest

from tests.conftest import V3_AUTH_KEY, V3_PRIV_KEY, V3_USER, RunningAgent
from wifimon.errors import SnmpError
from wifimon.secrets import Secret
from wifimon.snmp.fast_client import FastSnmpClient
from wifimon.snmp.pysnmp_client import PysnmpClient
from wifimon.snmp.types import SnmpTarget, UsmAuth

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"


@pytest.fixture(params=["pysnmp", "fast"])
async def client(request):
    """Every behaviour below holds for both clients: pysnmp and the BER fast path."""
    c = PysnmpClient() if request.param == "pysnmp" else FastSnmpClient()
    yield c
    await c.close()


async def test_get_returns_typed_values_and_marks_missing(agent: RunningAgent, client) -> None:
    result = dict(
        await client.get(agent.target("mikrotik-t0"), [SYS_DESCR, SYS_UPTIME, "1.3.6.1.2.1.1.9.0"])
    )
    assert result[SYS_DESCR].kind == "octets" and result[SYS_DESCR].value == b"RouterOS RB951"
    assert result[SYS_UPTIME].kind == "timeticks" and result[SYS_UPTIME].value == 360000
    assert result["1.3.6.1.2.1.1.9.0"].is_exception


async def test_bulk_walk_stays_inside_the_subtree(agent: RunningAgent, client) -> None:
    rows = await client.bulk_walk(agent.target("mikrotik-t0"), IF_NAME)
    assert rows == [(f"{IF_NAME}.1", rows[0][1]), (f"{IF_NAME}.2", rows[1][1])]
    assert [v.value for _, v in rows] == [b"ether1", b"wlan1"]


async def test_snmpv1_get_with_a_missing_oid_keeps_the_others(agent: RunningAgent, client) -> None:
    target = agent.target("mikrotik-t0", version="1")
    result = dict(await client.get(target, [SYS_DESCR, "1.3.6.1.2.1.1.9.0", SYS_UPTIME]))
    assert result[SYS_DESCR].value == b"RouterOS RB951"
    assert result[SYS_UPTIME].value == 360000
    assert result["1.3.6.1.2.1.1.9.0"].kind == "noSuchObject"


async def test_snmpv1_walk_uses_getnext(agent: RunningAgent, client) -> None:
    rows = await client.bulk_walk(agent.target("mikrotik-t0", version="1"), IF_NAME)
    assert [v.value for _, v in rows] == [b"ether1", b"wlan1"]


async def test_silent_agent_times_out_with_reason(slow_agent: RunningAgent, client) -> None:
    target = slow_agent.target("silent", timeout=0.5, retries=0)
    started = time.monotonic()
    with pytest.raises(SnmpError) as info:
        await client.get(target, [SYS_DESCR])
    assert info.value.reason == "timeout"
    assert time.monotonic() - started < 3.0


async def test_unknown_community_is_a_timeout_not_a_hang(agent: RunningAgent, client) -> None:
    with pytest.raises(SnmpError) as info:
        await client.get(agent.target("no-such-device", timeout=0.3), [SYS_DESCR])
    assert info.value.reason == "timeout"


def _v3(agent: RunningAgent, auth_key: str = V3_AUTH_KEY, user: str = V3_USER) -> SnmpTarget:
    auth = UsmAuth(
        user=user,
        auth_protocol="SHA256",
        auth_key=Secret(auth_key),
        priv_protocol="AES",
        priv_key=Secret(V3_PRIV_KEY),
        context="mikrotik-t0",
    )
    return SnmpTarget("127.0.0.1", agent.port, "3", auth, timeout=1.0, retries=0)


async def test_snmpv3_sha256_aes(agent: RunningAgent, client) -> None:
    result = dict(await client.get(_v3(agent), [SYS_DESCR]))
    assert result[SYS_DESCR].value == b"RouterOS RB951"


async def test_snmpv3_wrong_key_is_an_auth_error_without_the_key(
    agent: RunningAgent, client
) -> None:
    with pytest.raises(SnmpError) as info:
        await client.get(_v3(agent, auth_key="not-the-right-key"), [SYS_DESCR])
    assert info.value.reason == "auth"
    assert "not-the-right-key" not in str(info.value)


async def test_snmpv3_unknown_user_is_an_auth_error(agent: RunningAgent, client) -> None:
    with pytest.raises(SnmpError) as info:
        await client.get(_v3(agent, user="intruder"), [SYS_DESCR])
    assert info.value.reason == "auth"


async def test_unresolvable_address_is_reported(client) -> None:
    target = SnmpTarget("256.1.1.1", 161, timeout=0.2, retries=0)
    with pytest.raises(SnmpError) as info:
        await client.get(target, [SYS_DESCR])
    assert info.value.reason in {"address", "timeout"}
