"""Shared fixtures: real snmpsim agents playing the project's recordings."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from wifimon.demo.simulator import Simulator
from wifimon.errors import SnmpError
from wifimon.secrets import Secret
from wifimon.snmp.pysnmp_client import PysnmpClient
from wifimon.snmp.types import CommunityAuth, SnmpTarget

FIXTURES = Path(__file__).parent / "fixtures"
RECORDINGS = FIXTURES / "recordings"
SLOW_RECORDINGS = FIXTURES / "slow-recordings"
DEVICE_RECORDINGS = FIXTURES / "devices"
SHARED_DEVICES = Path(__file__).resolve().parents[2] / "shared" / "devices"
V3_USER = "wifimon-test"
V3_AUTH_KEY = "auth-key-for-tests"
V3_PRIV_KEY = "priv-key-for-tests"


class RunningAgent:
    """A started simulator plus helpers to address its recordings."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator

    @property
    def port(self) -> int:
        return self.simulator.port

    async def settle(self, community: str, seconds: float = 10.0) -> None:
        """Wait until a stalled answer from an earlier test has drained (snmpsim is serial)."""
        client = PysnmpClient()
        target = self.target(community, timeout=0.5)
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                try:
                    await client.get(target, ["1.3.6.1.2.1.1.5.0"])
                    return
                except SnmpError:
                    continue
        finally:
            await client.close()

    def target(
        self, community: str, version: str = "2c", timeout: float = 1.0, retries: int = 0
    ) -> SnmpTarget:
        return SnmpTarget(
            "127.0.0.1",
            self.port,
            version,  # type: ignore[arg-type]
            CommunityAuth(Secret(community)),
            timeout,
            retries,
        )


def _start(data_dir: Path, probe: str, extra: list[str] | None = None) -> Iterator[RunningAgent]:
    simulator = Simulator(data_dir, extra_args=extra)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(simulator.start(probe))
        yield RunningAgent(simulator)
    finally:
        loop.run_until_complete(simulator.stop())
        loop.close()


@pytest.fixture(scope="session")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAgent]:
    """snmpsim serving tests/fixtures/recordings, with an SNMPv3 SHA-256/AES user."""
    data = tmp_path_factory.mktemp("recordings")
    for path in RECORDINGS.glob("*.snmprec"):
        shutil.copy(path, data / path.name)
    extra = [
        f"--v3-user={V3_USER}",
        f"--v3-auth-key={V3_AUTH_KEY}",
        "--v3-auth-proto=SHA256",
        f"--v3-priv-key={V3_PRIV_KEY}",
        "--v3-priv-proto=AES",
    ]
    yield from _start(data, "mikrotik-t0", extra)


@pytest.fixture(scope="session")
def slow_agent() -> Iterator[RunningAgent]:
    """A separate snmpsim for stalling recordings: snmpsim sleeps in-process, so a stalled
    answer would hold up every other test's agent."""
    yield from _start(SLOW_RECORDINGS, "slow-walk")


@pytest.fixture(scope="session")
def shared_agent() -> Iterator[RunningAgent]:
    """snmpsim replaying the real device recordings in ../shared/devices."""
    if not SHARED_DEVICES.is_dir():
        pytest.skip(f"{SHARED_DEVICES} not present: real-device recordings come from shared/")
    yield from _start(SHARED_DEVICES, "routeros")


@pytest.fixture(scope="session")
def device_agent() -> Iterator[RunningAgent]:
    """snmpsim playing the project's own per-vendor recordings (tests/fixtures/devices)."""
    first = sorted(DEVICE_RECORDINGS.glob("*.snmprec"))[0].stem
    yield from _start(DEVICE_RECORDINGS, first)
