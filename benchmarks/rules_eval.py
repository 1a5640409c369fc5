"""One evaluation cycle of the default rules over 20,000 APs in 9,000 titik (in memory).

Prints one line: aps=N hotspots=N rules=N eval_ms=X eval_ms_full=X eval_ms_all_changed=X firing=N
(medians of --cycles cycles). eval_ms: the daemon's way, with data arriving as it does in
production (a quarter of APs and titik report in each 15 s cycle); eval_ms_full: the same
data with every rule run on everything (the reference); eval_ms_all_changed: every titik and
AP with new values in every cycle, the worst case. Like `wifimon run`, the fleet, state and
rules are left out of garbage collections once built (wifimon.memory).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

from wifimon.alerts.engine import RuleEngine
from wifimon.alerts.rules import load_rules
from wifimon.inventory import Inventory
from wifimon.measurements import ApSample, ClientReading, InterfaceReading
from wifimon.memory import freeze_long_lived, thaw
from wifimon.probes.results import ProbeResult
from wifimon.state import State

ROOT = Path(__file__).resolve().parents[1]


def fleet(hotspots: int, aps: int) -> State:
    per = [aps // hotspots + (1 if h < aps % hotspots else 0) for h in range(hotspots)]
    inventory = Inventory.model_validate(
        {
            "hotspots": [
                {
                    "id": f"t{h:05d}",
                    "name": f"Titik {h}",
                    "kota": "Jakarta Timur",
                    "kecamatan": f"Kec {h % 10}",
                    "kelurahan": f"Kel {h % 65}",
                    "rw": f"{h % 20:02d}",
                    "latitude": -6.2,
                    "longitude": 106.85,
                    "provider": f"Mitra {h % 5}",
                    "access_points": [
                        {"id": f"t{h:05d}-{i}", "address": "192.0.2.1", "credentials": "c"}
                        for i in range(n)
                    ],
                }
                for h, n in enumerate(per)
            ]
        }
    )
    return State(inventory)


def feed(state: State, now: float, cycle: int, share: int) -> None:
    """One evaluation interval of data: 1/`share` of APs polled and titik pinged (60 s polls
    and pings with rules every 15 s: share 4), throughput for 1/60 of titik (every 15 min).
    Clients and round-trip times move with every reading; every 97th AP is down.
    """
    for index, ap_id in enumerate(state.aps):
        if (index + cycle) % share:
            continue
        if index % 97 == 0:
            state.record(ApSample(ap_id=ap_id, timestamp=now, reachable=False))
            continue
        interface = InterfaceReading(1, "ether1", True, 100.0, int(now * 1000), 0, 64, "uplink")
        clients = (index * 7 + cycle * (1 + index % 3)) % 25
        state.record(
            ApSample(
                ap_id=ap_id,
                timestamp=now,
                reachable=True,
                uptime_seconds=now,
                interfaces=[interface],
                clients=ClientReading(total=clients),
            )
        )
    for index, hotspot_id in enumerate(state.hotspots):
        if (index + cycle) % (share * 15) == 0:
            mbps = 30.0 + ((index + cycle) % 50)
            result = ProbeResult("http", "u", True, now, download_bps=mbps * 1e6)
            state.record_probe(hotspot_id, result)
        if (index + cycle) % share == 0:
            rtt = 0.01 + ((index + cycle) % 17) / 1000
            result = ProbeResult("icmp", "t", True, now, sent=10, received=10, loss_ratio=0.0,
                                 rtt_avg_seconds=rtt)  # fmt: skip
            state.record_probe(hotspot_id, result)


def cycles(state: State, count: int, share: int, interval: float) -> Iterator[tuple[float, bool]]:
    """A warm-up hour of data (histories full, alerts with `for` fired), then `count` cycles:
    feeds each cycle's data and yields its time and whether it is one of the `count`."""
    now, warm_up = 1_000_000.0, round(3600 / interval)
    for cycle in range(warm_up + count):
        feed(state, now, cycle, share)
        yield now, cycle >= warm_up
        now += interval


def cycle_ms(engine: RuleEngine, state: State, count: int, share: int, interval: float) -> float:
    """Median time of one evaluation cycle after the warm-up hour."""
    timings = []
    for now, measured in cycles(state, count, share, interval):
        started = time.perf_counter()
        engine.evaluate(now)
        if measured:
            timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def arguments(description: str, cycles: int) -> argparse.Namespace:
    """The fleet's size and how many cycles to measure, from the command line."""
    parser = argparse.ArgumentParser(description=description.split("\n\n")[0])
    parser.add_argument("--aps", type=int, default=20_000)
    parser.add_argument("--hotspots", type=int, default=9_000)
    parser.add_argument("--cycles", type=int, default=cycles)
    return parser.parse_args()


def main() -> None:
    args = arguments(__doc__, cycles=30)
    rules = load_rules(ROOT / "config" / "rules.yaml")
    interval = rules.evaluation_interval
    measured = {}
    for label, incremental, share in (("eval_ms", True, 4), ("eval_ms_full", False, 4),
                                      ("eval_ms_all_changed", True, 1)):  # fmt: skip
        thaw()  # the last run's fleet is garbage now
        state = fleet(args.hotspots, args.aps)
        engine = RuleEngine(rules, state, incremental=incremental)
        freeze_long_lived()  # as the daemon does once started
        measured[label] = cycle_ms(engine, state, args.cycles, share, interval)
    firing = sum(1 for a in engine.active() if a.alert.state.value == "firing")
    figures = " ".join(f"{label}={ms:.1f}" for label, ms in measured.items())
    print(f"aps={args.aps} hotspots={args.hotspots} rules={len(rules.rules)} {figures} "
          f"firing={firing}")  # fmt: skip


if __name__ == "__main__":
    main()
