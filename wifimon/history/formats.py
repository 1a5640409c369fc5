"""A report as CSV (for Indonesian spreadsheets: separator and decimal mark configurable)
and JSON; labels in Bahasa Indonesia by default, English on request."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from wifimon.alerts.templates import WIB
from wifimon.history.report import COLUMNS, MBPS_BIN, Report

LABELS = {
    "id": {
        "group": "Kelompok", "titik": "Jumlah titik", "availability_percent": "Ketersediaan (%)",
        "downtime_seconds": "Waktu mati (detik)", "outages": "Jumlah gangguan",
        "longest_outage_seconds": "Gangguan terlama (detik)",
        "mttr_seconds": "Rata-rata waktu pemulihan (detik)",
        "coverage_percent": "Cakupan pemantauan (%)",
        "unknown_seconds": "Tidak terpantau (detik)", "maintenance_seconds": "Pemeliharaan (detik)",
        "probes": "Uji kecepatan", "probes_meeting_min_percent": "Uji memenuhi minimum (%)",
        "median_mbps": "Median Mbps", "p10_mbps": "Persentil 10 Mbps",
        "avg_users": "Rata-rata pengguna", "peak_users": "Puncak pengguna",
        "avg_sessions": "Rata-rata sesi login", "avg_associated": "Rata-rata perangkat terhubung",
        "avg_not_logged_in": "Rata-rata terhubung tanpa login",
        "hours_at_capacity": "Jam pada kapasitas penuh", "reboots": "Restart",
        "titik_meeting_sla": "Titik memenuhi SLA", "verdict": "Kesimpulan",
        "meets": "memenuhi", "fails": "tidak memenuhi", "insufficient_data": "data kurang",
        "title": "Laporan ketersediaan dan SLA wifimon", "period": "Periode",
        "by": "Dikelompokkan per", "generated": "Dibuat", "targets": "Target SLA",
        "digest": "SHA-256 baris data", "version": "Versi wifimon", "filters": "Saringan",
        "total": "Semua titik", "summary": "Ringkasan", "table": "Rincian",
        "maintenance": "Pemeliharaan yang dikecualikan", "no_maintenance": "Tidak ada.",
        "reason": "Alasan", "author": "Oleh", "hours": "Jam", "matchers": "Cakupan",
        "chart_availability": "Ketersediaan per kelompok (terendah dulu; garis: target)",
        "legend": "warna: hijau memenuhi SLA, merah tidak memenuhi, abu-abu data kurang",
        "chart_mbps": "Sebaran kecepatan terukur (garis: minimum SLA)",
        "chart_capacity": "Jam pada kapasitas penuh (terbanyak dulu)",
        "shown": "ditampilkan {shown} dari {total}", "no_data": "Belum ada data.",
        "hms": "j:mm:dd", "page": "Halaman", "of": "dari",
        "downtime": "Waktu mati", "longest": "Gangguan terlama",
        "mttr": "Rata-rata pemulihan", "unknown": "Tidak terpantau", "maint": "Pemeliharaan",
        "titik_ok": "{meets} dari {titik} titik memenuhi SLA",
    },
    "en": {
        "group": "Group", "titik": "Hotspots", "availability_percent": "Availability (%)",
        "downtime_seconds": "Downtime (s)", "outages": "Outages",
        "longest_outage_seconds": "Longest outage (s)", "mttr_seconds": "Mean time to restore (s)",
        "coverage_percent": "Monitoring coverage (%)", "unknown_seconds": "Not monitored (s)",
        "maintenance_seconds": "Maintenance (s)", "probes": "Speed tests",
        "probes_meeting_min_percent": "Tests meeting minimum (%)", "median_mbps": "Median Mbps",
        "p10_mbps": "10th percentile Mbps", "avg_users": "Average users",
        "peak_users": "Peak users", "avg_sessions": "Average logged-in sessions",
        "avg_associated": "Average associated devices",
        "avg_not_logged_in": "Average associated, not logged in",
        "hours_at_capacity": "Hours at capacity",
        "reboots": "Reboots", "titik_meeting_sla": "Hotspots meeting SLA", "verdict": "Verdict",
        "meets": "meets", "fails": "fails", "insufficient_data": "insufficient data",
        "title": "wifimon availability and SLA report", "period": "Period", "by": "Grouped by",
        "generated": "Generated", "targets": "SLA targets", "digest": "SHA-256 of data rows",
        "version": "wifimon version", "filters": "Filters",
        "total": "All hotspots", "summary": "Summary", "table": "Details",
        "maintenance": "Maintenance excluded", "no_maintenance": "None.",
        "reason": "Reason", "author": "By", "hours": "Hours", "matchers": "Scope",
        "chart_availability": "Availability per group (lowest first; line: target)",
        "legend": "colours: green meets the SLA, red fails, grey insufficient data",
        "chart_mbps": "Distribution of measured speed (line: SLA minimum)",
        "chart_capacity": "Hours at capacity (most first)",
        "shown": "showing {shown} of {total}", "no_data": "No data yet.",
        "hms": "h:mm:ss", "page": "Page", "of": "of",
        "downtime": "Downtime", "longest": "Longest outage",
        "mttr": "Mean time to restore", "unknown": "Not monitored", "maint": "Maintenance",
        "titik_ok": "{meets} of {titik} hotspots meet the SLA",
    },
}  # fmt: skip


def when(at: float) -> str:
    return datetime.fromtimestamp(at, WIB).strftime("%Y-%m-%d %H:%M:%S WIB")


def metadata(report: Report, language: str) -> list[tuple[str, str]]:
    """What the report states about itself, as (label, value)."""
    words = LABELS[language]
    t = report.targets
    return [
        (words["title"], ""),
        (words["period"], f"{when(report.period.start)} - {when(report.period.end)}"),
        (words["by"], report.by),
        (words["filters"], ", ".join(f"{k}={v}" for k, v in report.filters.items()) or "-"),
        (
            words["targets"],
            f"{words['availability_percent']} >= {t.availability_percent:g}, "
            f"{words['probes_meeting_min_percent']} >= {t.probes_meeting_min_percent:g}, "
            f"{words['coverage_percent']} >= {t.min_coverage_percent:g}",
        ),
        (words["generated"], when(report.generated_at)),
        (words["version"], report.version),
        (words["digest"], report.digest),
    ]


def _cell(value: Any, decimal: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
        return text.replace(".", decimal) if decimal != "." else text
    return str(value)


def to_csv(report: Report, language: str = "id", delimiter: str = ";", decimal: str = ",") -> str:
    """Header row and data rows, then the report's own statements as `# label: value` lines
    (spreadsheets show them below the table)."""
    words = LABELS[language]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([words[c] for c in COLUMNS])
    for row in report.rows:
        cells = {**row, "verdict": words[row["verdict"]]}
        writer.writerow([_cell(cells[c], decimal) for c in COLUMNS])
    for label, value in metadata(report, language):
        writer.writerow([f"# {label}: {value}" if value else f"# {label}"])
    return "\ufeff" + out.getvalue()  # a BOM: spreadsheet software then reads UTF-8


def to_json(report: Report) -> str:
    return json.dumps({
        "report": "uptime", "period": {"start": when(report.period.start),
                                       "end": when(report.period.end)},
        "by": report.by, "filters": report.filters, "targets": report.targets.model_dump(),
        "generated_at": when(report.generated_at), "wifimon_version": report.version,
        "rows_sha256": report.digest, "rows": report.rows, "total": report.total,
        "mbps_histogram": {"bin_mbps": MBPS_BIN, "counts": report.mbps_histogram},
        "maintenance": report.maintenance,
    }, ensure_ascii=False, indent=2)  # fmt: skip
