"""Writes the wifimon Grafana dashboards (grafana/dashboards/*.json) from one description.

Run `python grafana/generate.py` after changing it; tests check that the committed JSON is
what this script produces, that every query runs against a real Prometheus, and the links.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "dashboards"
DS = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39
STATE_MAPPINGS = [
    {
        "type": "value",
        "options": {
            "0": {"text": "belum tahu", "color": "gray", "index": 0},
            "1": {"text": "hidup", "color": "green", "index": 1},
            "2": {"text": "penuh", "color": "orange", "index": 2},
            "3": {"text": "lambat", "color": "yellow", "index": 3},
            "4": {"text": "mati", "color": "red", "index": 4},
        },
    },
]
HIERARCHY = 'kota=~"$kota", kecamatan=~"$kecamatan", kelurahan=~"$kelurahan"'


class Board:
    """Collects panels row by row on Grafana's 24-column grid."""

    def __init__(self, uid: str, title: str, description: str) -> None:
        self.uid, self.title, self.description = uid, title, description
        self.panels: list[dict[str, Any]] = []
        self.variables: list[dict[str, Any]] = [datasource_variable()]
        self.x = self.y = self.row_height = 0

    def add(self, panel: dict[str, Any], w: int, h: int) -> None:
        if self.x + w > 24:
            self.x, self.y = 0, self.y + self.row_height
            self.row_height = 0
        panel["id"] = len(self.panels) + 1
        panel["gridPos"] = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.panels.append(panel)
        self.x += w
        self.row_height = max(self.row_height, h)

    def variable(self, name: str, label: str, query: str, multi: bool = True) -> None:
        self.variables.append(
            {
                "name": name,
                "label": label,
                "type": "query",
                "datasource": DS,
                "query": {"query": query, "refId": f"var-{name}"},
                "definition": query,
                "refresh": 2,
                "includeAll": multi,
                "multi": multi,
                "sort": 1,
                "allValue": ".*" if multi else None,
                "current": {"selected": True, "text": ["All"], "value": ["$__all"]}
                if multi
                else {},
            }
        )

    def render(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["wifimon"],
            "timezone": "Asia/Jakarta",
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "editable": True,
            "graphTooltip": 1,
            "refresh": "1m",
            "time": {"from": "now-24h", "to": "now"},
            "templating": {"list": self.variables},
            "annotations": {"list": []},
            "links": [
                {
                    "type": "dashboards",
                    "tags": ["wifimon"],
                    "asDropdown": True,
                    "title": "wifimon",
                    "includeVars": True,
                    "keepTime": True,
                }
            ],
            "panels": self.panels,
        }


def datasource_variable() -> dict[str, Any]:
    return {
        "name": "datasource",
        "label": "Prometheus",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "refresh": 1,
    }


def target(
    expr: str, legend: str = "", instant: bool = False, ref: str = "A", table: bool = False
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "datasource": DS,
        "expr": expr,
        "refId": ref,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "instant": instant,
    }
    if table:
        result["format"] = "table"
    return result


def panel(
    kind: str,
    title: str,
    targets: list[dict[str, Any]],
    unit: str = "none",
    description: str = "",
    **extra: Any,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": targets,
        "fieldConfig": {
            "defaults": {"unit": unit, **extra.pop("defaults", {})},
            "overrides": extra.pop("overrides", []),
        },
        "options": extra.pop("options", {}),
    }
    result.update(extra)
    return result


def stat(title: str, expr: str, color: str, unit: str = "none") -> dict[str, Any]:
    return panel(
        "stat",
        title,
        [target(expr, instant=True)],
        unit,
        defaults={"color": {"mode": "fixed", "fixedColor": color}},
        options={
            "reduceOptions": {"calcs": ["lastNotNull"]},
            "colorMode": "background",
            "graphMode": "none",
            "textMode": "value",
        },
    )


