"""Inventory CSV and YAML: separators, decimal commas, BOMs, errors by row, round trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from wifimon.errors import ConfigError
from wifimon.inventory import parse_address
from wifimon.inventory_io import parse_csv, parse_yaml, read_inventory_files, to_csv, to_yaml

HEADER = (
    "hotspot_id;name;kota;kecamatan;kelurahan;rw;latitude;longitude;provider;"
    "ap_id;ap_address;snmp_credentials"
)
ROW = (
    "jp-glr-01;RPTRA Galur;Jakarta Pusat;Johar Baru;Galur;01;-6,1808;106,8551;Mitra A;"
    "{ap};{addr};v2"
)


def test_semicolons_and_decimal_commas_from_indonesian_spreadsheets() -> None:
    text = (
        "\ufeff"
        + HEADER
        + "\n"
        + ROW.format(ap="a", addr="10.0.0.1")
        + "\n"
        + ROW.format(ap="b", addr="10.0.0.2:1161")
        + "\n"
    )
    inventory, _ = parse_csv(text.removeprefix("\ufeff"), "titik.csv")
    (hotspot,) = inventory.hotspots
    assert hotspot.latitude == pytest.approx(-6.1808)
    assert [ap.id for ap in hotspot.access_points] == ["a", "b"]
    assert hotspot.access_points[1].port == 1161


def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "titik.csv"
    path.write_bytes(("\ufeff" + HEADER + "\n" + ROW.format(ap="a", addr="10.0.0.1")).encode())
    inventory, _ = read_inventory_files([path])
    assert inventory.hotspots[0].id == "jp-glr-01"


def test_commas_work_too() -> None:
    text = (
        HEADER.replace(";", ",")
        + "\n"
        + ROW.format(ap="a", addr="10.0.0.1")
        .replace(";", ",")
        .replace("-6,1808", "-6.1808")
        .replace("106,8551", "106.8551")
    )
    inventory, _ = parse_csv(text, "t.csv")
    assert inventory.hotspots[0].longitude == pytest.approx(106.8551)


def test_bad_address_names_row_and_column() -> None:
    text = (
        HEADER
        + "\n"
        + ROW.format(ap="a", addr="10.0.0.1")
        + "\n"
        + ROW.format(ap="b", addr="10.0.0.256")
    )
    with pytest.raises(ConfigError) as info:
        parse_csv(text, "titik.csv")
    assert str(info.value) == (
        "titik.csv: row 3: column ap_address: '10.0.0.256' is not an IPv4 or IPv6 address"
    )


def test_unknown_column_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        parse_csv(HEADER + ";warna\n", "t.csv")
    assert "row 1: unknown column 'warna'" in str(info.value)


def test_missing_column_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        parse_csv(HEADER.replace(";provider", "") + "\n", "t.csv")
    assert str(info.value) == "t.csv: row 1: missing column 'provider'"


def test_empty_csv_is_refused() -> None:
    with pytest.raises(ConfigError, match="the CSV file is empty"):
        parse_csv("", "t.csv")


def test_csv_yaml_round_trip() -> None:
    yaml_text = Path(__file__).parents[1].joinpath("config", "inventory.yaml").read_text()
    inventory, _ = parse_yaml(yaml_text, "inventory.yaml")
    again, _ = parse_csv(to_csv(inventory, ";"), "export.csv")
    for before, after in zip(inventory.hotspots, again.hotspots, strict=True):
        assert before.model_dump(exclude={"contacts"}) == after.model_dump(exclude={"contacts"})
        assert before.contacts[:1] == after.contacts
    reparsed, _ = parse_yaml(to_yaml(again), "again.yaml")
    assert reparsed == again


@pytest.mark.parametrize(
    "text,expected",
    [
        ("10.1.2.3", ("10.1.2.3", 161)),
        ("10.1.2.3:1161", ("10.1.2.3", 1161)),
        ("2001:db8::1", ("2001:db8::1", 161)),
        ("[2001:db8::1]:1161", ("2001:db8::1", 1161)),
    ],
)
def test_addresses(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["host.example", "10.1.2.3:0", "10.1.2.3:70000", "[::1"])
def test_bad_addresses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_address(text)


def test_session_sources_round_trip_through_csv() -> None:
    header = HEADER + ";users_from;sessions_nas_identifier;sessions_address_pool;sessions_gateway"
    rows = [
        ROW.format(ap="gw-1", addr="10.1.2.3") + ";sessions;;10.5.50.0/24 10.5.51.0/24;gw-1",
        ROW.replace("jp-glr-01", "jp-glr-02").format(ap="ap-2", addr="10.1.2.4")
        + ";;nas-duri nas-duri-2;;",
    ]
    inventory, _ = parse_csv("\n".join([header, *rows]), "titik.csv")
    pools = inventory.hotspots[0].sessions
    assert pools is not None and [str(p) for p in pools.address_pool] == [
        "10.5.50.0/24", "10.5.51.0/24"]  # fmt: skip
    again, _ = parse_csv(to_csv(inventory, ";"), "export.csv")
    assert again == inventory


def test_a_bad_address_pool_names_its_row_and_column() -> None:
    header = HEADER + ";sessions_address_pool;sessions_gateway"
    row = ROW.format(ap="gw-1", addr="10.1.2.3") + ";10.5.50.1/24;gw-1"
    with pytest.raises(ConfigError, match=r"titik\.csv.*row 2.*sessions_address_pool.*host bits"):
        parse_csv(f"{header}\n{row}", "titik.csv")
