"""Runs snmpsim as a subprocess: the simulated access points of the demo and the tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

from wifimon.errors import WifimonError
from wifimon.secrets import Secret
from wifimon.snmp.pysnmp_client import PysnmpClient
from wifimon.snmp.types import CommunityAuth, SnmpTarget

RESPONDER = "snmpsim-command-responder"
START_TIMEOUT_SECONDS = 30.0


def free_udp_port() -> int:
    """A UDP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def responder_path() -> str:
    """The responder next to this Python (a venv), else on PATH."""
    beside = Path(sys.executable).parent / RESPONDER
    if beside.exists():
        return str(beside)
    found = shutil.which(RESPONDER)
    if not found:
        raise WifimonError(f"{RESPONDER} not found: pip install 'wifimon[demo]'")
    return found


class Simulator:
    """One snmpsim process serving every `.snmprec` in `data_dir` (community = file name).

    `extra_args` go before the data directory: SNMPv3 engine options such as
    `--v3-user=...` belong to the engine the data directory is served by.
    """

    def __init__(
        self, data_dir: Path, port: int | None = None, extra_args: list[str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_udp_port()
        self.extra_args = extra_args or []
        self.process: asyncio.subprocess.Process | None = None
        self._cache = tempfile.TemporaryDirectory(prefix="wifimon-snmpsim-")

    async def start(self, probe_community: str) -> None:
        """Start and wait until `probe_community` answers."""
        env = dict(os.environ, SNMPSIM_ALLOW_ROOT="true")
        self.process = await asyncio.create_subprocess_exec(
            responder_path(),
            f"--data-dir={self.data_dir}",
            f"--cache-dir={self._cache.name}",
            f"--agent-udpv4-endpoint=127.0.0.1:{self.port}",
            "--logging-method=null",
            *self.extra_args,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        await self._wait_ready(probe_community)

    async def _wait_ready(self, community: str) -> None:
        client = PysnmpClient()
        target = SnmpTarget(
            "127.0.0.1", self.port, "2c", CommunityAuth(Secret(community)), timeout=0.5, retries=0
        )
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_SECONDS
        try:
            while asyncio.get_running_loop().time() < deadline:
                if self.process is not None and self.process.returncode is not None:
                    err = await self.process.stderr.read() if self.process.stderr else b""
                    raise WifimonError(f"snmpsim exited: {err.decode(errors='replace')[-500:]}")
                try:
                    await client.get(target, ["1.3.6.1.2.1.1.2.0"])
                    return
                except WifimonError:
                    await asyncio.sleep(0.3)
            raise WifimonError("snmpsim did not answer within 30 s")
        finally:
            await client.close()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._cache.cleanup()
