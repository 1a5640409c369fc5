"""`wifimon rules test`: the shipped rule tests pass, and a wrong expectation fails clearly."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import wifimon
from wifimon.alerts.ruletest import expand


def test_value_notation() -> None:
    assert expand("40 42*2 _ down true") == [40.0, 42.0, 42.0, None, "down", True]


def test_shipped_rule_tests_pass() -> None:
    result = wifimon("rules", "test", "config/rules.test.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed, 0 failed" in result.stdout


def test_a_wrong_expectation_fails_with_what_happened(tmp_path: Path) -> None:
    rules = Path(__file__).resolve().parents[2] / "config" / "rules.yaml"
    (tmp_path / "t.yaml").write_text(f"""
rule_files: [{rules}]
evaluation_interval: 1m
tests:
  - name: wrong on purpose
    series:
      - {{hotspot: jp-glr-01, name: status, values: "down*4"}}
    alerts:
      - {{at: 3m, firing: [{{alertname: TitikMati, hotspot: jp-glr-01}}]}}
""")
    result = wifimon("rules", "test", str(tmp_path / "t.yaml"))
    assert result.returncode == 1
    assert "FAIL wrong on purpose" in result.stdout
    assert "at 3m: firing expected [TitikMati(jp-glr-01)], got []" in result.stdout


def test_a_bad_test_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("rule_files: []\ntests: []\n")
    result = wifimon("rules", "test", str(tmp_path / "t.yaml"))
    assert result.returncode == 2
    assert "rule_files" in result.stderr
