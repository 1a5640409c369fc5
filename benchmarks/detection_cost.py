"""SNMP requests that `auto` profile detection adds, over every device recording we have.

Each recording (tests/fixtures/devices, and ../shared/devices when present) is played by
snmpsim and polled three ways with a request-counting client:
  configured  the profile named outright (no detection at all),
  first       `auto`, as the daemon's first poll of a device,
  later       `auto` with the profile detected before, as every later poll.
Detection may add at most one request to the first poll and none to later polls.

Prints one line:
devices=N first_extra_max=X first_extra_mean=Y later_extra_max=Z probed=P
(probed: devices whose detection needed the probe request).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
from pathlib import Path

from poll_cost import counting

from wifimon.demo.simulator import Simulator
from wifimon.poller import poll_ap
from wifimon.secrets import Secret
from wifimon.snmp.profiles import ProfileSet, load_profiles
from wifimon.snmp.pysnmp_client import PysnmpClient
from wifimon.snmp.types import CommunityAuth, SnmpTarget

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = (ROOT / "tests" / "fixtures" / "devices", ROOT.parent / "shared" / "devices")


async def requests_of(
    port: int, name: str, profiles: ProfileSet, profile: str, known: str | None
) -> tuple[int, str | None]:
    """(requests sent, profile used) for one poll of recording `name`."""
    client = counting(PysnmpClient)()
    target = SnmpTarget("127.0.0.1", port, "2c", CommunityAuth(Secret(name)), 2.0, 1)
    try:
        sample = await poll_ap(client, target, name, profiles, profile, known)
    finally:
        await client.close()
    return client.requests, sample.profile


async def main(folders: list[Path]) -> None:
    profiles = load_profiles()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        for folder in folders:
            for path in folder.glob("*.snmprec"):
                shutil.copy(path, data / path.name)
        names = sorted(p.stem for p in data.glob("*.snmprec"))
        simulator = Simulator(data)
        await simulator.start(names[0])
        first_extra, later_extra, probed = [], [], 0
        try:
            for name in names:
                first, found = await requests_of(simulator.port, name, profiles, "auto", None)
                assert found is not None, name
                fixed, _ = await requests_of(simulator.port, name, profiles, found, None)
                later, _ = await requests_of(simulator.port, name, profiles, "auto", found)
                first_extra.append(first - fixed)
                later_extra.append(later - fixed)
                probed += first > fixed
        finally:
            await simulator.stop()
    print(
        f"devices={len(names)} first_extra_max={max(first_extra)} "
        f"first_extra_mean={sum(first_extra) / len(first_extra):.2f} "
        f"later_extra_max={max(later_extra)} probed={probed}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, help="recording folders")
    args = parser.parse_args()
    asyncio.run(main(args.folders or [f for f in FOLDERS if f.is_dir()]))
