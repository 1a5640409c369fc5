"""One evaluation cycle of the default rules over 20,000 APs in 9,000 titik (in memory).

Prints one line: aps=N hotspots=N rules=N eval_ms=X (median of --cycles cycles) firing=N
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from wifimon.alerts.engine import RuleEngine
from wifimon.alerts.rules import load_rules
from wifimon.inventory import Inventory
from wifimon.measurements import ApSample, ClientReading, InterfaceReading
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


def feed(state: State, now: float) -> None:
    for index, ap_id in enumerate(state.aps):
        if index % 97 == 0:
            state.record(ApSample(ap_id=ap_id, timestamp=now, reachable=False))
            continue
        interface = InterfaceReading(1, "ether1", True, 100.0, int(now * 1000), 0, 64, "uplink")
        state.record(
            ApSample(
                ap_id=ap_id,
                timestamp=now,
                reachable=True,
                uptime_seconds=now,
                interfaces=[interface],
                clients=ClientReading(total=(index * 7) % 60),
            )
        )
    for index, hotspot_id in enumerate(state.hotspots):
        mbps = 30.0 + (index % 50)
        state.record_probe(hotspot_id, ProbeResult("http", "u", True, now, download_bps=mbps * 1e6))
        state.record_probe(
            hotspot_id,
            ProbeResult(
                "icmp", "t", True, now, sent=10, received=10, loss_ratio=0.0, rtt_avg_seconds=0.01
            ),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aps", type=int, default=20_000)
    parser.add_argument("--hotspots", type=int, default=9_000)
    parser.add_argument("--cycles", type=int, default=5)
    args = parser.parse_args()
    rules = load_rules(ROOT / "config" / "rules.yaml")
    state = fleet(args.hotspots, args.aps)
    engine = RuleEngine(rules, state)
    timings = []
    now = 1_000_000.0
    for cycle in range(args.cycles + 1):
        feed(state, now)
        started = time.perf_counter()
        engine.evaluate(now)
        if cycle:  # the first cycle builds histories
            timings.append(time.perf_counter() - started)
        now += rules.evaluation_interval
    firing = sum(1 for a in engine.active() if a.alert.state.value == "firing")
    print(
        f"aps={args.aps} hotspots={args.hotspots} rules={len(rules.rules)} "
        f"eval_ms={statistics.median(timings) * 1000:.1f} firing={firing}"
    )


if __name__ == "__main__":
    main()
