"""Every vendor profile against recordings of its devices, replayed by a real snmpsim.

Each `tests/fixtures/devices/NAME.snmprec` has a `NAME.expect.yaml` beside it saying which
profile `auto` must pick (and from which detection stage), the exact client count (null:
unknown) and, where the profile reads them, the breakdown and the controller's per-AP
counts. The recordings are written from the vendors' public MIBs; `source` in each
expectation names the MIB objects the recording holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import DEVICE_RECORDINGS, RunningAgent
from wifimon.poller import poll_ap
from wifimon.snmp.profiles import GENERIC, load_profiles
from wifimon.snmp.pysnmp_client import PysnmpClient

PROFILES = load_profiles()
EXPECT_KEYS = {"profile", "stage", "clients", "breakdown", "managed_aps", "uptime", "source"}


def expectations() -> dict[str, dict[str, Any]]:
    """NAME -> the parsed NAME.expect.yaml, for every recording in the folder."""
    found = {}
    for path in sorted(DEVICE_RECORDINGS.glob("*.expect.yaml")):
        found[path.name.removesuffix(".expect.yaml")] = yaml.safe_load(path.read_text())
    return found


EXPECTED = expectations()


@pytest.fixture
async def client():
    c = PysnmpClient()
    yield c
    await c.close()


def test_every_recording_has_an_expectation_and_back() -> None:
    recordings = {p.stem for p in DEVICE_RECORDINGS.glob("*.snmprec")}
    assert recordings == set(EXPECTED)
    for name, expect in EXPECTED.items():
        assert set(expect) <= EXPECT_KEYS, name
        assert {"profile", "clients", "source"} <= set(expect), name


def test_every_profile_has_a_recording() -> None:
    covered = {expect["profile"] for expect in EXPECTED.values()}
    missing = set(PROFILES.names()) - covered - {GENERIC}
    assert not missing, f"profiles without a recording in {DEVICE_RECORDINGS}: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_recording(device_agent: RunningAgent, client, name: str) -> None:
    expect = EXPECTED[name]
    target = device_agent.target(name, timeout=2.0, retries=1)
    sample = await poll_ap(client, target, name, PROFILES, "auto")
    assert sample.reachable
    assert sample.detection is not None
    assert sample.profile == expect["profile"], sample.detection.reason
    if "stage" in expect:
        assert sample.detection.reason.startswith(expect["stage"] + ":"), sample.detection.reason
    assert sample.clients.total == expect["clients"], sample.clients.issue
    if "uptime" in expect:
        assert (sample.uptime_seconds is not None) == expect["uptime"]
    if "breakdown" in expect:
        got = {f"{r.kind} {r.label}": r.clients for r in sample.clients.by_radio}
        assert got == expect["breakdown"]
    if "managed_aps" in expect:
        assert sample.managed_aps is not None
        got = {(ap.name or ap.mac): ap.clients for ap in sample.managed_aps}
        assert got == expect["managed_aps"]


def test_profile_directory_is_the_only_source_of_names() -> None:
    """A profile file's name is the profile's name, so `profile: NAME` finds its file."""
    folder = Path(__import__("wifimon.profiles").profiles.__file__).parent
    for path in folder.glob("*.yaml"):
        assert yaml.safe_load(path.read_text())["name"] == path.stem
