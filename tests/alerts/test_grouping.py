"""Storm control: many titik down together become one alert; provider outages spare RW pages."""

from __future__ import annotations

from pathlib import Path

from wifimon.alerts.engine import RuleEngine
from wifimon.alerts.lifecycle import AlertState
from wifimon.alerts.rules import load_rules
from wifimon.inventory import Inventory
from wifimon.measurements import ApSample, ClientReading
from wifimon.state import State

RULES = load_rules(Path(__file__).resolve().parents[2] / "config" / "rules.yaml")


def city(galur: int = 12, other: int = 3, galur_provider: str = "Mitra A") -> State:
    """`galur` titik in Kelurahan Galur and `other` in Tanah Tinggi, one AP each."""
    places = [("Galur", galur_provider)] * galur + [("Tanah Tinggi", "Mitra B")] * other
    hotspots = [
        {"id": f"t{i:02d}", "name": f"Titik {i}", "kota": "Jakarta Pusat",
         "kecamatan": "Johar Baru", "kelurahan": kelurahan, "rw": f"{i:02d}",
         "latitude": -6.18, "longitude": 106.85, "provider": provider,
         "access_points": [{"id": f"t{i:02d}-a", "address": "192.0.2.1", "credentials": "c"}]}
        for i, (kelurahan, provider) in enumerate(places)
    ]  # fmt: skip
    return State(Inventory.model_validate({"hotspots": hotspots}), down_after_failures=1)


def poll(state: State, now: float, down: set[str]) -> None:
    for ap_id, ap_state in state.aps.items():
        if ap_state.hotspot_id in down:
            state.record(ApSample(ap_id=ap_id, timestamp=now, reachable=False))
        else:
            state.record(ApSample(ap_id=ap_id, timestamp=now, reachable=True,
                                  clients=ClientReading(total=3)))  # fmt: skip


def run(engine: RuleEngine, state: State, start: float, end: float, down: set[str]) -> list:  # type: ignore[type-arg]
    transitions = []
    now = start
    while now <= end:
        poll(state, now, down)
        transitions += engine.evaluate(now)
        now += 60.0
    return transitions


def test_twelve_titik_down_in_one_kelurahan_become_one_alert_naming_them() -> None:
    state = city()
    engine = RuleEngine(RULES, state)
    galur = {f"t{i:02d}" for i in range(12)}
    transitions = run(engine, state, 0.0, 600.0, galur)
    group = engine.alerts[("GangguanKelurahan", "Galur")]
    assert group.alert.state == AlertState.FIRING
    assert group.members == sorted(galur)
    assert group.annotations["summary"] == (
        "12 titik di Kelurahan Galur mati; kemungkinan gangguan penyedia Mitra A"
    )
    assert group.labels["provider"] == "Mitra A"  # every member shares it
    fired = [t for t in transitions if t.rule.name == "GangguanKelurahan"]
    assert [t.state for t in fired] == [AlertState.FIRING]  # once, not per titik
    member = engine.alerts[("TitikMati", "t03")]
    assert member.grouped_into == ["GangguanKelurahan:Galur", "GangguanPenyedia:Mitra A"]
    assert ("GangguanKelurahan", "Tanah Tinggi") not in engine.alerts


def test_a_provider_outage_holds_rw_pages_but_not_the_noc() -> None:
    state = city()
    engine = RuleEngine(RULES, state)
    run(engine, state, 0.0, 600.0, {f"t{i:02d}" for i in range(12)})
    provider = engine.alerts[("GangguanPenyedia", "Mitra A")]
    assert provider.alert.state == AlertState.FIRING
    member = engine.alerts[("TitikMati", "t05")]
    assert member.held_from == {"rw_admin": provider.id, "lurah": provider.id}
    assert member.inhibited_by is None  # the NOC still sees each titik
    kelurahan = engine.alerts[("GangguanKelurahan", "Galur")]
    assert kelurahan.held_from["rw_admin"] == provider.id


def test_mixed_providers_are_not_blamed_on_one() -> None:
    hotspots = [h.model_dump() for h in city(galur=6).hotspots.values()]
    for index, hotspot in enumerate(hotspots):
        hotspot["provider"] = "Mitra A" if index % 2 else "Mitra C"
    state = State(Inventory.model_validate({"hotspots": hotspots}), down_after_failures=1)
    engine = RuleEngine(RULES, state)
    run(engine, state, 0.0, 600.0, {f"t{i:02d}" for i in range(6)})
    group = engine.alerts[("GangguanKelurahan", "Galur")]
    assert group.annotations["summary"] == "6 titik di Kelurahan Galur mati"
    assert "provider" not in group.labels


def test_titik_failing_one_by_one_over_hours_are_not_a_storm() -> None:
    state = city()
    engine = RuleEngine(RULES, state)
    down: set[str] = set()
    for i in range(8):  # one more titik down every 20 minutes
        down.add(f"t{i:02d}")
        run(engine, state, i * 1200.0, i * 1200.0 + 1140.0, set(down))
    assert sum(1 for k in engine.alerts if k[0] == "TitikMati") == 8
    assert ("GangguanKelurahan", "Galur") not in engine.alerts


def test_the_group_resolves_when_few_remain_and_survives_a_restart() -> None:
    state = city()
    engine = RuleEngine(RULES, state)
    galur = {f"t{i:02d}" for i in range(12)}
    run(engine, state, 0.0, 600.0, galur)
    restarted = RuleEngine(RULES, state)
    assert restarted.restore(engine.snapshot()) == len(engine.alerts)
    again = run(restarted, state, 660.0, 900.0, galur)
    assert not [t for t in again if t.state == AlertState.FIRING]  # nothing fires twice
    assert restarted.alerts[("GangguanKelurahan", "Galur")].members == sorted(galur)
    back = run(restarted, state, 960.0, 1200.0, {"t00", "t01", "t02", "t03"})  # 8 came back
    resolved = [t.rule.name for t in back if t.state == AlertState.RESOLVED]
    assert "GangguanKelurahan" in resolved and "GangguanPenyedia" in resolved