def timeseries(
    title: str,
    targets: list[dict[str, Any]],
    unit: str = "none",
    description: str = "",
    **extra: Any,
) -> dict[str, Any]:
    return panel(
        "timeseries",
        title,
        targets,
        unit,
        description,
        options={
            "legend": {
                "displayMode": "table",
                "placement": "bottom",
                "calcs": ["lastNotNull", "max"],
            },
            "tooltip": {"mode": "multi"},
        },
        **extra,
    )


def table(
    title: str,
    expr: str,
    unit: str = "none",
    description: str = "",
    links: list[dict[str, Any]] | None = None,
    hidden: tuple[str, ...] = ("Time",),
    **extra: Any,
) -> dict[str, Any]:
    overrides = []
    if links:
        overrides.append(
            {
                "matcher": {"id": "byName", "options": "hotspot"},
                "properties": [{"id": "links", "value": links}],
            }
        )
    return panel(
        "table",
        title,
        [target(expr, instant=True, table=True)],
        unit,
        description,
        overrides=overrides,
        transformations=[
            {"id": "organize", "options": {"excludeByName": {name: True for name in hidden}}}
        ],
        options={"showHeader": True, "footer": {"show": False}},
        **extra,
    )


def titik_link() -> list[dict[str, Any]]:
    """Clicking a titik opens its detail dashboard with the time range kept."""
    return [
        {
            "title": "Detail titik",
            "url": "/d/wifimon-titik/wifimon-titik?var-hotspot=${__data.fields.hotspot}"
            "&var-kelurahan=${__data.fields.kelurahan}&${__url_time_range}",
        }
    ]


def kelurahan_link() -> list[dict[str, Any]]:
    return [
        {
            "title": "Wilayah",
            "url": "/d/wifimon-wilayah/wifimon-wilayah?var-kelurahan=${__data.fields.kelurahan}"
            "&${__url_time_range}",
        }
    ]


def noc() -> Board:
    b = Board(
        "wifimon-noc",
        "wifimon · NOC",
        "Semua titik: peta, jumlah, wilayah dan penyedia terburuk, peringatan aktif.",
    )
    counts = [
        ("Semua titik", "count(wifimon:hotspot_state)", "blue"),
        ("Hidup", "count(wifimon:hotspot_state == 1) or vector(0)", "green"),
        ("Lambat", "count(wifimon:hotspot_state == 3) or vector(0)", "yellow"),
        ("Penuh", "count(wifimon:hotspot_state == 2) or vector(0)", "orange"),
        ("Mati", "count(wifimon:hotspot_state == 4) or vector(0)", "red"),
        ("Belum tahu", "count(wifimon:hotspot_state == 0) or vector(0)", "gray"),
    ]
    for title, expr, color in counts:
        b.add(stat(title, expr, color), 4, 4)
    geo = panel(
        "geomap",
        "Peta titik",
        [
            target(
                "wifimon:hotspot_state * on (hotspot) group_left (name, latitude, longitude) "
                "max by (hotspot, name, latitude, longitude) (wifimon_hotspot_info)",
                instant=True,
                table=True,
            )
        ],
        description="Warna: hijau hidup, kuning lambat, oranye penuh, merah mati, abu-abu "
        "belum tahu.",
        defaults={
            "mappings": STATE_MAPPINGS,
            "color": {"mode": "thresholds"},
            "thresholds": {
                "mode": "absolute",
                "steps": [
                    {"color": "gray", "value": None},
                    {"color": "green", "value": 1},
                    {"color": "orange", "value": 2},
                    {"color": "yellow", "value": 3},
                    {"color": "red", "value": 4},
                ],
            },
        },
        transformations=[
            {
                "id": "convertFieldType",
                "options": {
                    "conversions": [
                        {"targetField": "latitude", "destinationType": "number"},
                        {"targetField": "longitude", "destinationType": "number"},
                    ]
                },
            }
        ],
        options={
            "view": {"id": "coords", "lat": -6.2, "lon": 106.85, "zoom": 10},
            "controls": {"showZoom": True, "mouseWheelZoom": True},
            "basemap": {"type": "default", "name": "Basemap"},
            "layers": [
                {
                    "type": "markers",
                    "name": "Titik",
                    "config": {
                        "style": {
                            "size": {"fixed": 6},
                            "color": {"field": "Value"},
                            "opacity": 0.9,
                            "symbol": {"fixed": "img/icons/marker/circle.svg"},
                        },
                        "showLegend": True,
                    },
                    "location": {
                        "mode": "coords",
                        "latitude": "latitude",
                        "longitude": "longitude",
                    },
                    "tooltip": True,
                }
            ],
        },
    )
    b.add(geo, 14, 14)
    b.add(
        table(
            "Titik mati sekarang",
            "wifimon:hotspot_state == 4",
            links=titik_link(),
            hidden=("Time", "Value"),
        ),
        10,
        7,
    )
    b.add(
        table(
            "Peringatan aktif (Prometheus)",
            'ALERTS{alertname=~"Wifimon.*"}',
            hidden=("Time", "Value", "__name__"),
        ),
        10,
        7,
    )
    b.add(
        table(
            "Peringatan aktif (aturan wifimon)",
            "wifimon_alert",
            links=titik_link(),
            hidden=("Time", "Value", "__name__", "instance", "job"),
        ),
        24,
        7,
    )
    b.add(
        table(
            "Kelurahan terburuk (ketersediaan 1 jam)",
            "bottomk(10, wifimon:kelurahan_availability:ratio_1h)",
            "percentunit",
            links=None,
            hidden=("Time",),
        ),
        12,
        8,
    )
    b.add(
        table(
            "Penyedia terburuk (ketersediaan 1 jam)",
            "bottomk(10, wifimon:provider_availability:ratio_1h)",
            "percentunit",
        ),
        12,
        8,
    )
    return b


