"""Strict config: each error fixture is refused with its exact message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from wifimon import config
from wifimon.errors import ConfigError

ERROR_CASES = sorted(p for p in (FIXTURES / "config_errors").iterdir() if p.is_dir())
ENV = {"WIFIMON_TEST_COMMUNITY": "s3cret-community"}


@pytest.mark.parametrize("case", ERROR_CASES, ids=[p.name for p in ERROR_CASES])
def test_config_error_message(case: Path) -> None:
    expected = (case / "error.txt").read_text(encoding="utf-8").strip()
    with pytest.raises(ConfigError) as info:
        config.load(case / "config.yaml", environ=ENV)
    assert str(info.value) == expected.replace("{dir}", str(case))
    assert "s3cret-community" not in str(info.value)


def test_valid_example_config_loads(tmp_path: Path) -> None:
    cfg = config.load(
        FIXTURES.parent.parent / "config" / "wifimon.yaml",
        environ={
            "WIFIMON_COMMUNITY": "x",
            "WIFIMON_V3_AUTH": "authauthauth",
            "WIFIMON_V3_PRIV": "privprivpriv",
        },
    )
    assert len(cfg.inventory.hotspots) >= 3
    assert cfg.model.polling.interval_seconds == 60


def test_defaults_apply_when_sections_are_absent(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("daemon: {allow_empty_inventory: true}\n")
    cfg = config.load(path, environ={})
    assert cfg.model.polling.interval_seconds == config.DEFAULT_INTERVAL_SECONDS
    assert cfg.model.daemon.listen == config.DEFAULT_LISTEN
    assert cfg.inventory.hotspots == []


def test_secret_from_file_is_resolved_and_masked(tmp_path: Path) -> None:
    (tmp_path / "community.txt").write_text("kopi-susu-42\n")
    (tmp_path / "config.yaml").write_text(
        "daemon: {allow_empty_inventory: true}\n"
        "secrets:\n  c: {file: community.txt}\n"
        "snmp_credentials:\n  v2: {version: 2c, community: c}\n"
    )
    cfg = config.load(tmp_path / "config.yaml", environ={})
    creds = cfg.credentials["v2"]
    assert creds.community.reveal() == "kopi-susu-42"  # type: ignore[union-attr]
    assert "kopi-susu-42" not in repr(cfg)
    assert "kopi-susu-42" not in f"{creds}"


def test_v3_with_sha256_and_aes_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "daemon: {allow_empty_inventory: true}\n"
        "secrets:\n  a: {env: A}\n  p: {env: P}\n"
        "snmp_credentials:\n  noc: {version: 3, user: wifimon, auth_protocol: SHA256,"
        " auth_key: a, priv_protocol: AES, priv_key: p}\n"
    )
    cfg = config.load(tmp_path / "config.yaml", environ={"A": "aaaaaaaaaa", "P": "pppppppppp"})
    auth = cfg.credentials["noc"]
    assert (auth.auth_protocol, auth.priv_protocol) == ("SHA256", "AES")  # type: ignore[union-attr]
