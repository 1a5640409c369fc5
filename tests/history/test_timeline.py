"""A scripted day whose figures are worked out by hand: an outage 10:00-10:45 WIB, maintenance
02:00-04:00 (with downtime inside it that must not count), the daemon stopped 06:00-07:00,
a 20-minute poll gap, probes above and below 50 Mbps and a month boundary."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from wifimon.alerts.silences import Silence
from wifimon.alerts.templates import WIB
from wifimon.history.formats import to_csv, to_json
from wifimon.history.report import Period, build, mbps_histogram, rows_digest
from wifimon.history.store import HistoryStore
from wifimon.history.writer import Pending
from wifimon.inventory import Hotspot

INTERVAL = 60.0


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> float:
    return datetime(2026, month, day, hour, minute, tzinfo=WIB).timestamp()


def titik(hotspot_id: str) -> Hotspot:
    return Hotspot.model_validate({
        "id": hotspot_id, "name": hotspot_id, "kota": "Jakarta Pusat", "kecamatan": "Johar Baru",
        "kelurahan": "Galur", "rw": "05", "latitude": -6.18, "longitude": 106.86,
        "provider": "JakWifi Mitra A", "access_points": [
            {"id": f"{hotspot_id}-a", "address": "192.0.2.1", "credentials": "c"}]})  # fmt: skip


def status_a(t: float) -> str:
    if at(1, 2, 30) <= t < at(1, 3, 30) or at(1, 10) <= t < at(1, 10, 45):
        return "down"
    return "up"


def clients_a(t: float) -> int:
    return 50 if at(1, 13) <= t < at(1, 13, 30) else 20


def polls(start: float, end: float) -> list[float]:
    times, t = [], start
    while t < end:
        times.append(t)
        t += INTERVAL
    return times


def run(store: HistoryStore, start: float, end: float, seen: float) -> list[tuple[float, int]]:
    """One daemon run polling A (with its gap) and B every minute; returns A's user samples."""
    pending = Pending(INTERVAL, 2.5 * INTERVAL)
    pending.resume(store.last_status())
    run_id = store.start_run(start)
    samples = []
    for t in polls(start, end):
        if not at(1, 12, 1) <= t < at(1, 12, 20):  # A's polls stop for 20 minutes
            up = status_a(t) == "up"
            pending.poll("A", t, status_a(t), clients_a(t) if up else None, 50)
            if up:
                samples.append((t, clients_a(t)))
        pending.poll("B", t, "up", 5, 50)
        if t == at(1, 9, 30):
            pending.reboot("A-a", "A", t)
        for probe_at, ok, mbps in PROBES:
            if probe_at == t:
                pending.probe("A", t, "http", ok, mbps)
        if int(t) % 3600 == 0:
            store.write(pending.take(run_id, t))
    store.write(pending.take(run_id, seen, final=True))
    return samples


PROBES = [(at(31, 21, month=10), True, 10.0), (at(1, 8), True, 72.5), (at(1, 9), True, 48.0),
          (at(1, 11), True, 55.0), (at(1, 13), False, None)]  # fmt: skip


@pytest.fixture
def history(tmp_path: Path) -> tuple[HistoryStore, list[tuple[float, int]]]:
    store = HistoryStore(tmp_path)
    samples = run(store, at(31, 20, month=10), at(1, 6), at(1, 6))
    samples += run(store, at(1, 7), at(1, 14), at(1, 14))
    return store, samples


MAINTENANCE = Silence(
    id="m1",
    matchers={"hotspot": "A"},
    author="Diskominfo",
    reason="pemeliharaan listrik PLN",
    maintenance=True,
    starts_at=at(1, 2),
    ends_at=at(1, 4),
    created_at=at(30, 9, month=10),
)