def wilayah() -> Board:
    b = Board(
        "wifimon-wilayah",
        "wifimon · Wilayah",
        "Kota → kecamatan → kelurahan: kondisi, pengguna dan ketersediaan titik.",
    )
    b.variable("kota", "Kota", "label_values(wifimon_hotspot_info, kota)")
    b.variable(
        "kecamatan", "Kecamatan", 'label_values(wifimon_hotspot_info{kota=~"$kota"}, kecamatan)'
    )
    b.variable(
        "kelurahan",
        "Kelurahan",
        'label_values(wifimon_hotspot_info{kota=~"$kota", kecamatan=~"$kecamatan"}, kelurahan)',
    )
    for title, code, color in (
        ("Hidup", 1, "green"),
        ("Lambat", 3, "yellow"),
        ("Penuh", 2, "orange"),
        ("Mati", 4, "red"),
    ):
        b.add(
            stat(
                title, f"count(wifimon:hotspot_state{{{HIERARCHY}}} == {code}) or vector(0)", color
            ),
            6,
            4,
        )
    b.add(
        table(
            "Titik di wilayah ini",
            f"wifimon:hotspot_state{{{HIERARCHY}}}",
            links=titik_link(),
            hidden=("Time", "__name__"),
            defaults={"mappings": STATE_MAPPINGS},
        ),
        24,
        9,
    )
    b.add(
        timeseries(
            "Pengguna per kelurahan",
            [
                target(
                    f"sum by (kelurahan) (wifimon_hotspot_clients{{{HIERARCHY}}})", "{{kelurahan}}"
                )
            ],
        ),
        12,
        8,
    )
    b.add(
        timeseries(
            "Ketersediaan per kelurahan",
            [
                target(
                    f"avg by (kelurahan) (avg_over_time(wifimon_hotspot_up{{{HIERARCHY}}}"
                    "[$__rate_interval]))",
                    "{{kelurahan}}",
                )
            ],
            "percentunit",
        ),
        12,
        8,
    )
    b.add(
        table(
            "Ketersediaan dalam rentang waktu",
            f"avg by (kota, kecamatan, kelurahan) (avg_over_time(wifimon_hotspot_up"
            f"{{{HIERARCHY}}}[$__range]))",
            "percentunit",
            links=None,
        ),
        24,
        8,
    )
    return b


