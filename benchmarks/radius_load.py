"""RADIUS accounting handled while the daemon polls a Jakarta-sized fleet.

Runs `wifimon run` on N access points (loopback `snmpd` agents, as benchmarks/scale.py) with
wifimon as a RADIUS accounting server for every titik, measures a quiet window, then a window
in which a sender process plays accounting at --rate packets/s (the updates of 9,000
titik x 50 users every 4 minutes are about 1,900/s) to a session file that already holds
those 450,000 open sessions (the steady state). The snmpd agents and the sender stand for
other machines (access points, the NAS): they run at nice 19 so that, on a small machine,
they take only the CPU that wifimon leaves. Prints one line:

aps=N titik=N target_pps=X handled_pps=X answered_pps=X lag_p99_quiet_s=X lag_p99_radius_s=X
polls_quiet=N polls_radius=N daemon_cpu_cores=X radius_cpu_us_per_packet=X
agents_cpu_cores=X sender_cpu_cores=X

answered_pps counts the Accounting-Responses the sender got back (each sent after its packet
was stored); handled_pps the packets the daemon's metrics counted as accepted in the window
(the accounting process reports them every refresh_seconds, so the last few seconds' arrive
after the window); radius_cpu_us_per_packet is the accounting process's CPU per answer.
Needs snmpd (Debian). Traffic: 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from pyrad.packet import AcctPacket
from scale import (
    cpu_seconds,
    free_port,
    lag_p99,
    scrape,
    start_agents,
    total,
    wait_ready,
    write_wifimon_config,
)

from wifimon.config import load as load_config
from wifimon.sessions.mapping import nas_map
from wifimon.sessions.model import NasIdentity
from wifimon.sessions.radius import accounting_dictionary
from wifimon.sessions.service import SESSIONS_FILE
from wifimon.sessions.table import SessionTable

SECRET = b"rahasia-benchmark"
USERS_PER_TITIK = 50


def add_radius(config: Path, titik: int, port: int) -> None:
    """Every titik counts the sessions of its own NAS (NAS-Identifier nas-NNNNN)."""
    data = yaml.safe_load(config.read_text())
    (config.parent / "radius-secret").write_text(SECRET.decode() + "\n")
    data["secrets"]["radius"] = {"file": "radius-secret"}
    data["sessions"] = {
        "radius": {"listen": f"127.0.0.1:{port}",
                   "nas": [{"address": "127.0.0.1", "secret": "radius"}]},
        "refresh_seconds": 15,
    }  # fmt: skip
    config.write_text(yaml.safe_dump(data))
    inventory_path = config.parent / "inventory.yaml"
    inventory = yaml.safe_load(inventory_path.read_text())
    for n, hotspot in enumerate(inventory["hotspots"][:titik]):
        hotspot["sessions"] = {"nas_identifier": [f"nas-{n:05d}"]}
    inventory_path.write_text(yaml.safe_dump(inventory))


def session_name(titik: int, n: int) -> tuple[str, str]:
    """(NAS-Identifier, Acct-Session-Id) of session n: USERS_PER_TITIK sessions per titik."""
    return f"nas-{(n // USERS_PER_TITIK) % titik:05d}", f"8{n:07x}"


def prefill(config: Path, titik: int) -> None:
    """The steady state before the window: every titik has its USERS_PER_TITIK sessions
    open, as after hours of accounting (written through the daemon's own session table)."""
    loaded = load_config(config)
    table = SessionTable(loaded.data_dir / SESSIONS_FILE, nas_map(loaded.inventory))
    now = time.time()
    try:
        for first in range(0, titik * USERS_PER_TITIK, 5000):
            with table.batch():
                for n in range(first, min(first + 5000, titik * USERS_PER_TITIK)):
                    nas, sid = session_name(titik, n)
                    table.start(NasIdentity(identifier=nas), f"127.0.0.1/{nas}", sid, now, 240)
    finally:
        table.close()


def packets(titik: int, count: int) -> list[bytes]:
    """Signed accounting of `count` packets spread over every titik (built up front), with
    the attributes a MikroTik hotspot sends in each (about 20, most never read): mostly
    Interim-Updates of open sessions; one in 16 a Start of a new session and one in 16 a
    Stop (sessions last about an hour, updates come every 4 minutes)."""
    dictionary = accounting_dictionary()
    opened = titik * USERS_PER_TITIK
    built = []
    for n in range(count):
        kind = {0: "Start", 8: "Stop"}.get(n % 16, "Interim-Update")
        session = opened + n if kind == "Start" else n * 7919 % opened  # spread over titik
        nas, sid = session_name(titik, session)
        packet = AcctPacket(secret=SECRET, dict=dictionary, id=n % 256)
        packet["Acct-Status-Type"] = kind
        packet["Acct-Session-Id"] = sid
        packet["NAS-Identifier"] = nas
        packet["NAS-IP-Address"] = "127.0.0.1"
        packet["Called-Station-Id"] = "hotspot1"
        packet["User-Name"] = f"T{session:06d}"
        packet["Calling-Station-Id"] = "02:00:" + ":".join(
            f"{session >> shift & 255:02X}" for shift in (24, 16, 8, 0)
        )
        packet["Framed-IP-Address"] = (
            f"10.{session >> 16 & 255}.{session >> 8 & 255}.{session & 255}"
        )
        packet["NAS-Port"] = 0x81000000 + session % 0x1000000
        packet["NAS-Port-Type"] = 19  # Wireless-802.11
        packet["Acct-Authentic"] = 1
        packet["Acct-Delay-Time"] = 0
        packet["Acct-Session-Time"] = 600 + n % 3600
        for direction in ("Input", "Output"):
            packet[f"Acct-{direction}-Octets"] = 1_000_000 + n
            packet[f"Acct-{direction}-Gigawords"] = 0
            packet[f"Acct-{direction}-Packets"] = 1_000 + n
        packet["Event-Timestamp"] = 1_800_000_000 + n
        packet["Acct-Interim-Interval"] = 240
        built.append(packet.RequestPacket())
    return built


def send(
    port: int, titik: int, rate: float, seconds: float, ready: Any, answered: Any, sender_cpu: Any
) -> None:
    """The sender process: builds its packets, says so, then sends paced datagrams for
    `seconds`, counting the answers that come back."""
    os.nice(19)  # the NAS is another machine: it must not take the daemon's cores here
    wire = packets(titik, int(rate * seconds))
    ready.set()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.setblocking(False)
    started, sent, got, cpu = time.monotonic(), 0, 0, time.process_time()
    while (now := time.monotonic()) < started + seconds:
        due = int((now - started) * rate)
        while sent < due:
            with contextlib.suppress(BlockingIOError):
                sock.sendto(wire[sent % len(wire)], ("127.0.0.1", port))
            sent += 1
        with contextlib.suppress(BlockingIOError):
            while sock.recv(4096):
                got += 1
        time.sleep(0.002)
    answered.value = got
    sender_cpu.value = time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aps", type=int, default=20000)
    parser.add_argument("--titik", type=int, default=9000)
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=30.0)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--agents", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        agents, ports = start_agents(work, args.agents)
        for agent in agents:  # the access points are other machines too
            os.setpriority(os.PRIO_PROCESS, agent.pid, 19)
        listen, radius_port = f"127.0.0.1:{free_port()}", free_port(socket.SOCK_DGRAM)
        config = write_wifimon_config(work, args.aps, ports, args.interval, listen)
        titik = min(args.titik, (args.aps + 1) // 2)
        add_radius(config, titik, radius_port)
        prefill(config, titik)
        log = (work / "wifimon.log").open("wb")
        command = [sys.executable, "-m", "wifimon.cli", "--log-level", "warning", "run",
                   "--config", str(config)]  # fmt: skip
        daemon = subprocess.Popen(command, stdout=log, stderr=log)
        url = f"http://{listen}/metrics"
        try:
            wait_ready(listen)
            time.sleep(args.warmup)
            quiet_a, _ = scrape(url)
            time.sleep(args.window)
            quiet_b, _ = scrape(url)
            answered, ready = multiprocessing.Value("l", 0), multiprocessing.Event()
            sender_cpu = multiprocessing.Value("d", 0.0)
            sending = (radius_port, titik, args.rate, args.window, ready, answered, sender_cpu)
            sender = multiprocessing.Process(target=send, args=sending)
            sender.start()
            ready.wait(timeout=300)
            busy_a, _ = scrape(url)
            receiver = children(daemon.pid)
            others = [agent.pid for agent in agents]
            cpu_a = cpu_now(daemon.pid, receiver, others)
            sender.join()
            busy_b, _ = scrape(url)
            cpu_b = cpu_now(daemon.pid, receiver, others)
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)
            for agent in agents:
                agent.terminate()
        accepted = total(busy_b, "wifimon_radius_packets_total", result="accepted") - total(
            busy_a, "wifimon_radius_packets_total", result="accepted"
        )
        polls = "wifimon_polls_total"
        print(
            f"aps={args.aps} titik={titik} target_pps={args.rate:g} "
            f"handled_pps={accepted / args.window:.0f} "
            f"answered_pps={answered.value / args.window:.0f} "
            f"lag_p99_quiet_s={lag_p99(quiet_a, quiet_b):g} "
            f"lag_p99_radius_s={lag_p99(busy_a, busy_b):g} "
            f"polls_quiet={total(quiet_b, polls) - total(quiet_a, polls):.0f} "
            f"polls_radius={total(busy_b, polls) - total(busy_a, polls):.0f} "
            f"daemon_cpu_cores={(cpu_b[0] - cpu_a[0]) / args.window:.2f} "
            f"radius_cpu_us_per_packet={(cpu_b[1] - cpu_a[1]) / max(answered.value, 1) * 1e6:.0f} "
            f"agents_cpu_cores={(cpu_b[2] - cpu_a[2]) / args.window:.2f} "
            f"sender_cpu_cores={sender_cpu.value / args.window:.2f}"
        )


def cpu_now(daemon: int, *groups: list[int]) -> tuple[float, ...]:
    """CPU seconds so far of the daemon, then of each group of processes (the receiver,
    snmpd agents): on a small machine the harness competes for the same cores."""
    return cpu_seconds(daemon), *(sum(cpu_seconds(pid) for pid in group) for group in groups)


def children(pid: int) -> list[int]:
    """The daemon's child processes (the RADIUS accounting process)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


if __name__ == "__main__":
    main()