def test_figures_exact_to_the_second(history: tuple[HistoryStore, list[tuple[float, int]]]
                                     ) -> None:  # fmt: skip
    store, samples = history
    report = build([(store, [titik("A"), titik("B")])], [MAINTENANCE], Period.month("2026-11"),
                   by="hotspot", now=at(1, 14))  # fmt: skip
    a, b = report.rows
    period = at(1, 14) - at(1, 0)  # 50,400 s: the month so far
    maintenance, down = 2 * 3600, 45 * 60
    unknown = 3600 + (at(1, 12, 20) - (at(1, 12, 0) + INTERVAL))  # stopped; A's gap
    up = period - maintenance - unknown - down
    assert (a["maintenance_seconds"], a["unknown_seconds"], a["downtime_seconds"]) == (
        maintenance,
        unknown,
        down,
    )
    assert a["availability_percent"] == round(up / (up + down) * 100, 3)  # 92.98
    assert a["coverage_percent"] == round((up + down) / (up + down + unknown) * 100, 3)
    assert (a["outages"], a["longest_outage_seconds"], a["mttr_seconds"]) == (1, down, down)
    assert a["probes"] == 4  # October's probe is not November's
    assert a["probes_meeting_min_percent"] == 50.0  # 72.5 and 55 of 72.5, 48, 55, failed
    assert (a["median_mbps"], a["p10_mbps"]) == (55.0, 49.4)
    in_period = [c for t, c in samples if at(1, 0) <= t < at(1, 14)]
    assert a["avg_users"] == round(sum(in_period) / len(in_period), 2)
    assert (a["peak_users"], a["hours_at_capacity"], a["reboots"]) == (50, 0.5, 1)
    assert a["verdict"] == "fails"  # 92.98% < 99%
    assert (b["availability_percent"], b["unknown_seconds"], b["verdict"]) == (
        100.0,
        3600,
        "insufficient_data",
    )  # no speed test: cannot say it meets the SLA
    (galur,) = build([(store, [titik("A"), titik("B")])], [MAINTENANCE], Period.month("2026-11"),
                     by="kelurahan", now=at(1, 14)).rows  # fmt: skip
    b_up = period - 3600
    assert galur["availability_percent"] == round((up + b_up) / (up + down + b_up) * 100, 3)
    assert (galur["titik"], galur["titik_meeting_sla"], galur["verdict"]) == (2, 0, "fails")


def test_october_ends_at_the_month_boundary(history: tuple[HistoryStore, list]) -> None:
    store, _ = history
    (a,) = build([(store, [titik("A")])], [MAINTENANCE], Period.month("2026-10"), by="hotspot",
                 now=at(1, 14)).rows  # fmt: skip
    assert a["unknown_seconds"] == (at(31, 20, month=10) - at(1, 0, month=10))  # before start
    assert a["downtime_seconds"] == 0 and a["availability_percent"] == 100.0
    assert a["probes"] == 1 and a["median_mbps"] == 10.0


def test_csv_and_json_state_their_period_and_digest(history: tuple[HistoryStore, list]
                                                    ) -> None:  # fmt: skip
    store, _ = history
    report = build([(store, [titik("A"), titik("B")])], [MAINTENANCE], Period.month("2026-11"),
                   by="hotspot", now=at(1, 14))  # fmt: skip
    text = to_csv(report)
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Kelompok;Jumlah titik;Ketersediaan (%);Waktu mati (detik)")
    assert lines[1].startswith(
        f"A;1;{str(report.rows[0]['availability_percent']).replace('.', ',')};2700;"
    )
    assert lines[1].endswith(";tidak memenuhi")
    assert f"# SHA-256 baris data: {report.digest}" in lines
    assert "# Periode: 2026-11-01 00:00:00 WIB - 2026-12-01 00:00:00 WIB" in lines
    assert (
        "# Target SLA: Ketersediaan (%) >= 99, Uji memenuhi minimum (%) >= 95, "
        "Cakupan pemantauan (%) >= 90"
    ) in lines
    english = to_csv(report, "en", ",", ".").lstrip("\ufeff").splitlines()
    assert english[0].startswith("Group,Hotspots,Availability (%)") and english[1].startswith(
        "A,1,92.98,2700,1,"
    )
    data = json.loads(to_json(report))
    assert data["rows_sha256"] == rows_digest(data["rows"]) == report.digest
    data["rows"][0]["downtime_seconds"] = 0  # an edited file no longer matches its digest
    assert rows_digest(data["rows"]) != data["rows_sha256"]
    assert data["maintenance"] == [{"id": "m1", "matchers": {"hotspot": "A"},
                                    "author": "Diskominfo", "reason": "pemeliharaan listrik PLN",
                                    "hours": 2.0}]  # fmt: skip


def test_mbps_histogram_counts_each_value_in_its_bin() -> None:
    values = [0.0, 9.99, 10.0, 49.9, 50.0, 149.9, 150.0, 900.0]
    counts = mbps_histogram(np.array(values))
    assert counts[0] == 2 and counts[1] == 1 and counts[4] == 1 and counts[5] == 1
    assert counts[14] == 1 and counts[15] == 2 and sum(counts) == len(values)