def titik() -> Board:
    b = Board(
        "wifimon-titik",
        "wifimon · Titik",
        "Satu titik: pengguna terhadap kapasitas, Mbps terhadap minimum, RTT, "
        "ketersediaan, restart, per access point dan radio.",
    )
    b.variable("kelurahan", "Kelurahan", "label_values(wifimon_hotspot_info, kelurahan)")
    b.variable(
        "hotspot",
        "Titik",
        'label_values(wifimon_hotspot_info{kelurahan=~"$kelurahan"}, hotspot)',
        multi=False,
    )
    h = 'hotspot="$hotspot"'
    b.add(stat("Kondisi", f"wifimon:hotspot_state{{{h}}}", "blue"), 4, 4)
    b.panels[-1]["fieldConfig"]["defaults"]["mappings"] = STATE_MAPPINGS
    b.panels[-1]["fieldConfig"]["defaults"]["color"] = {"mode": "thresholds"}
    b.add(
        stat(
            "Ketersediaan (rentang)",
            f"avg_over_time(wifimon_hotspot_up{{{h}}}[$__range])",
            "green",
            "percentunit",
        ),
        5,
        4,
    )
    b.add(
        stat(
            "Restart (rentang)",
            f"sum(increase(wifimon_ap_reboots_total{{{h}}}[$__range]))",
            "purple",
        ),
        5,
        4,
    )
    b.add(
        stat(
            "Jam penuh (rentang)",
            f"increase(wifimon_hotspot_at_capacity_seconds_total{{{h}}}[$__range]) / 3600",
            "orange",
            "h",
        ),
        5,
        4,
    )
    b.add(
        stat(
            "Uji kecepatan terakhir",
            f"wifimon_probe_download_bits_per_second{{{h}}}",
            "blue",
            "bps",
        ),
        5,
        4,
    )
    b.add(
        timeseries(
            "Pengguna dan kapasitas",
            [
                target(f"wifimon_hotspot_clients{{{h}}}", "pengguna (dihitung untuk SLA)"),
                target(f"wifimon_hotspot_capacity_users{{{h}}}", "kapasitas", ref="B"),
                target(
                    f"wifimon_hotspot_associated_clients{{{h}}}", "perangkat terhubung", ref="C"
                ),
            ],
        ),
        12,
        8,
    )
    b.add(
        timeseries(
            "Portal: login dan perangkat terhubung",
            [
                target(f"wifimon_hotspot_sessions{{{h}}}", "sesi login"),
                target(
                    f"wifimon_hotspot_not_logged_in_clients{{{h}}}",
                    "terhubung, belum login",
                    ref="B",
                ),
            ],
            description="Hanya titik dengan sumber sesi (RADIUS atau hotspot MikroTik): "
            "kosong berarti tidak dihitung, bukan nol.",
        ),
        12,
        8,
    )
    b.add(
        timeseries(
            "Kecepatan terhadap minimum",
            [
                target(f"wifimon_probe_download_bits_per_second{{{h}}}", "uji unduh (median)"),
                target(
                    f"wifimon_probe_download_p10_bits_per_second{{{h}}}", "uji unduh (p10)", ref="B"
                ),
                target(f"wifimon_hotspot_uplink_bits_per_second{{{h}}}", "uplink (SNMP)", ref="C"),
                target(
                    f"wifimon_hotspot_sla_min_bits_per_second{{{h}}}", "minimum kontrak", ref="D"
                ),
            ],
            "bps",
        ),
        12,
        8,
    )
    b.add(
        timeseries(
            "RTT dan jitter",
            [
                target(f"wifimon_probe_rtt_avg_seconds{{{h}}}", "rata-rata"),
                target(f"wifimon_probe_rtt_max_seconds{{{h}}}", "maks", ref="B"),
                target(f"wifimon_probe_jitter_seconds{{{h}}}", "jitter", ref="C"),
            ],
            "s",
        ),
        8,
        8,
    )
    b.add(
        timeseries(
            "Paket hilang", [target(f"wifimon_probe_loss_ratio{{{h}}}", "hilang")], "percentunit"
        ),
        8,
        8,
    )
    b.add(
        timeseries(
            "Hidup / mati",
            [
                target(f"wifimon_hotspot_up{{{h}}}", "titik"),
                target(f"wifimon_ap_up{{{h}}}", "{{ap}}", ref="B"),
            ],
        ),
        8,
        8,
    )
    b.add(
        timeseries("Pengguna per access point", [target(f"wifimon_ap_clients{{{h}}}", "{{ap}}")]),
        8,
        8,
    )
    b.add(
        timeseries(
            "Pengguna per radio / SSID",
            [target(f"wifimon_ap_radio_clients{{{h}}}", "{{ap}} {{radio}}")],
        ),
        8,
        8,
    )
    b.add(
        timeseries(
            "Lalu lintas antarmuka",
            [
                target(
                    f"wifimon_interface_receive_bits_per_second{{{h}}}", "{{ap}} {{interface}} in"
                ),
                target(
                    f"wifimon_interface_transmit_bits_per_second{{{h}}}",
                    "{{ap}} {{interface}} out",
                    ref="B",
                ),
            ],
            "bps",
        ),
        8,
        8,
    )
    return b


