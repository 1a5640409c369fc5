"""Who is told when: first message, escalation, reminders, acknowledgement, resolution."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.alerts.test_grouping import city, poll
from wifimon.alerts.acks import AckStore
from wifimon.alerts.dispatch import Notification, dispatch
from wifimon.alerts.engine import RuleEngine
from wifimon.alerts.rules import load_rules, parse_rules
from wifimon.alerts.silences import Silence
from wifimon.errors import ConfigError

RULES = load_rules(Path(__file__).resolve().parents[2] / "config" / "rules.yaml")
MINUTE = 60.0


class Story:
    """A city, its engine and the messages decided minute by minute."""

    def __init__(self, galur: int = 1) -> None:
        self.state = city(galur=galur, other=1)
        self.engine = RuleEngine(RULES, self.state)
        self.acks: dict = {}  # type: ignore[type-arg]
        self.silences: list[Silence] = []
        self.sent: list[tuple[float, Notification]] = []
        self.now = 0.0

    def until(self, minutes: float, down: set[str]) -> list[Notification]:
        new = []
        while self.now <= minutes * MINUTE:
            poll(self.state, self.now, down)
            self.engine.evaluate(self.now, self.silences)
            notes = dispatch(self.engine.alerts.values(), RULES.routing, self.acks, self.now)
            new += notes
            self.sent += [(self.now, n) for n in notes]
            self.now += MINUTE
        return new


def said(notes: list[Notification], alert: str = "TitikMati:t00") -> list[tuple[str, tuple]]:  # type: ignore[type-arg]
    return [(n.kind, n.roles) for n in notes if n.alert_id == alert]


def test_rw_admin_first_then_noc_then_lurah_with_reminders_then_resolved() -> None:
    story = Story()
    assert said(story.until(4, {"t00"})) == []  # pending: 5 minutes before it fires
    assert said(story.until(5, {"t00"})) == [("firing", ("rw_admin",))]
    assert said(story.until(34, {"t00"})) == []
    assert said(story.until(35, {"t00"})) == [("escalation", ("noc",))]
    assert said(story.until(125, {"t00"})) == [("escalation", ("lurah",))]
    reminders = story.until(125 + 240, {"t00"})
    assert said(reminders) == [("repeat", ("rw_admin", "noc", "lurah"))]
    assert said(story.until(400, set())) == [("resolved", ("rw_admin", "noc", "lurah"))]
    assert said(story.until(420, set())) == []  # once


def test_acknowledgement_stops_escalation_and_reminders_not_the_alert(tmp_path: Path) -> None:
    story = Story()
    story.until(10, {"t00"})
    store = AckStore(tmp_path)
    fired_at = story.engine.alerts[("TitikMati", "t00")].alert.fired_at
    assert fired_at is not None
    store.add("TitikMati:t00", fired_at, "Pak Budi (RW 00)", "genset dinyalakan", story.now)
    story.acks = store.by_episode()
    later = story.until(600, {"t00"})
    assert said(later) == []  # no NOC, no lurah, no reminder
    assert story.engine.alerts[("TitikMati", "t00")].ack is not None
    assert said(story.until(610, set())) == [("resolved", ("rw_admin",))]
    # the next outage is a new episode: not acknowledged, told again
    assert said(story.until(630, {"t00"})) == [("firing", ("rw_admin",))]


def test_a_silenced_alert_is_told_when_the_silence_ends() -> None:
    story = Story()
    story.silences = [Silence(id="s1", matchers={"hotspot": "t00"}, author="noc",
                              reason="PLN padam terjadwal", starts_at=0.0, ends_at=20 * MINUTE,
                              created_at=0.0, maintenance=True)]  # fmt: skip
    assert said(story.until(19, {"t00"})) == []
    assert said(story.until(21, {"t00"})) == [("firing", ("rw_admin",))]


def test_resolved_before_anyone_was_told_sends_nothing() -> None:
    story = Story()
    story.until(3, {"t00"})
    assert said(story.until(10, set())) == []


def test_a_provider_outage_is_one_message_for_the_noc_and_none_for_rw_admins() -> None:
    story = Story(galur=12)
    down = {f"t{i:02d}" for i in range(12)}
    notes = story.until(60, down)
    per_titik = [n for n in notes if n.alert_id.startswith("TitikMati:")]
    assert per_titik == []  # rw_admin held back, the NOC has the grouped message
    groups = {n.alert_id: n.roles for n in notes if n.kind == "firing"}
    assert groups == {
        "GangguanPenyedia:Mitra A": ("noc", "provider"),
        "GangguanKelurahan:Galur": ("noc", "provider"),
    }
    summary = next(n for n in notes if n.alert_id == "GangguanKelurahan:Galur").annotations
    assert summary["summary"].startswith("12 titik di Kelurahan Galur mati")


def test_what_was_told_survives_a_restart() -> None:
    story = Story()
    story.until(10, {"t00"})
    restarted = RuleEngine(RULES, story.state)
    restarted.restore(story.engine.snapshot())
    story.engine = restarted
    assert said(story.until(20, {"t00"})) == []  # not told twice
    assert said(story.until(35, {"t00"})) == [("escalation", ("noc",))]


def test_routes_nest_inherit_and_continue() -> None:
    text = """
