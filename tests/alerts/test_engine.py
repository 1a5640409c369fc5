"""The rules engine over real state, with the shipped rules and a controlled clock."""

from __future__ import annotations

from pathlib import Path

from tests.test_state import _clients_sample, inventory
from wifimon.alerts.engine import RuleEngine
from wifimon.alerts.lifecycle import AlertState
from wifimon.alerts.rules import load_rules
from wifimon.alerts.silences import Silence
from wifimon.measurements import ApSample
from wifimon.probes.results import ProbeResult
from wifimon.state import State

RULES = load_rules(Path(__file__).resolve().parents[2] / "config" / "rules.yaml")


def fired(transitions, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.key for t in transitions if t.rule.name == name and t.state == AlertState.FIRING]


def test_titik_down_fires_after_five_minutes_and_resolves() -> None:
    state = State(inventory("ap1"), down_after_failures=1)
    engine = RuleEngine(RULES, state)
    state.record(ApSample(ap_id="ap1", timestamp=0.0, reachable=False))
    assert fired(engine.evaluate(0.0), "TitikMati") == []
    assert engine.alerts[("TitikMati", "jp-glr-01")].alert.state == AlertState.PENDING
    assert fired(engine.evaluate(299.0), "TitikMati") == []
    transitions = engine.evaluate(300.0)
    assert fired(transitions, "TitikMati") == ["jp-glr-01"]
    labels = next(t.labels for t in transitions if t.rule.name == "TitikMati")
    assert labels == {
        "alertname": "TitikMati",
        "severity": "critical",
        "hotspot": "jp-glr-01",
        "kota": "Jakarta Pusat",
        "kecamatan": "Johar Baru",
        "kelurahan": "Galur",
        "rw": "01",
        "provider": "Mitra A",
    }
    assert fired(transitions, "ApMati") == ["ap1"]
    annotations = engine.alerts[("TitikMati", "jp-glr-01")].annotations
    assert annotations["summary"] == (
        "Titik jp-glr-01 (RW 01, Kel. Galur) mati: tidak ada access point yang menjawab"
    )
    assert "penyedia Mitra A" in annotations["description"]
    state.record(_clients_sample("ap1", 330.0, 5))
    resolved = [t for t in engine.evaluate(330.0) if t.state == AlertState.RESOLVED]
    assert {t.rule.name for t in resolved} == {"TitikMati", "ApMati"}


def test_slow_needs_two_consecutive_probes_and_clears_with_hysteresis() -> None:
    state = State(inventory("ap1"))
    engine = RuleEngine(RULES, state)
    state.record(_clients_sample("ap1", 0.0, 5))

    def probe(at: float, mbps: float) -> list:  # type: ignore[type-arg]
        state.record_probe("jp-glr-01", ProbeResult("http", "u", True, at, download_bps=mbps * 1e6))
        return [engine.evaluate(at + s) for s in (1.0, 16.0, 31.0)]

    assert not any(fired(t, "TitikLambat") for t in probe(0.0, 40.0))  # one slow probe
    assert fired(probe(900.0, 42.0)[0], "TitikLambat") == ["jp-glr-01"]  # the second
    probe(1800.0, 52.0)  # above 50 but not above 55: still firing
    assert engine.alerts[("TitikLambat", "jp-glr-01")].alert.state == AlertState.FIRING
    cleared = probe(2700.0, 60.0)[0]
    assert [t.state for t in cleared if t.rule.name == "TitikLambat"] == [AlertState.RESOLVED]


def test_full_for_fifteen_minutes() -> None:
    state = State(inventory("ap1", capacity=20))
    engine = RuleEngine(RULES, state)
    for minute in range(0, 17):
        state.record(_clients_sample("ap1", minute * 60.0, 22))
        transitions = engine.evaluate(minute * 60.0)
        if minute < 15:
            assert fired(transitions, "TitikPenuh") == []
    assert engine.alerts[("TitikPenuh", "jp-glr-01")].alert.state == AlertState.FIRING


def test_removed_titik_take_their_alerts_with_them() -> None:
    state = State(inventory("ap1"), down_after_failures=1)
    engine = RuleEngine(RULES, state)
    state.record(ApSample(ap_id="ap1", timestamp=0.0, reachable=False))
    engine.evaluate(0.0)
    assert engine.alerts
    state.apply_inventory(inventory("ap9", hotspot="jt-cbu-01"))
    engine.evaluate(60.0)
    assert all(key[1] in {"jt-cbu-01", "ap9"} for key in engine.alerts)