def sla() -> Board:
    b = Board(
        "wifimon-sla",
        "wifimon · Penyedia dan SLA",
        "Kepatuhan penyedia pada rentang waktu yang dipilih: ketersediaan dan uji "
        "kecepatan terhadap minimum tiap titik.",
    )
    b.variable("provider", "Penyedia", "label_values(wifimon_hotspot_info, provider)")
    p = 'provider=~"$provider"'
    b.add(
        table(
            "Ketersediaan per penyedia (rentang)",
            f"avg by (provider) (avg_over_time(wifimon_hotspot_up{{{p}}}[$__range]))",
            "percentunit",
        ),
        8,
        8,
    )
    b.add(
        table(
            "Uji kecepatan memenuhi minimum (rentang)",
            f"avg by (provider) (1 - avg_over_time(wifimon_probe_below_sla{{{p}}}[$__range]))",
            "percentunit",
        ),
        8,
        8,
    )
    b.add(
        table(
            "Median Mbps uji per penyedia (saat ini)",
            f"quantile by (provider) (0.5, wifimon_probe_download_bits_per_second{{{p}}})",
            "bps",
        ),
        8,
        8,
    )
    b.add(
        table(
            "Titik per penyedia: ketersediaan (rentang)",
            f"avg_over_time(wifimon_hotspot_up{{{p}}}[$__range])",
            "percentunit",
            links=titik_link(),
            hidden=("Time",),
        ),
        24,
        9,
    )
    b.add(
        timeseries(
            "Ketersediaan per penyedia",
            [target(f"avg by (provider) (wifimon_hotspot_up{{{p}}})", "{{provider}}")],
            "percentunit",
        ),
        12,
        8,
    )
    b.add(
        timeseries(
            "Uji kecepatan per penyedia (median)",
            [
                target(
                    f"quantile by (provider) (0.5, wifimon_probe_download_bits_per_second{{{p}}})",
                    "{{provider}}",
                )
            ],
            "bps",
        ),
        12,
        8,
    )
    return b


