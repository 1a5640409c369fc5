"""A one-month uptime report for 9,000 titik, through `wifimon report uptime` as auditors run it.

Writes a month of history first (tests/history/synthetic.py: status changes, a speed test per
titik every --probe-hours, users as hourly rollups of one-minute samples, reboots, a daemon
restart), then times the command in a child process and reads its peak memory.
Prints one line: titik=N inventory=csv|yaml probes=N hour_rows=N csv_by_hotspot_s=X csv_s=X
pdf_s=X max_rss_mb=X (targets: under 10 s and 1 GB). The default --probe-hours 2 is about four
times the speed tests the default probe settings can run in a month (4 at a time, 12 s each).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.history.synthetic import fill, hotspots, write_config  # noqa: E402
from wifimon.history.report import Period  # noqa: E402
from wifimon.history.store import HistoryStore  # noqa: E402


def timed_report(config: Path, output: Path, *args: str) -> tuple[float, float]:
    """(seconds, peak MB) of one `wifimon report uptime` in its own process."""
    command = [sys.executable, "-m", "wifimon.cli", "report", "uptime", "--config", str(config),
               "--month", "2026-10", "-o", str(output), *args]  # fmt: skip
    script = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
              "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, *command], capture_output=True,
                          text=True, check=True)  # fmt: skip
    seconds = time.perf_counter() - started
    return seconds, int(done.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--titik", type=int, default=9000)
    parser.add_argument("--probe-hours", type=float, default=2.0)
    parser.add_argument("--inventory", choices=("csv", "yaml"), default="csv",
                        help="a city's 9,000 titik usually live in a spreadsheet: CSV")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        titik = hotspots(args.titik)
        config = write_config(directory, titik, args.inventory)
        store = HistoryStore(directory / "data")
        counts = fill(store, titik, Period.month("2026-10"), probe_every_hours=args.probe_hours)
        store.close()
        by_hotspot, rss_1 = timed_report(config, directory / "r1.csv", "--by", "hotspot")
        csv, rss_2 = timed_report(config, directory / "r2.csv")
        pdf, rss_3 = timed_report(config, directory / "r3.pdf", "--format", "pdf")
    print(f"titik={args.titik} inventory={args.inventory} probes={counts['probes']} "
          f"hour_rows={counts['hours']} "
          f"csv_by_hotspot_s={by_hotspot:.2f} csv_s={csv:.2f} pdf_s={pdf:.2f} "
          f"max_rss_mb={max(rss_1, rss_2, rss_3):.0f} (targets: 10 s, 1024 MB)")  # fmt: skip


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
