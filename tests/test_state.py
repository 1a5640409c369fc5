"""State: rates across polls, wraps, reboots, up/down, backoff and inventory changes."""

from __future__ import annotations

import pytest

from tests.conftest import RECORDINGS
from wifimon.inventory import Inventory
from wifimon.measurements import ApSample, ClientReading
from wifimon.poller import poll_ap
from wifimon.snmp.fake import FakeSnmpClient
from wifimon.snmp.profiles import load_profiles
from wifimon.snmp.types import SnmpTarget
from wifimon.state import (
    MOVED_CLIENTS,
    MOVED_POLL,
    MOVED_REACH,
    MOVED_STATUS,
    State,
    Status,
)

PROFILES = load_profiles()


def inventory(*ap_ids: str, hotspot: str = "jp-glr-01", capacity: int = 50) -> Inventory:
    return Inventory.model_validate(
        {
            "hotspots": [
                {
                    "id": hotspot,
                    "name": "RPTRA Galur",
                    "kota": "Jakarta Pusat",
                    "kecamatan": "Johar Baru",
                    "kelurahan": "Galur",
                    "rw": "01",
                    "latitude": -6.18,
                    "longitude": 106.85,
                    "provider": "Mitra A",
                    "sla": {"capacity_users": capacity},
                    "access_points": [
                        {"id": a, "address": "192.0.2.1", "credentials": "c"} for a in ap_ids
                    ],
                }
            ]
        }
    )


async def _sample(recording: str, at: float, ap_id: str = "ap1") -> ApSample:
    client = FakeSnmpClient.from_file(RECORDINGS / recording)
    sample = await poll_ap(client, SnmpTarget("192.0.2.1"), ap_id, PROFILES, "mikrotik")
    sample.timestamp = at
    return sample


async def test_rates_across_a_32_bit_wrap() -> None:
    state = State(inventory("ap1"))
    state.record(await _sample("mikrotik-t0.snmprec", 1000.0))
    state.record(await _sample("mikrotik-t1.snmprec", 1060.0))
    ether1 = state.aps["ap1"].interfaces[1]
    assert ether1.rx_bps == pytest.approx(7_500_000 * 8 / 60)
    assert ether1.tx_bps == pytest.approx(1_500_000 * 8 / 60)
    assert ether1.rx_bytes_total == 7_500_000


async def test_reboot_is_counted_and_gives_no_rate() -> None:
    state = State(inventory("ap1"))
    state.record(await _sample("mikrotik-t0.snmprec", 1000.0))
    state.record(await _sample("mikrotik-t1.snmprec", 1060.0))
    state.record(await _sample("mikrotik-rebooted.snmprec", 1120.0))
    ap = state.aps["ap1"]
    assert ap.reboots_total == 1
    assert ap.interfaces[1].rx_bps is None
    assert ap.interfaces[1].rx_bytes_total == 7_500_000  # nothing negative or absurd added
    state.record(await _sample("mikrotik-rebooted.snmprec", 1180.0))
    assert ap.reboots_total == 1


async def test_status_goes_down_after_consecutive_failures_and_backs_off() -> None:
    state = State(inventory("ap1"), down_after_failures=2)
    state.record(await _sample("mikrotik-t0.snmprec", 1000.0))
    failed = ApSample(ap_id="ap1", timestamp=1060.0, reachable=False)
    state.record(failed)
    assert state.aps["ap1"].status == Status.UP
    state.record(failed)
    assert state.aps["ap1"].status == Status.DOWN
    assert state.hotspot_view("jp-glr-01").status == Status.DOWN
    for _ in range(3):
        state.record(failed)
    state.back_off("ap1", interval=60, maximum=900, now=2000.0)
    assert not state.should_poll("ap1", now=2100.0)
    assert state.should_poll("ap1", now=2000.0 + 900)


async def test_hotspot_is_up_while_one_ap_answers_and_sums_known_clients() -> None:
    state = State(inventory("ap1", "ap2", "ap3", capacity=20))
    state.record(await _sample("mikrotik-t0.snmprec", 1000.0, "ap1"))
    unknown = await _sample("no-clients.snmprec", 1000.0, "ap2")
    state.record(unknown)
    for _ in range(2):
        state.record(ApSample(ap_id="ap3", timestamp=1000.0, reachable=False))
    view = state.hotspot_view("jp-glr-01")
    assert view.status == Status.UP
    assert view.clients == 12
    assert view.utilisation == pytest.approx(0.6)


def test_all_unknown_clients_stay_unknown() -> None:
    state = State(inventory("ap1"))
    state.record(
        ApSample(ap_id="ap1", timestamp=1.0, reachable=True, clients=ClientReading(total=None))
    )
    assert state.hotspot_view("jp-glr-01").clients is None


async def test_inventory_change_keeps_unchanged_ap_state() -> None:
    state = State(inventory("ap1", "ap2"))
    state.record(await _sample("mikrotik-t0.snmprec", 1000.0, "ap1"))
    kept = state.aps["ap1"]
    added, removed, changed = state.apply_inventory(inventory("ap1", "ap3"))
    assert (added, removed, changed) == ({"ap3"}, {"ap2"}, set())
    assert state.aps["ap1"] is kept
    assert "ap2" not in state.aps