def kapasitas() -> Board:
    b = Board(
        "wifimon-kapasitas",
        "wifimon · Kapasitas",
        "Di mana titik penuh, dan di mana titik baru paling dibutuhkan.",
    )
    b.add(
        table(
            "Jam penuh per kelurahan (rentang)",
            "sort_desc(sum by (kota, kecamatan, kelurahan) "
            "(increase(wifimon_hotspot_at_capacity_seconds_total[$__range])) / 3600)",
            "h",
            links=None,
        ),
        12,
        9,
    )
    b.add(
        table(
            "Titik paling membutuhkan tambahan (rata-rata pemakaian, rentang)",
            "topk(10, avg_over_time(wifimon_hotspot_utilisation_ratio[$__range]))",
            "percentunit",
            links=titik_link(),
        ),
        12,
        9,
    )
    b.add(
        table(
            "Jenuh sekarang: banyak pengguna di uplink yang penuh",
            "wifimon_hotspot_saturated == 1 or wifimon_hotspot_saturated == 0",
            links=titik_link(),
            hidden=("Time", "__name__"),
        ),
        12,
        8,
    )
    b.add(
        timeseries(
            "Pengguna per kelurahan", [target("wifimon:kelurahan_clients:sum", "{{kelurahan}}")]
        ),
        12,
        8,
    )
    b.add(
        table(
            "Titik berportal: sesi login terhadap kapasitas (sekarang)",
            "sort_desc(wifimon_hotspot_sessions / on (hotspot) group_left "
            "wifimon_hotspot_capacity_users)",
            "percentunit",
            links=titik_link(),
            hidden=("Time", "__name__"),
        ),
        12,
        8,
    )
    b.add(
        timeseries(
            "Jam penuh per kelurahan (1 hari)",
            [target("wifimon:kelurahan_at_capacity:hours_1d", "{{kelurahan}}")],
            "h",
        ),
        24,
        8,
    )
    return b


def self_monitoring() -> Board:
    b = Board(
        "wifimon-self",
        "wifimon · Pemantau",
        "wifimon sendiri: durasi polling, kesalahan, keterlambatan penjadwal, reload.",
    )
    b.add(
        timeseries(
            "Durasi polling",
            [
                target(
                    "histogram_quantile(0.5, sum by (le) (rate(wifimon_poll_duration_seconds_bucket"
                    "[$__rate_interval])))",
                    "p50",
                ),
                target("wifimon:poll_duration_seconds:p99_5m", "p99", ref="B"),
            ],
            "s",
        ),
        12,
        8,
    )
    b.add(
        timeseries(
            "Keterlambatan penjadwal (p99)",
            [target("wifimon:scheduler_lag_seconds:p99_5m", "p99")],
            "s",
        ),
        12,
        8,
    )
    b.add(
        timeseries(
            "Polling per hasil",
            [target("sum by (result) (rate(wifimon_polls_total[$__rate_interval]))", "{{result}}")],
            "ops",
        ),
        12,
        8,
    )
    b.add(
        timeseries(
            "Kesalahan polling per sebab",
            [target("wifimon:poll_errors:rate_5m", "{{reason}}")],
            "ops",
        ),
        12,
        8,
    )
    b.add(
        timeseries(
            "Kesalahan probe per sebab",
            [
                target(
                    "sum by (kind, reason) (increase(wifimon_probe_errors_total"
                    "[$__rate_interval])) or vector(0)",
                    "{{kind}} {{reason}}",
                )
            ],
        ),
        12,
        8,
    )
    b.add(
        stat("Reload terakhir berhasil", "min(wifimon_config_last_reload_successful)", "green"),
        6,
        8,
    )
    b.add(stat("Access point dipantau", "count(wifimon_ap_info)", "blue"), 6, 8)
    return b


BOARDS = (noc, wilayah, titik, sla, kapasitas, self_monitoring)


def render_all() -> dict[str, str]:
    """File name -> JSON text for every dashboard."""
    return {
        f"{b.uid}.json": json.dumps(b.render(), indent=2, ensure_ascii=False) + "\n"
        for b in (make() for make in BOARDS)
    }


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, text in render_all().items():
        (OUT / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
