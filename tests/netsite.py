"""Real sites for probe tests: a network namespace per site, a veth link, tc shaping.

Addresses come from 198.18.0.0/15 (reserved for benchmarks), one /30 per site. Needs root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

SPEEDTEST_PORT = 8080
IPERF3_PORT = 5201


def require_namespaces() -> None:
    """Skip (with the reason) where network namespaces cannot be built."""
    if os.geteuid() != 0:
        pytest.skip("network-namespace sites need root (CI runs as root)")
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            pytest.skip(f"`{tool}` (iproute2) is not installed")


def shaper(device: str, mbit: float) -> tuple[str, ...]:
    """`tc` arguments for a token-bucket shaper on a device's egress."""
    return (
        "qdisc",
        "add",
        "dev",
        device,
        "root",
        "tbf",
        "rate",
        f"{mbit:g}mbit",
        "burst",
        "64kb",
        "latency",
        "50ms",
    )


def run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=20)


@dataclass
class Site:
    """One titik's link: host side 198.18.N.1, site side 198.18.N.2."""

    number: int
    rate_mbit: float | None = None
    upload_mbit: float | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def ns(self) -> str:
        return f"wmsite{self.number}"

    @property
    def host_if(self) -> str:
        return f"wmh{self.number}"

    @property
    def site_if(self) -> str:
        return f"wms{self.number}"

    @property
    def host_address(self) -> str:
        return f"198.18.{self.number}.1"

    @property
    def address(self) -> str:
        return f"198.18.{self.number}.2"

    def create(self) -> None:
        self.destroy()
        run("ip", "netns", "add", self.ns)
        run("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.site_if)
        run("ip", "link", "set", self.site_if, "netns", self.ns)
        run("ip", "addr", "add", f"{self.host_address}/30", "dev", self.host_if)
        run("ip", "link", "set", self.host_if, "up")
        self.exec("ip", "addr", "add", f"{self.address}/30", "dev", self.site_if)
        self.exec("ip", "link", "set", self.site_if, "up")
        self.exec("ip", "link", "set", "lo", "up")
        if self.rate_mbit:  # the site's egress: what its users download
            self.exec("tc", *shaper(self.site_if, self.rate_mbit))
        if self.upload_mbit:  # the host's egress towards the site: uploads
            run("tc", *shaper(self.host_if, self.upload_mbit))

    def exec(self, *args: str) -> None:
        run("ip", "netns", "exec", self.ns, *args)

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.processes.append(process)
        return process

    def start_speedtest_server(self) -> None:
        self.spawn(
            sys.executable,
            "-m",
            "wifimon.probes.speedtest_server",
            "--host",
            self.address,
            "--port",
            str(SPEEDTEST_PORT),
        )
        wait_for_tcp(self.address, SPEEDTEST_PORT)

    def start_iperf3_server(self) -> None:
        self.spawn("iperf3", "--server", "--bind", self.address, "--port", str(IPERF3_PORT))
        wait_for_tcp(self.address, IPERF3_PORT)

    def link_down(self) -> None:
        """The site's end goes down (a dead router): the host keeps its route, no carrier."""
        self.exec("ip", "link", "set", self.site_if, "down")

    def destroy(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.processes.clear()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, timeout=20)
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True, timeout=20)


def wait_for_tcp(host: str, port: int, timeout: float = 15.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{host}:{port} did not start listening")


SAFETY_ROUTE = ("unreachable", "198.18.0.0/15", "metric", "4000")


@contextmanager
def site(
    number: int, rate_mbit: float | None = None, upload_mbit: float | None = None
) -> Iterator[Site]:
    """A site that exists for the duration of the `with` block, and is always removed.

    While it exists, 198.18.0.0/15 is unreachable on the host except through the sites'
    own links, so a site whose link is down never sends test traffic anywhere else.
    """
    require_namespaces()
    added = (
        subprocess.run(
            ["ip", "route", "add", *SAFETY_ROUTE], capture_output=True, timeout=20
        ).returncode
        == 0
    )
    s = Site(number, rate_mbit, upload_mbit)
    try:
        s.create()
        yield s
    finally:
        s.destroy()
        if added:
            subprocess.run(["ip", "route", "del", *SAFETY_ROUTE], capture_output=True, timeout=20)
