"""The validation step: a value of the wrong type or outside what a device can have is
unknown with a reason, never a crash and never a number (issue #24, part 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RECORDINGS, RunningAgent
from tests.test_cli import wifimon
from wifimon.measurements import ApSample
from wifimon.poller import poll_ap
from wifimon.snmp import snmprec
from wifimon.snmp.fake import FakeSnmpClient
from wifimon.snmp.profiles import load_profiles
from wifimon.snmp.types import SnmpTarget, SnmpValue

PROFILES = load_profiles()
TARGET = SnmpTarget("192.0.2.1")
CLIENT_COUNT = "1.3.6.1.4.1.14988.1.1.1.3.1.6.2"  # mtxrWlApClientCount of wlan1
UPTIME = "1.3.6.1.2.1.1.3.0"
IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10.1"


async def poll_with(oid: str, value: SnmpValue) -> ApSample:
    """The MikroTik recording with one value replaced."""
    records = dict(snmprec.load(RECORDINGS / "mikrotik-t0.snmprec"))
    records[oid] = value
    client = FakeSnmpClient(records=sorted(records.items(), key=lambda r: snmprec.oid_tuple(r[0])))
    return await poll_ap(client, TARGET, "ap", PROFILES, "mikrotik")


def reasons(sample: ApSample) -> list[tuple[str, str]]:
    return [(issue.reason, issue.detail) for issue in sample.issues]


@pytest.mark.parametrize(
    ("value", "reason", "detail"),
    [
        (SnmpValue("integer", -3), "out_of_range", "clients: -3 is outside 0..4096"),
        (SnmpValue("counter32", 4097), "out_of_range", "clients: 4097 is outside 0..4096"),
        (SnmpValue("counter64", (1 << 64) - 1), "wrong_type",
         "counter64 where a count was expected"),
        (SnmpValue("octets", b"9" * 5000), "wrong_type", "text '99999999999999999999' where"),
        (SnmpValue("timeticks", 12), "wrong_type", "timeticks where a count was expected"),
        (SnmpValue("octets", b"\xff\xfe"), "wrong_type", "where a number was expected"),
    ],
)  # fmt: skip
async def test_an_impossible_client_count_is_unknown_with_its_reason(
    value: SnmpValue, reason: str, detail: str
) -> None:
    sample = await poll_with(CLIENT_COUNT, value)
    assert sample.reachable and sample.clients.total is None and sample.clients.by_radio == ()
    assert [r for r, d in reasons(sample) if detail in d] == [reason], reasons(sample)


async def test_a_believable_count_passes_unchanged() -> None:
    sample = await poll_with(CLIENT_COUNT, SnmpValue("gauge32", 51))
    assert sample.clients.total == 51 and sample.issues == []


async def test_an_uptime_beyond_any_device_is_unknown() -> None:
    """sysUpTime is TimeTicks; an Integer32 of -1 or a Counter64 of centuries is no uptime."""
    sample = await poll_with(UPTIME, SnmpValue("integer", -100))
    assert sample.uptime_seconds is None
    assert ("out_of_range", "uptime: -1 is outside 0..946080000 s") in reasons(sample)


async def test_a_counter64_where_ifmib_declares_counter32_is_not_read() -> None:
    sample = await poll_with(IF_IN_OCTETS, SnmpValue("counter64", (1 << 64) - 1))
    ether1 = next(i for i in sample.interfaces if i.name == "ether1")
    assert (ether1.in_octets, ether1.out_octets, ether1.counter_bits) == (None, None, None)


async def test_a_recording_of_impossible_values_gives_unknowns_and_reasons() -> None:
    client = FakeSnmpClient.from_file(RECORDINGS / "impossible-mikrotik.snmprec")
    sample = await poll_ap(client, TARGET, "ap", PROFILES, "mikrotik")
    assert (sample.clients.total, sample.cpu_percent) == (None, None)
    ether1 = next(i for i in sample.interfaces if i.name == "ether1")
    assert (ether1.speed_mbps, ether1.in_octets, ether1.counter_bits) == (None, None, None)
    assert reasons(sample) == [
        ("out_of_range", "clients: -3 is outside 0..4096"),
        ("out_of_range", "cpu: 250 is outside 0..100 %"),
        ("out_of_range", "speed of ether1: -1000 is outside up to 10 Tbit/s"),
    ]


def test_poll_json_lists_each_refused_value_and_prints_no_traceback(
    agent: RunningAgent, tmp_path: Path
) -> None:
    """Through snmpsim and the CLI, as an operator checking a suspect AP would."""
    secret = tmp_path / "community"
    secret.write_text("impossible-mikrotik\n")
    result = wifimon("poll", "127.0.0.1", "--port", str(agent.port),
                     "--community-file", str(secret), "--json")  # fmt: skip
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    data = json.loads(result.stdout)
    assert (data["clients_total"], data["cpu_percent"]) == (None, None)
    assert [e["reason"] for e in data["errors"]] == ["out_of_range"] * 3
