"""A month of made-up but plausible history for many titik: a few outages each, speed tests,
users following the day (busy evenings, some titik full), reboots and one daemon restart.
Used by the report benchmark (9,000 titik) and by the document tests (a few hundred)."""

from __future__ import annotations

import bisect
import random
import sqlite3
from pathlib import Path

import yaml

from wifimon.history.report import Period
from wifimon.history.store import Batch, HistoryStore
from wifimon.inventory import Hotspot, Inventory
from wifimon.inventory_io import to_csv, to_yaml

KELURAHAN = ["Galur", "Tanah Tinggi", "Kampung Rawa", "Johar Baru", "Cempaka Putih Timur",
             "Rawasari", "Utan Kayu Selatan", "Pisangan Baru", "Cilincing", "Kalibaru",
             "Kebon Jeruk", "Duri Kepa", "Kedoya Utara", "Grogol", "Tomang", "Jelambar",
             "Pegadungan", "Kapuk", "Semanan", "Cengkareng Timur"]  # fmt: skip
PROVIDERS = ["JakWifi Mitra A", "JakWifi Mitra B", "Mitra Kota C"]


def hotspots(count: int) -> list[Hotspot]:
    """`count` titik spread over kelurahan (a few hundred per kelurahan at 9,000)."""
    kelurahan = [f"{KELURAHAN[k % 20]}{'' if k < 20 else f' {k // 20 + 1}'}"
                 for k in range(max(1, count // 60))]  # fmt: skip
    return [
        Hotspot.model_validate({
            "id": f"t{i:05d}", "name": f"Titik {i}", "kota": "Jakarta",
            "kecamatan": f"Kecamatan {i % 44}", "kelurahan": kelurahan[i % len(kelurahan)],
            "rw": f"{i % 20:02d}",
            "latitude": -6.2, "longitude": 106.85, "provider": PROVIDERS[i % 3],
            "access_points": [{"id": f"t{i:05d}-a", "address": "192.0.2.1", "credentials": "c"}]})
        for i in range(count)
    ]  # fmt: skip


def fill(store: HistoryStore, titik: list[Hotspot], period: Period, seed: int = 1,
         probe_every_hours: float = 2.0) -> dict[str, int]:  # fmt: skip
    """Write the period's history; returns the rows written per kind."""
    rng = random.Random(seed)
    start, end = period.start, period.end
    restart = start + (end - start) * 0.6  # the daemon is down for 40 minutes here
    runs = [(start, restart), (restart + 2400, end)]
    counts = {"status": 0, "probes": 0, "hours": 0, "reboots": 0}
    for run_start, run_end in runs:
        run_id = store.start_run(run_start)
        status, probes, reboots = _events(rng, titik, run_start, run_end, probe_every_hours)
        counts["status"] += len(status)
        counts["probes"] += len(probes)
        counts["reboots"] += len(reboots)
        kinds = [(rows, [row[at] for row in rows]) for rows, at in
                 ((status, 1), (probes, 1), (reboots, 2))]  # fmt: skip
        day = run_start
        while day < run_end:  # in time order, a day per transaction, as the daemon writes
            until = min(day + 86400, run_end)
            some_status, some_probes, some_reboots = (
                rows[bisect.bisect_left(times, day) : bisect.bisect_left(times, until)]
                for rows, times in kinds)  # fmt: skip
            store.write(Batch(run_id, until, some_status, some_probes, (), some_reboots))
            day = until
    counts["hours"] = _hours(store, rng, titik, start, end)
    return counts


def _events(rng: random.Random, titik: list[Hotspot], start: float, end: float,
            every_hours: float) -> tuple[list, list, list]:  # type: ignore[type-arg]  # fmt: skip
    status, probes, reboots = [], [], []
    for hotspot in titik:
        status.append((hotspot.id, start, "up"))
        weak = rng.random() < 0.1  # a tenth of the titik are badly served
        for _ in range(rng.randint(0, 8 if weak else 2)):
            down_at = rng.uniform(start, end - 7200)
            status += [(hotspot.id, down_at, "down"),
                       (hotspot.id, down_at + rng.uniform(120, 7200), "up")]  # fmt: skip
        t = start + rng.uniform(0, every_hours * 3600)
        while t < end:
            ok = rng.random() > 0.02
            mbps = max(1.0, rng.gauss(38 if weak else 75, 15)) if ok else None
            probes.append((hotspot.id, t, "http", ok, mbps))
            t += every_hours * 3600
        if weak and rng.random() < 0.5:
            reboots += [(f"{hotspot.id}-a", hotspot.id, rng.uniform(start, end))
                        for _ in range(rng.randint(1, 5))]  # fmt: skip
    status.sort(key=lambda s: s[1])
    probes.sort(key=lambda p: p[1])
    reboots.sort(key=lambda r: r[2])
    return status, probes, reboots


def _hours(store: HistoryStore, rng: random.Random, titik: list[Hotspot], start: float,
           end: float) -> int:  # fmt: skip
    """Hourly rollups as the writer keeps them from one-minute samples (60 per hour), written
    straight into the file: a month of minutes for 9,000 titik would take hours to replay."""
    first, last = int(start // 3600), int(end // 3600)
    db = sqlite3.connect(store.path, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    for hotspot in titik:
        popular = rng.random() < 0.15
        rows = []
        for hour in range(first, last):
            local = (hour + 7) % 24  # WIB
            base = 8 + 30 * max(0.0, 1 - abs(local - 20) / 8) + (15 if popular else 0)
            peak = min(60, int(base + rng.uniform(0, 12)))
            at_capacity = rng.randint(5, 60) if peak >= 50 else 0
            rows.append((hotspot.id, hour, 60, int(base * 60), peak, at_capacity))
        db.executemany("INSERT INTO clients_hour VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.execute("COMMIT")
    db.close()
    return len(titik) * (last - first)


def write_config(directory: Path, titik: list[Hotspot], form: str = "yaml") -> Path:
    """A config whose inventory (YAML or CSV) is `titik`, with data_dir directory/data."""
    inventory = Inventory(hotspots=titik)
    text = to_yaml(inventory) if form == "yaml" else to_csv(inventory, ";")
    (directory / f"inventory.{form}").write_text(text, encoding="utf-8")
    (directory / "community").write_text("synthetic\n", encoding="utf-8")
    config = {"daemon": {"data_dir": "data"}, "secrets": {"c": {"file": "community"}},
              "snmp_credentials": {"c": {"version": "2c", "community": "c"}},
              "inventory": [f"inventory.{form}"]}  # fmt: skip
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path
