"""Messages as recipients read them: golden files for every default rule in Indonesian and
English, and who gets what over which channel, when. WIFIMON_UPDATE_GOLDEN=1 rewrites the
golden files (read them before committing)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from wifimon.alerts.dispatch import Kind, Notification
from wifimon.alerts.recipients import Directory, DirectoryContact
from wifimon.alerts.rules import GroupRule, Rule, load_rules
from wifimon.alerts.templates import WIB
from wifimon.inventory import Contact
from wifimon.notify.messages import Renderer
from wifimon.notify.plan import deliveries, quiet_until
from wifimon.notify.settings import NotificationSettings
from wifimon.notify.textfit import sms_segments

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "messages"
RULES = load_rules(ROOT / "config" / "rules.yaml")
FIRED = datetime(2026, 11, 12, 10, 0, tzinfo=WIB).timestamp()
PLACE = {
    "hotspot": "jp-glr-01",
    "ap": "jp-glr-01-a",
    "rw": "05",
    "kelurahan": "Galur",
    "kecamatan": "Johar Baru",
    "kota": "Jakarta Pusat",
    "provider": "JakWifi Mitra A",
}
VALUES = {**PLACE, "download_mbps": 31.4, "sla.min_mbps": 50.0, "clients": 52.0,
          "sla.capacity_users": 50.0, "utilisation": 0.94, "loss_ratio": 0.34,
          "rtt_avg_seconds": 0.412, "probe_reason": "timeout", "seconds_since_data": 1260.0,
          "scheduler_lag_seconds": 42.0, "seconds_since_last_poll": 75.0}  # fmt: skip
MEMBERS = [f"jp-glr-{i:02d}" for i in range(1, 13)]


def sample(rule: Rule | GroupRule, kind: Kind, at: float) -> Notification:
    if isinstance(rule, GroupRule):
        labels = {"alertname": rule.name, "severity": rule.severity, "kelurahan": "Galur",
                  "provider": "JakWifi Mitra A"}  # fmt: skip
        annotations = rule.annotate(labels, MEMBERS, ["JakWifi Mitra A"])
        members = tuple(MEMBERS)
    else:
        names = {"hotspot": ("hotspot", "rw", "kelurahan", "kecamatan", "kota", "provider"),
                 "ap": ("hotspot", "ap", "kelurahan", "kecamatan", "kota", "provider"),
                 "daemon": ()}[rule.scope]  # fmt: skip
        labels = {"alertname": rule.name, "severity": rule.severity,
                  **{n: PLACE[n] for n in names}}  # fmt: skip
        annotations, members = rule.annotate(VALUES, labels), ()
    key = "Galur" if isinstance(rule, GroupRule) else labels.get("ap", labels.get("hotspot"))
    return Notification(f"{rule.name}:{key or 'wifimon'}",
                        kind, ("rw_admin",), at, labels, annotations, members, FIRED)  # fmt: skip


def rendered(rule: Rule | GroupRule, language: str) -> str:
    renderer = Renderer(grafana_url="https://grafana.diskominfo.example")
    sections = []
    for kind, role, at, form in (("firing", "rw_admin", FIRED, "message"),
                                 ("escalation", "noc", FIRED + 1800, "message"),
                                 ("resolved", "rw_admin", FIRED + 2700, "message"),
                                 ("firing", "rw_admin", FIRED, "sms")):  # fmt: skip
        subject, body = renderer.message(sample(rule, kind, at), role, language, form)  # type: ignore[arg-type]
        sections.append(f"=== {kind} to {role} ({form}) ===\n{subject}\n\n{body}".rstrip())
    return "\n\n".join(sections) + "\n"


ALL = [*RULES.rules, *RULES.groups]


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("rule", ALL, ids=[r.name for r in ALL])
def test_messages_of_every_default_rule_match_their_golden_file(
    rule: Rule | GroupRule, language: str
) -> None:
    path = GOLDEN / f"{rule.name}.{language}.txt"
    text = rendered(rule, language)
    if os.environ.get("WIFIMON_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
    assert "{{" not in text and "None" not in text  # every template rendered
    other = "en" if language == "id" else "id"
    assert text != rendered(rule, other)  # the language really changes


def test_sms_of_every_default_rule_fits_two_segments() -> None:
    for rule in ALL:
        subject, _ = Renderer().message(sample(rule, "firing", FIRED), "rw_admin", "id", "sms")
        assert sms_segments(subject) <= 2, (rule.name, subject)


def directory() -> Directory:
    return Directory({}, [
        DirectoryContact(role="rw_admin", name="Pak Joko", kelurahan="Galur",
                         telegram_chat_id="1002", whatsapp="0812-3456-7890",
                         quiet_hours="21:00-06:00"),
        DirectoryContact(role="noc", name="NOC Diskominfo", language="en",
                         email="noc@diskominfo.example", channels=["email", "am"]),
    ])  # fmt: skip


SETTINGS = NotificationSettings.model_validate({
    "channels": {"telegram": {"type": "telegram", "token": "tg"},
                 "wa": {"type": "whatsapp_cloud", "token": "wa", "phone_number_id": "1065403522"},
                 "email": {"type": "email", "host": "mail", "sender": "wifimon@kota.example"},
                 "am": {"type": "alertmanager", "urls": ["http://am:9093"]}}})  # fmt: skip


def test_each_person_gets_their_channels_language_and_form() -> None:
    note = sample(RULES.rules[0], "firing", FIRED)  # TitikMati, critical
    note = Notification(note.alert_id, "firing", ("rw_admin", "noc"), FIRED, note.labels,
                        note.annotations, (), FIRED)  # fmt: skip
    out = {(d.channel, d.recipient): d for d in deliveries(note, directory(), SETTINGS,
                                                           Renderer())}  # fmt: skip
    assert set(out) == {
        ("telegram", "1002"),
        ("wa", "6281234567890"),
        ("email", "noc@diskominfo.example"),
        ("am", "NOC Diskominfo"),
    }
    assert out[("telegram", "1002")].subject.startswith("PERINGATAN: Titik jp-glr-01")
    assert out[("email", "noc@diskominfo.example")].subject.startswith("ALERT: Hotspot jp-glr")
    assert out[("am", "NOC Diskominfo")].body.startswith('{"labels": {"alertname": "TitikMati"')
    assert all(d.critical and d.not_before is None for d in out.values())  # critical: now
    limited = Notification(note.alert_id, "firing", note.roles, FIRED, note.labels,
                           note.annotations, (), FIRED, frozenset({"telegram"}))  # fmt: skip
    assert [d.channel for d in deliveries(limited, directory(), SETTINGS, Renderer())] == [
        "telegram"
    ]  # the route names only Telegram


def test_quiet_hours_hold_a_warning_until_morning_wib() -> None:
    night = datetime(2026, 11, 12, 23, 30, tzinfo=WIB).timestamp()
    morning = datetime(2026, 11, 13, 6, 0, tzinfo=WIB).timestamp()
    slow = sample(RULES.rules[2], "firing", night)  # TitikLambat, warning
    (telegram, wa) = deliveries(slow, directory(), SETTINGS, Renderer())
    assert telegram.not_before == wa.not_before == morning and not telegram.critical
    assert quiet_until("21:00-06:00", datetime(2026, 11, 13, 5, 59, tzinfo=WIB).timestamp()
                       ) == morning  # fmt: skip
    assert quiet_until("21:00-06:00", morning) is None
    assert quiet_until("12:00-13:00", datetime(2026, 11, 13, 12, 30, tzinfo=WIB).timestamp()
                       ) == datetime(2026, 11, 13, 13, 0, tzinfo=WIB).timestamp()  # fmt: skip
    by_role = NotificationSettings.model_validate(
        {**SETTINGS.model_dump(), "quiet_hours": {"noc": "22:00-05:00"}}
    )
    email = [
        d
        for d in deliveries(
            Notification(
                slow.alert_id, "firing", ("noc",), night, slow.labels, slow.annotations, (), night
            ),
            directory(),
            by_role,
            Renderer(),
        )
        if d.channel == "email"
    ]
    assert email[0].not_before == datetime(2026, 11, 13, 5, 0, tzinfo=WIB).timestamp()


def test_a_contact_without_an_address_for_a_channel_gets_nothing_there() -> None:
    plain = Directory({}, [DirectoryContact(role="rw_admin", name="Bu Sri", kelurahan="Galur",
                                            phone="+62 856 0001 1122")])  # fmt: skip
    note = sample(RULES.rules[0], "firing", FIRED)
    assert [(d.channel, d.recipient) for d in deliveries(note, plain, SETTINGS, Renderer())] == [
        ("wa", "6285600011122")
    ]  # WhatsApp falls back to the phone number; no chat id
    assert isinstance(plain.contacts[0], Contact)


def test_alertmanager_resend_covers_firing_alerts_told_to_a_contact_using_it() -> None:
    from wifimon.alerts.engine import ActiveAlert
    from wifimon.alerts.lifecycle import Alert, AlertState
    from wifimon.alerts.told import Told
    from wifimon.notify.alertmanager import AlertmanagerSync

    def active(key: str, state: AlertState, roles: list[str]) -> ActiveAlert:
        note = sample(RULES.rules[0], "firing", FIRED)
        return ActiveAlert(RULES.rules[0], key, Alert(state=state, fired_at=FIRED),
                           {**note.labels, "hotspot": key}, note.annotations,
                           told=Told(FIRED, roles))  # fmt: skip

    alerts = [active("told-noc", AlertState.FIRING, ["noc"]),
              active("told-rw-only", AlertState.FIRING, ["rw_admin"]),
              active("nobody-yet", AlertState.FIRING, []),
              active("over", AlertState.RESOLVED, ["noc"])]  # fmt: skip
    firing = AlertmanagerSync(SETTINGS).firing(alerts, directory(), RULES.routing, FIRED + 60)
    assert [(note.labels["hotspot"], names) for note, names in firing] == [("told-noc", {"am"})]