def test_samples_for_removed_aps_are_ignored() -> None:
    state = State(inventory("ap1"))
    state.record(ApSample(ap_id="gone", timestamp=1.0, reachable=True))
    assert set(state.aps) == {"ap1"}


def _clients_sample(ap_id: str, at: float, clients: int, uplink_bps: float | None = None):
    from wifimon.measurements import InterfaceReading

    octets = int((uplink_bps or 0) / 8 * at)
    interfaces = [InterfaceReading(1, "ether1", True, 100.0, octets, 0, 64, "uplink")]
    return ApSample(
        ap_id=ap_id,
        timestamp=at,
        reachable=True,
        interfaces=interfaces,
        clients=ClientReading(total=clients),
    )


def test_time_at_capacity_accumulates_and_gaps_do_not_count() -> None:
    state = State(inventory("ap1", capacity=20), max_gap_seconds=120)
    timeline = [(0, 10), (60, 20), (120, 25), (180, 19), (240, 20), (900, 20), (960, 5)]
    for at, clients in timeline:
        state.record(_clients_sample("ap1", 1000.0 + at, clients))
    # at capacity from 60 to 180 (120 s) and 240 to 900 (a 660 s gap: not counted),
    # then 900 to 960 (60 s)
    assert state.hotspot_states["jp-glr-01"].at_capacity_seconds == 180


def test_saturated_means_many_users_on_a_full_link() -> None:
    from wifimon.probes.results import ProbeResult

    state = State(inventory("ap1", capacity=50))
    state.record_probe("jp-glr-01", ProbeResult("http", "u", True, 0.0, download_bps=60e6))
    state.record(_clients_sample("ap1", 1000.0, 45, uplink_bps=55e6))
    state.record(_clients_sample("ap1", 1060.0, 45, uplink_bps=55e6))
    view = state.hotspot_view("jp-glr-01")
    assert view.uplink_bps == pytest.approx(55e6)
    assert view.uplink_utilisation == pytest.approx(55 / 60)
    assert view.saturated is True
    assert view.below_sla is False
    state.record(_clients_sample("ap1", 1120.0, 10, uplink_bps=55e6))
    assert state.hotspot_view("jp-glr-01").saturated is False  # few users: the link is busy


def test_without_a_probe_the_sla_minimum_is_the_reference() -> None:
    state = State(inventory("ap1", capacity=50))
    state.record(_clients_sample("ap1", 1000.0, 45, uplink_bps=45e6))
    state.record(_clients_sample("ap1", 1060.0, 45, uplink_bps=45e6))
    view = state.hotspot_view("jp-glr-01")
    assert view.uplink_utilisation == pytest.approx(45 / 50)
    assert view.below_sla is None  # no throughput probe has run


def test_a_kept_view_follows_polls_probes_and_inventory_changes() -> None:
    from wifimon.probes.results import ProbeResult

    state = State(inventory("a1", "a2"), down_after_failures=1)
    state.record(ApSample(ap_id="a1", timestamp=10.0, reachable=True,
                          clients=ClientReading(total=7)))  # fmt: skip
    first = state.hotspot_view("jp-glr-01")
    assert state.hotspot_view("jp-glr-01") is first  # kept until something changes
    assert (first.status, first.clients, first.aps.aps_total) == (Status.UP, 7, 2)
    state.record(ApSample(ap_id="a2", timestamp=11.0, reachable=True,
                          clients=ClientReading(total=5)))  # fmt: skip
    assert state.hotspot_view("jp-glr-01").clients == 12
    state.record_probe("jp-glr-01", ProbeResult("http", "u", True, 12.0, download_bps=10e6))
    assert state.hotspot_view("jp-glr-01").below_sla is True
    for ap_id in ("a1", "a2"):
        state.record(ApSample(ap_id=ap_id, timestamp=13.0, reachable=False))
    assert state.hotspot_view("jp-glr-01").status == Status.DOWN
    state.apply_inventory(inventory("a1", "a2", capacity=10))
    assert state.hotspot_view("jp-glr-01").hotspot.sla.capacity_users == 10


def test_each_reader_takes_the_changes_since_it_last_looked() -> None:
    from wifimon.probes.results import ProbeResult

    state = State(inventory("a1", "a2"))
    rules, other = state.watch(), state.watch()
    assert rules.take("ap") is None and rules.take("hotspot") is None  # new: read everything
    state.record(ApSample(ap_id="a1", timestamp=10.0, reachable=True))
    state.record_probe("jp-glr-01", ProbeResult("icmp", "t", True, 11.0))
    assert rules.take("ap") == {"a1": MOVED_POLL | MOVED_STATUS | MOVED_CLIENTS}
    assert rules.take("hotspot") == {"jp-glr-01": MOVED_POLL | MOVED_STATUS | MOVED_CLIENTS
                                     | MOVED_REACH}  # fmt: skip
    assert rules.take("ap") == {} and rules.take("hotspot") == {}
    assert other.take("ap") is None  # each reader has its own feed
    assert other.take("ap") == {}
    state.apply_inventory(inventory("a1"))
    assert rules.take("ap") is None and rules.take("hotspot") is None