rules:
  - {name: A, expr: clients > 1, severity: warning}
routing:
  repeat_every: 1h
  routes:
    - match: {kota: "~Jakarta.*"}
      notify: [rw_admin]
      escalate: [{after: 10m, notify: [noc]}]
      continue: true
      routes:
        - match: {kelurahan: Galur}
          notify: [lurah]
    - match: {severity: warning}
      notify: [provider]
      escalate: [{after: 5m, notify: [noc]}]
"""
    routing = parse_rules(text, "r.yaml").routing
    galur = routing.plan({"kota": "Jakarta Pusat", "kelurahan": "Galur", "severity": "warning"})
    assert [(lv.after, lv.roles) for lv in galur.levels] == [
        (0.0, ("lurah", "provider")), (300.0, ("noc",))]  # fmt: skip
    assert galur.repeat_every == 3600.0
    other = routing.plan({"kota": "Jakarta Pusat", "kelurahan": "Paseban", "severity": "info"})
    assert [(lv.after, lv.roles) for lv in other.levels] == [
        (0.0, ("rw_admin",)),
        (600.0, ("noc",)),
    ]
    nobody = routing.plan({"kota": "Cilegon", "severity": "info"})
    assert nobody.levels == ()


@pytest.mark.parametrize(
    "routing,message",
    [
        (
            "  routes: [{notify: [pak_rt]}]",
            re.escape(
                "r.yaml:4: routing.routes[0].notify[0]: Input should be 'rw_admin', 'provider'"
            ),
        ),
        ("  routes: [{match: {room: x}, notify: [noc]}]", "cannot match on 'room'"),
        ("  routes: [{escalate: [{after: soon, notify: [noc]}]}]", "String should match pattern"),
    ],
)
def test_bad_routes_are_refused_with_the_place(routing: str, message: str) -> None:
    text = f"rules:\n  - {{name: A, expr: clients > 1}}\nrouting:\n{routing}\n"
    with pytest.raises(ConfigError, match=message):
        parse_rules(text, "r.yaml")


def test_a_flapping_alert_is_held_back_until_it_settles() -> None:
    story = Story()
    for cycle in range(5):  # down 7 minutes, up 2: fires and resolves again and again
        story.until(cycle * 9 + 6, {"t00"})
        story.until(cycle * 9 + 8, set())
    kinds = [kind for kind, _ in said([n for _, n in story.sent])]
    assert story.engine.alerts[("TitikMati", "t00")].alert.flapping
    assert kinds.count("firing") < 5  # the later episodes were not told
    held_from = len(story.sent)
    story.until(60 + 120, {"t00"})  # stays down: settles once the hour has passed
    later = said([n for _, n in story.sent[held_from:]])
    assert later and later[0] == ("firing", ("rw_admin",))
    first_told = next(t for t, n in story.sent[held_from:] if n.alert_id == "TitikMati:t00")
    assert first_told > 60 * MINUTE
