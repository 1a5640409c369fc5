"""Pure decoding from recordings: no agent, no network."""

from __future__ import annotations

import random

import pytest

from tests.conftest import RECORDINGS
from wifimon.snmp import decode, snmprec
from wifimon.snmp.profiles import ManagedAps, Profile, load_profile, load_profiles
from wifimon.snmp.types import SnmpValue, in_subtree

PROFILES = load_profiles()


def _walks(records, profile):
    return {
        root: [(o, v) for o, v in records if in_subtree(o, root)]
        for root in decode.walk_roots(profile)
    }


def test_unsorted_tables_decode_the_same_as_sorted() -> None:
    profile = PROFILES.get("openwrt")
    records = snmprec.load(RECORDINGS / "unsorted-openwrt.snmprec")
    shuffled = records[:]
    random.Random(7).shuffle(shuffled)
    for variant in (records, shuffled):
        walks = _walks(variant, profile)
        reading = decode.clients(profile, dict(variant), walks, {})
        assert reading.total == 12
        assert [(r.label, r.clients) for r in reading.by_radio] == [("wlan0", 7), ("wlan1", 5)]
        names = [i.name for i in decode.interfaces(profile, walks)]
        assert names == ["eth0", "wlan0", "wlan1"]


def test_text_where_a_number_belongs_is_the_wrong_type_and_unknown() -> None:
    profile = PROFILES.get("tplink-eap")
    records = snmprec.load(RECORDINGS / "strings-for-numbers.snmprec")
    reading = decode.clients(profile, dict(records), {}, {})
    assert reading.total is None
    assert reading.issue is not None and reading.issue.reason == "wrong_type"
    assert "n/a" in reading.issue.detail


def test_missing_client_tables_are_unknown_never_zero() -> None:
    profile = PROFILES.get("mikrotik")
    records = snmprec.load(RECORDINGS / "no-clients.snmprec")
    reading = decode.clients(profile, dict(records), _walks(records, profile), {1: "ether1"})
    assert reading.total is None
    assert reading.issue is not None and reading.issue.reason == "noSuchObject"


def test_counter32_client_counts_are_read_as_plain_numbers() -> None:
    profile = PROFILES.get("mikrotik")
    records = snmprec.load(RECORDINGS / "mikrotik-t0.snmprec")
    walks = _walks(records, profile)
    assert dict(records)["1.3.6.1.4.1.14988.1.1.1.3.1.6.2"].kind == "counter32"
    reading = decode.clients(profile, dict(records), walks, {2: "wlan1"})
    assert reading.total == 12
    assert [(r.label, r.clients) for r in reading.by_radio] == [("wlan1", 12)]


def test_interfaces_fall_back_to_32_bit_counters_and_ifspeed() -> None:
    profile = PROFILES.get("mikrotik")
    records = snmprec.load(RECORDINGS / "mikrotik-t0.snmprec")
    ether1 = decode.interfaces(profile, _walks(records, profile))[0]
    assert (ether1.name, ether1.counter_bits, ether1.in_octets) == ("ether1", 32, 4294967000)
    assert ether1.speed_mbps == 100.0
    assert ether1.role == "uplink"


def test_epmp_high_speed_in_bits_per_second_is_converted() -> None:
    profile = PROFILES.get("cambium-epmp")
    walks = {
        decode.IF_HIGH_SPEED: [(f"{decode.IF_HIGH_SPEED}.1", SnmpValue("gauge32", 10**9))],
        decode.IF_NAME: [(f"{decode.IF_NAME}.1", SnmpValue("octets", b"LAN"))],
    }
    assert decode.interfaces(profile, walks)[0].speed_mbps == 1000.0


def test_uptime_absent_is_none() -> None:
    profile = PROFILES.get("tplink-eap")
    assert decode.uptime_seconds(profile, {}) is None


def test_no_such_instance_values_are_ignored_in_tables() -> None:
    root = "1.3.6.1.4.1.14988.1.1.1.3.1.6"
    rows = decode.column(
        [(f"{root}.1", SnmpValue("noSuchInstance")), (f"{root}.2", SnmpValue("counter32", 3))], root
    )
    assert rows == {(2,): SnmpValue("counter32", 3)}


@pytest.mark.parametrize(
    "index,expected",
    [
        ((12, *b"clients-wlan"), "clients-wlan"),
        ((3, 1, 2), None),
        ((), None),
    ],
)
def test_string_index(index, expected) -> None:
    assert decode.decode_string_index(index) == expected


def test_duplicate_radio_labels_are_made_unique() -> None:
    profile = PROFILES.get("ruckus-zonedirector")
    total = {"1.3.6.1.4.1.25053.1.2.1.1.1.15.2.0": SnmpValue("gauge32", 7)}
    base = "1.3.6.1.4.1.25053.1.2.2.1.1.1.1.1"
    records = [
        (f"{base}.1.1", SnmpValue("octets", b"guest")),
        (f"{base}.1.2", SnmpValue("octets", b"guest")),
        (f"{base}.12.1", SnmpValue("gauge32", 2)),
        (f"{base}.12.2", SnmpValue("gauge32", 3)),
    ]
    reading = decode.clients(profile, total, _walks(records, profile), {})
    assert reading.total == 7  # the controller's own total, not the WLAN sum
    assert [r.label for r in reading.by_radio] == ["guest#1", "guest#2"]


STATIONS = "1.3.6.1.4.1.99.1.1.2"  # one row per client: index = client MAC
STATION_SSID = "1.3.6.1.4.1.99.1.1.3"
RADIOS = "1.3.6.1.4.1.99.1.2.1"


