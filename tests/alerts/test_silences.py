"""Silences: matching, one-off and weekly windows in WIB (also across midnight), storage."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from wifimon.alerts.silences import WIB, SilenceStore, Weekly, parse_matchers, silenced_by
from wifimon.errors import ConfigError


def wib(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=WIB).timestamp()


def test_weekly_window_crossing_midnight_in_jakarta() -> None:
    window = Weekly(days=["sun"], start="23:00", duration="4h")  # Sunday 23:00 to Monday 03:00
    assert not window.active(wib("2026-11-22 22:59"))  # a Sunday
    assert window.active(wib("2026-11-22 23:00"))
    assert window.active(wib("2026-11-23 02:59"))  # Monday, still Sunday's window
    assert not window.active(wib("2026-11-23 03:00"))
    assert not window.active(wib("2026-11-23 23:30"))  # Monday night: not a Sunday


def test_matchers_exact_and_regex() -> None:
    matchers = parse_matchers(["kelurahan=Galur", "hotspot=~jp-glr-0[12]"])
    store_labels = {"kelurahan": "Galur", "hotspot": "jp-glr-02", "alertname": "TitikMati"}
    from wifimon.alerts.silences import Silence

    silence = Silence(
        id="a", matchers=matchers, author="NOC", reason="x", starts_at=0, created_at=0
    )
    assert silence.matches(store_labels)
    assert not silence.matches({**store_labels, "hotspot": "jp-glr-03"})
    assert not silence.matches({**store_labels, "kelurahan": "Galur Baru"})


def test_store_add_list_expire_and_errors(tmp_path: Path) -> None:
    store = SilenceStore(tmp_path)
    now = wib("2026-11-22 10:00")
    one_off = store.add({"kelurahan": "Galur"}, "Budi (NOC)", "gangguan PLN", now, duration="2h")
    weekly = store.add(
        {"provider": "JakWifi Mitra B"},
        "NOC",
        "pemeliharaan mingguan",
        now,
        weekly=Weekly(days=["tue"], start="02:00", duration="2h"),
        maintenance=True,
    )
    assert [s.id for s in SilenceStore(tmp_path).load()] == [one_off.id, weekly.id]
    labels = {"kelurahan": "Galur", "alertname": "TitikMati"}
    assert silenced_by(store.load(), labels, now + 3600) is not None
    assert silenced_by(store.load(), labels, now + 2 * 3600) is None  # ended
    store.expire(one_off.id, now + 60)
    assert silenced_by(SilenceStore(tmp_path).load(), labels, now + 120) is None
    assert SilenceStore(tmp_path).load()[0].state(now + 120) == "expired"
    assert weekly.state(wib("2026-11-24 02:30")) == "active"  # a Tuesday
    with pytest.raises(ConfigError, match="cannot match on 'colour'"):
        store.add({"colour": "red"}, "x", "y", now, duration="1h")
    with pytest.raises(ConfigError, match="either a duration or a weekly window"):
        store.add({"hotspot": "a"}, "x", "y", now)
    with pytest.raises(ConfigError, match="no silence with id"):
        store.expire("nope", now)
    with pytest.raises(ConfigError, match="expected label=value"):
        parse_matchers(["kelurahan"])


def test_silence_cli(tmp_path: Path) -> None:
    from tests.test_cli import wifimon
    from wifimon.demo.fleet import write_fleet

    config = str(write_fleet(tmp_path, 9, "127.0.0.1:9", 60.0))
    added = wifimon(
        "silence",
        "add",
        "--config",
        config,
        "--match",
        "kelurahan=Galur",
        "--match",
        "alertname=~Titik.*",
        "--duration",
        "2h",
        "--author",
        "Budi",
        "--reason",
        "gangguan PLN",
    )
    assert added.returncode == 0, added.stderr
    silence_id = added.stdout.split()[1]
    weekly = wifimon(
        "silence",
        "add",
        "--config",
        config,
        "--match",
        "provider=JakWifi Mitra B",
        "--weekly",
        "sun",
        "--at",
        "23:00",
        "--for",
        "4h",
        "--author",
        "NOC",
        "--reason",
        "pemeliharaan",
        "--maintenance",
    )
    assert weekly.returncode == 0, weekly.stderr
    listed = wifimon("silence", "list", "--config", config).stdout
    assert f"{silence_id} active kelurahan=Galur,alertname=~Titik.* until" in listed
    assert "maintenance provider=JakWifi Mitra B weekly sun 23:00 for 4h by NOC" in listed
    assert wifimon("silence", "expire", "--config", config, silence_id).returncode == 0
    assert silence_id not in wifimon("silence", "list", "--config", config).stdout
    assert silence_id in wifimon("silence", "list", "--config", config, "--all").stdout
    bad = wifimon(
        "silence",
        "add",
        "--config",
        config,
        "--match",
        "kelurahan=Galur",
        "--weekly",
        "sun",
        "--author",
        "x",
        "--reason",
        "y",
    )
    assert bad.returncode == 2 and "--weekly needs --at HH:MM and --for DURATION" in bad.stderr