def test_restored_alert_is_held_while_the_titik_is_unknown_then_keeps_its_timer() -> None:
    state = State(inventory("ap1"), down_after_failures=1)
    engine = RuleEngine(RULES, state)
    state.record(ApSample(ap_id="ap1", timestamp=0.0, reachable=False))
    engine.evaluate(0.0)
    saved = engine.snapshot()
    restarted_state = State(inventory("ap1"), down_after_failures=1)  # nothing polled yet
    restarted = RuleEngine(RULES, restarted_state)
    assert restarted.restore(saved) == 2
    assert restarted.evaluate(120.0) == []  # unknown: held, not cleared
    restarted_state.record(ApSample(ap_id="ap1", timestamp=150.0, reachable=False))
    assert fired(restarted.evaluate(300.0), "TitikMati") == ["jp-glr-01"]  # 5 min after 0


def test_store_round_trip_and_damaged_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from wifimon.alerts.store import AlertStore

    store = AlertStore(tmp_path)
    assert store.load() == []
    store.save([{"rule": "TitikMati", "key": "x", "state": "pending", "active_since": 1.0}])
    assert store.load()[0]["active_since"] == 1.0
    store.path.write_text("{not json")
    assert store.load() == []


def test_a_titik_that_is_down_inhibits_its_other_alerts() -> None:
    state = State(inventory("ap1"), down_after_failures=1)
    engine = RuleEngine(RULES, state)
    state.record(_clients_sample("ap1", 0.0, 5))
    for at, mbps in ((0.0, 40.0), (900.0, 41.0)):
        state.record_probe("jp-glr-01", ProbeResult("http", "u", True, at, download_bps=mbps * 1e6))
        engine.evaluate(at + 1)
    slow = engine.alerts[("TitikLambat", "jp-glr-01")]
    assert slow.alert.state == AlertState.FIRING and slow.inhibited_by is None
    state.record(ApSample(ap_id="ap1", timestamp=1000.0, reachable=False))
    engine.evaluate(1000.0)
    engine.evaluate(1301.0)  # down for five minutes: TitikMati fires
    assert slow.inhibited_by == "TitikMati:jp-glr-01"
    assert engine.alerts[("ApMati", "ap1")].inhibited_by == "TitikMati:jp-glr-01"
    assert engine.alerts[("TitikMati", "jp-glr-01")].inhibited_by is None


def test_inhibit_must_name_existing_rules() -> None:
    import pytest

    from wifimon.alerts.rules import parse_rules
    from wifimon.errors import ConfigError

    text = "rules:\n  - {name: A, expr: up == false}\ninhibit:\n  - {source: A, target: [B]}\n"
    with pytest.raises(ConfigError, match=r"rules.yaml:4: inhibit\[0\]: unknown rule 'B'"):
        parse_rules(text, "rules.yaml")


def test_a_summary_tells_the_values_of_its_transition_not_later_ones() -> None:
    state = State(inventory("ap1", capacity=10))
    engine = RuleEngine(RULES, state)
    state.record(_clients_sample("ap1", 0.0, 12))
    engine.evaluate(0.0)  # TitikPenuh pending with 12 users
    state.record(_clients_sample("ap1", 60.0, 11))
    engine.evaluate(60.0)
    state.record(_clients_sample("ap1", 900.0, 14))
    assert fired(engine.evaluate(900.0), "TitikPenuh") == ["jp-glr-01"]
    state.record(_clients_sample("ap1", 960.0, 20))
    engine.evaluate(960.0)  # read only now: still the 14 users it fired with
    summary = engine.alerts[("TitikPenuh", "jp-glr-01")].annotations["summary"]
    assert summary == "Titik jp-glr-01 penuh: 14 pengguna, kapasitas 10"


def test_a_silence_marks_the_alerts_it_matches_while_it_lasts() -> None:
    state = State(inventory("ap1", "ap2"), down_after_failures=1)
    engine = RuleEngine(RULES, state)
    for ap in ("ap1", "ap2"):
        state.record(ApSample(ap_id=ap, timestamp=0.0, reachable=False))
    silence = Silence(
        id="s1", matchers={"alertname": "ApMati", "ap": "ap1"}, author="noc",
        reason="ganti adaptor", starts_at=0.0, ends_at=600.0, created_at=0.0,
    )  # fmt: skip
    engine.evaluate(0.0, [silence])
    marks = {a.id: a.silenced_by for a in engine.alerts.values()}
    assert marks == {"TitikMati:jp-glr-01": None, "ApMati:ap1": "s1", "ApMati:ap2": None}
    engine.evaluate(15.0, [])  # expired, or taken away
    assert all(a.silenced_by is None for a in engine.alerts.values())
    engine.evaluate(30.0, [silence])
    assert engine.alerts[("ApMati", "ap1")].silenced_by == "s1"
    engine.evaluate(600.0, [silence])  # its end
    assert engine.alerts[("ApMati", "ap1")].silenced_by is None