def _station_profile(extra: str) -> Profile:
    return load_profile(
        f"name: t\nvendor: v\nclients:\n  - {{rows: {STATIONS}, kind: ssid{extra}}}", "t.yaml"
    )


def _stations(ssids: list[str]) -> list[tuple[str, SnmpValue]]:
    records = []
    for n, ssid in enumerate(ssids, 1):
        mac = f"0.26.30.0.0.{n}"
        records.append((f"{STATIONS}.{mac}", SnmpValue("integer", 1)))
        records.append((f"{STATION_SSID}.{mac}", SnmpValue("octets", ssid.encode())))
    return records


def test_counted_rows_give_a_total_not_an_entry_per_client() -> None:
    profile = _station_profile("")
    reading = decode.clients(profile, {}, _walks(_stations(["A", "B", "A"]), profile), {})
    assert (reading.total, reading.by_radio) == (3, ())


def test_counted_rows_grouped_by_a_text_column() -> None:
    profile = _station_profile(f", group_by_column: {STATION_SSID}")
    records = _stations(["JakWifi", "Guest", "JakWifi", ""])
    reading = decode.clients(profile, {}, _walks(records, profile), {})
    got = {r.label: r.clients for r in reading.by_radio}
    assert reading.total == 4
    assert got == {"JakWifi": 2, "Guest": 1, "0.26.30.0.0.4": 1}  # no SSID: its own row


def test_an_empty_table_is_zero_only_with_its_witness() -> None:
    profile = _station_profile(f", zero_when_present: {RADIOS}")
    radios = [(f"{RADIOS}.1", SnmpValue("octets", b"wifi0"))]
    assert decode.clients(profile, {}, _walks(radios, profile), {}).total == 0
    assert decode.clients(profile, {}, _walks([], profile), {}).total is None


def test_controller_table_sums_per_ap_and_reads_name_and_mac() -> None:
    spec = ManagedAps(clients=STATIONS, key_arcs=6, name=STATION_SSID, mac="key")
    records = [
        (f"{STATIONS}.0.26.30.0.0.1.0", SnmpValue("counter32", 5)),
        (f"{STATIONS}.0.26.30.0.0.1.1", SnmpValue("counter32", 7)),
        (f"{STATION_SSID}.0.26.30.0.0.1", SnmpValue("octets", b"AP-Galur-01")),
    ]
    walks = {root: [(o, v) for o, v in records if in_subtree(o, root)] for root in spec.roots()}
    (ap,) = decode.managed_aps(spec, walks) or ()
    assert (ap.name, ap.mac, ap.clients) == ("AP-Galur-01", "00:1a:1e:00:00:01", 12)
    assert decode.managed_aps(spec, {}) is None


@pytest.mark.parametrize(
    "text, mac",
    [
        ("00:1A:1E:00:00:01", "00:1a:1e:00:00:01"),
        ("00-1a-1e-00-00-01", "00:1a:1e:00:00:01"),
        ("001a.1e00.0001", "00:1a:1e:00:00:01"),
        ("AP-Galur-01", None),
        ("00:1a:1e:00:00", None),
    ],
)
def test_mac_spellings(text: str, mac: str | None) -> None:
    assert decode.normalise_mac(text) == mac


def test_controller_table_keyed_by_a_column_of_ap_names() -> None:
    """Rows under a running index name their AP in a column: summed per AP name."""
    counts, names = "1.3.6.1.4.1.99.3.1.70", "1.3.6.1.4.1.99.3.1.4"
    spec = ManagedAps(clients=counts, key_column=names, name="key", type="counter64")
    records = [
        (f"{counts}.1", SnmpValue("counter64", 3)),
        (f"{counts}.2", SnmpValue("counter64", 1)),
        (f"{counts}.5", SnmpValue("counter64", 12)),
        (f"{counts}.9", SnmpValue("counter64", 4)),  # no name: counted for no AP
        (f"{names}.1", SnmpValue("octets", b"AP-Priok-Dermaga")),
        (f"{names}.2", SnmpValue("octets", b"AP-Priok-Dermaga")),
        (f"{names}.5", SnmpValue("octets", b"AP-Priok-Terminal")),
    ]
    walks = {root: [(o, v) for o, v in records if in_subtree(o, root)] for root in spec.roots()}
    got = {ap.name: ap.clients for ap in decode.managed_aps(spec, walks) or ()}
    assert got == {"AP-Priok-Dermaga": 4, "AP-Priok-Terminal": 12}
    undeclared = ManagedAps(clients=counts, key_column=names, name="key")
    got = {ap.name: ap.clients for ap in decode.managed_aps(undeclared, walks) or ()}
    assert got == {"AP-Priok-Dermaga": None, "AP-Priok-Terminal": None}  # Counter64: not a count


def test_an_ap_key_that_is_a_negative_integer_is_no_name() -> None:
    """Found by benchmarks/fuzz_decode.py: a key column of Integer32 -5 crashed bytes()."""
    counts, names = "1.3.6.1.4.1.99.3.1.70", "1.3.6.1.4.1.99.3.1.4"
    spec = ManagedAps(clients=counts, key_column=names, name="key")
    records = [(f"{counts}.1", SnmpValue("gauge32", 3)), (f"{names}.1", SnmpValue("integer", -5))]
    walks = {root: [(o, v) for o, v in records if in_subtree(o, root)] for root in spec.roots()}
    rows = decode.managed_aps(spec, walks) or ()
    assert [(row.name, row.clients) for row in rows] == [(None, 3)]
