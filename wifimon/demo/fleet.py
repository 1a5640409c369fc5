"""The demo fleet: real place names from JakWifi and Cilegon, one recording copy per AP."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

import yaml

from wifimon.inventory import (
    AccessPoint,
    Contact,
    Hotspot,
    HotspotProbe,
    HotspotSessions,
    Inventory,
    Sla,
)
from wifimon.inventory_io import to_yaml


@dataclass(frozen=True)
class DemoAp:
    """One simulated access point and the figures its recording plays back."""

    id: str
    vendor: str
    clients_base: int
    uplink_mbps: float
    uplink: str | None = None
    offline: bool = False  # no recording is served: the AP never answers (a titik "mati")
    hotspot_users: int = 0  # a MikroTik hotspot gateway: users logged in to its portal


@dataclass(frozen=True)
class DemoHotspot:
    id: str
    name: str
    kota: str
    kecamatan: str
    kelurahan: str
    rw: str
    latitude: float
    longitude: float
    provider: str
    aps: tuple[DemoAp, ...]
    min_mbps: float = 50.0


JT, JB, JP, JS, JU = (f"Jakarta {s}" for s in ("Timur", "Barat", "Pusat", "Selatan", "Utara"))
FLEET: tuple[DemoHotspot, ...] = (
    DemoHotspot(
        "jt-cbu-01",
        "RPTRA Cipinang Besar Utara",
        JT,
        "Jatinegara",
        "Cipinang Besar Utara",
        "03",
        -6.2201,
        106.8746,
        "JakWifi Mitra A",
        (DemoAp("jt-cbu-01-a", "mikrotik", 18, 62), DemoAp("jt-cbu-01-b", "unifi", 12, 55)),
    ),
    DemoHotspot(
        "jt-cbu-02",
        "Pos RW 07 Cipinang Besar Utara",
        JT,
        "Jatinegara",
        "Cipinang Besar Utara",
        "07",
        -6.2178,
        106.8771,
        "JakWifi Mitra A",
        (DemoAp("jt-cbu-02-a", "mikrotik", 44, 48),),
    ),
    DemoHotspot(
        "jt-cbu-03",
        "Masjid RW 11 Cipinang Besar Utara",
        JT,
        "Jatinegara",
        "Cipinang Besar Utara",
        "11",
        -6.2215,
        106.8722,
        "JakWifi Mitra A",
        (DemoAp("jt-cbu-03-a", "openwrt", 9, 70),),
    ),
    DemoHotspot(
        "jt-crc-01",
        "Balai Warga RW 02 Ciracas",
        JT,
        "Ciracas",
        "Ciracas",
        "02",
        -6.3240,
        106.8702,
        "JakWifi Mitra B",
        (DemoAp("jt-crc-01-a", "unifi", 22, 85),),
    ),
    DemoHotspot(
        "jt-crc-02",
        "Posyandu RW 05 Ciracas",
        JT,
        "Ciracas",
        "Ciracas",
        "05",
        -6.3262,
        106.8688,
        "JakWifi Mitra B",
        (DemoAp("jt-crc-02-a", "tplink-eap", 30, 40),),
    ),
    DemoHotspot(
        "jt-crc-03",
        "Taman RW 09 Ciracas",
        JT,
        "Ciracas",
        "Ciracas",
        "09",
        -6.3301,
        106.8734,
        "JakWifi Mitra B",
        (DemoAp("jt-crc-03-a", "mikrotik", 25, 66),),
    ),
    DemoHotspot(
        "jb-dks-01",
        "RPTRA Duri Kosambi",
        JB,
        "Cengkareng",
        "Duri Kosambi",
        "04",
        -6.1685,
        106.7218,
        "JakWifi Mitra C",
        (DemoAp("jb-dks-01-a", "cambium-epmp", 15, 58, "LAN interface 1"),),
    ),
    DemoHotspot(
        "jb-dks-02",
        "Pos RW 10 Duri Kosambi",
        JB,
        "Cengkareng",
        "Duri Kosambi",
        "10",
        -6.1652,
        106.7251,
        "JakWifi Mitra C",
        (DemoAp("jb-dks-02-a", "mikrotik", 38, 52, hotspot_users=31),),
    ),
    DemoHotspot(
        "jp-glr-01",
        "RPTRA Galur",
        JP,
        "Johar Baru",
        "Galur",
        "01",
        -6.1808,
        106.8551,
        "JakWifi Mitra A",
        (DemoAp("jp-glr-01-a", "unifi", 20, 75), DemoAp("jp-glr-01-b", "unifi", 16, 75)),
    ),
    DemoHotspot(
        "jp-glr-02",
        "Sekretariat RW 06 Galur",
        JP,
        "Johar Baru",
        "Galur",
        "06",
        -6.1823,
        106.8570,
        "JakWifi Mitra A",
        (DemoAp("jp-glr-02-a", "openwrt", 7, 45),),
    ),
    DemoHotspot(
        "js-psm-01",
        "Balai Warga Pasar Manggis",
        JS,
        "Setiabudi",
        "Pasar Manggis",
        "08",
        -6.2090,
        106.8425,
        "JakWifi Mitra B",
        (DemoAp("js-psm-01-a", "mikrotik", 27, 90),),
    ),
    DemoHotspot(
        "ju-anc-01",
        "RPTRA Ancol",
        JU,
        "Pademangan",
        "Ancol",
        "02",
        -6.1260,
        106.8380,
        "JakWifi Mitra C",
        (DemoAp("ju-anc-01-a", "unifi", 33, 60),),
    ),
    DemoHotspot(
        "cg-ctk-01",
        "Kantor Kelurahan Citangkil",
        "Cilegon",
        "Citangkil",
        "Citangkil",
        "01",
        -6.0030,
        106.0310,
        "ISP Lokal Citangkil",
        (DemoAp("cg-ctk-01-a", "mikrotik", 14, 96),),
    ),
    DemoHotspot(
        "jt-crc-04",
        "Pos Ronda RW 12 Ciracas",
        JT,
        "Ciracas",
        "Ciracas",
        "12",
        -6.3282,
        106.8751,
        "JakWifi Mitra B",
        (DemoAp("jt-crc-04-a", "mikrotik", 20, 50, offline=True),),
    ),
    DemoHotspot(
        "cg-ctk-02",
        "Taman RW 04 Citangkil",
        "Cilegon",
        "Citangkil",
        "Citangkil",
        "04",
        -6.0065,
        106.0342,
        "ISP Lokal Citangkil",
        (DemoAp("cg-ctk-02-a", "tplink-eap", 11, 55),),
    ),
)


def recording_for(ap: DemoAp, index: int) -> str:
    """The vendor template filled with this AP's figures."""
    template = resources.files("wifimon.demo").joinpath(f"recordings/{ap.vendor}.snmprec")
    uplink_bytes = int(ap.uplink_mbps * 1e6 / 8)
    return Template(template.read_text(encoding="utf-8")).substitute(
        sys_name=ap.id,
        uptime_ticks=100 * (86_400 * (index + 1)),
        rx_bytes_per_s=uplink_bytes,
        tx_bytes_per_s=uplink_bytes // 6,
        wl_bytes_per_s=uplink_bytes // 2,
        client_base=ap.clients_base,
        client_half=ap.clients_base // 2,
        client_swing_half=max(1, ap.clients_base // 8),
        client_swing=max(2, ap.clients_base // 4),
        client_wave=0.02 + 0.005 * (index % 5),
        clients_fixed=ap.clients_base,
        cpu=10 + (index * 7) % 60,
        hotspot_rows=hotspot_rows(ap.hotspot_users),
    )


HOTSPOT_SERVER_ID = "1.3.6.1.4.1.14988.1.1.5.1.1.2"  # mtxrHotspotActiveUserServerID


def hotspot_rows(users: int) -> str:
    """A MikroTik hotspot's active-users table: one row per logged-in user, on server 1."""
    return "".join(f"\n{HOTSPOT_SERVER_ID}.{n}|2|1" for n in range(1, users + 1))


def community_of(ap: DemoAp) -> str:
    """The simulated AP's community (snmpsim picks the recording by it); a secret."""
    return f"komunitas-{ap.id}"


THROUGHPUT_STREAMS = 4


def write_fleet(
    directory: Path,
    snmp_port: int,
    listen: str,
    interval: float,
    speedtest_url: str | None = None,
    throughput_interval: float = 60.0,
) -> Path:
    """Write recordings, secrets, inventory and config for the demo; return the config path.

    With `speedtest_url` (a `wifimon speedtest-server`), every titik gets a throughput probe
    paced to its simulated uplink speed, so some titik fall below their 50 Mbps minimum.
    """
    data_dir = directory / "recordings"
    secret_dir = directory / "secrets"
    data_dir.mkdir(parents=True, exist_ok=True)
    secret_dir.mkdir(parents=True, exist_ok=True)
    secrets: dict[str, dict[str, str]] = {}
    credentials: dict[str, dict[str, str]] = {}
    hotspots: list[Hotspot] = []
    index = 0
    for hotspot in FLEET:
        aps: list[AccessPoint] = []
        for ap in hotspot.aps:
            community = community_of(ap)
            if not ap.offline:
                (data_dir / f"{community}.snmprec").write_text(
                    recording_for(ap, index), encoding="utf-8"
                )
            (secret_dir / ap.id).write_text(community + "\n", encoding="utf-8")
            secrets[f"community-{ap.id}"] = {"file": f"secrets/{ap.id}"}
            credentials[ap.id] = {"version": "2c", "community": f"community-{ap.id}"}
            aps.append(
                AccessPoint(
                    id=ap.id,
                    address=f"127.0.0.1:{snmp_port}",
                    credentials=ap.id,
                    uplink=ap.uplink,
                )
            )
            index += 1
        contact = Contact(name=f"Pengurus RW {hotspot.rw}", whatsapp=f"+62812{index:07d}")
        hotspots.append(
            Hotspot(
                id=hotspot.id,
                name=hotspot.name,
                kota=hotspot.kota,
                kecamatan=hotspot.kecamatan,
                kelurahan=hotspot.kelurahan,
                rw=hotspot.rw,
                latitude=hotspot.latitude,
                longitude=hotspot.longitude,
                provider=hotspot.provider,
                sla=Sla(min_mbps=hotspot.min_mbps),
                contacts=[contact],
                access_points=aps,
                probe=_probe(hotspot, speedtest_url),
                sessions=_sessions(hotspot),
            )
        )
    inventory = Inventory(hotspots=hotspots)
    (directory / "inventory.yaml").write_text(to_yaml(inventory), encoding="utf-8")
    config = {
        "daemon": {"listen": listen, "data_dir": "data"},
        "polling": {"interval_seconds": interval, "timeout_seconds": 1.0, "retries": 1},
        # every simulated titik answers on 127.0.0.1: ping it as often as it is polled
        "probes": {
            "icmp": {"interval_seconds": max(interval, 5.0), "count": 3},
            "throughput": {
                "interval_seconds": throughput_interval,
                "streams": THROUGHPUT_STREAMS,
                "warmup_seconds": 1.0,
                "duration_seconds": 2.0,
            },
        },
        "secrets": secrets,
        "snmp_credentials": credentials,
        "inventory": ["inventory.yaml"],
        "rules": "rules.yaml",
    }
    default_rules = resources.files("wifimon.alerts").joinpath("default_rules.yaml")
    (directory / "rules.yaml").write_text(
        default_rules.read_text(encoding="utf-8"), encoding="utf-8"
    )
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _sessions(hotspot: DemoHotspot) -> HotspotSessions | None:
    """Titik behind a simulated hotspot portal count its logged-in users."""
    gateways = [ap.id for ap in hotspot.aps if ap.hotspot_users]
    return HotspotSessions(gateway=gateways[0]) if gateways else None


def _probe(hotspot: DemoHotspot, speedtest_url: str | None) -> HotspotProbe:
    """A paced download URL at the speed of the titik's first simulated uplink."""
    if speedtest_url is None:
        return HotspotProbe()
    per_stream = hotspot.aps[0].uplink_mbps / THROUGHPUT_STREAMS
    return HotspotProbe(http_url=f"{speedtest_url}?mbps={per_stream:g}")
