"""Deployment files are valid for the tools that read them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DASHBOARDS = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (deploy/test.sh installs it)")
    return path


@pytest.mark.parametrize("config", ["prometheus.yml", "compose-prometheus.yml"])
def test_promtool_accepts_the_prometheus_configs(config: str) -> None:
    result = subprocess.run(
        [tool("promtool"), "check", "config", str(DEPLOY / "prometheus" / config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_rules() -> None:
    rules = sorted(str(p) for p in (DEPLOY / "prometheus").glob("*.rules.yml"))
    result = subprocess.run(
        [tool("promtool"), "check", "rules", *rules], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(rules)


def test_amtool_accepts_the_alertmanager_config() -> None:
    result = subprocess.run(
        [tool("amtool"), "check-config", str(DEPLOY / "alertmanager" / "alertmanager.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze")
    unit = (DEPLOY / "systemd" / "wifimon.service").read_text()
    wifimon = Path(sys.executable).parent / "wifimon"
    local = tmp_path / "wifimon.service"
    local.write_text(unit.replace("/opt/wifimon/bin/wifimon", str(wifimon)))
    result = subprocess.run(
        [analyze, "verify", str(local)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_systemd_unit_adds_only_cap_net_raw_and_hardens() -> None:
    unit = (DEPLOY / "systemd" / "wifimon.service").read_text()
    assert "AmbientCapabilities=CAP_NET_RAW\n" in unit
    assert "CapabilityBoundingSet=CAP_NET_RAW\n" in unit
    for setting in (
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "StateDirectory=wifimon",
        "User=wifimon",
    ):
        assert setting in unit


def test_compose_wires_the_four_services() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert set(compose["services"]) == {"wifimon", "prometheus", "alertmanager", "grafana"}
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), source


def test_dockerfile_runs_as_an_unprivileged_user() -> None:
    text = (DEPLOY / "docker" / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text and "\nUSER wifimon\n" in text


def test_committed_dashboards_are_what_the_generator_writes() -> None:
    sys.path.insert(0, str(ROOT / "grafana"))
    try:
        import generate  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    rendered = generate.render_all()
    assert sorted(rendered) == [p.name for p in DASHBOARDS]
    for path in DASHBOARDS:
        assert path.read_text() == rendered[path.name], f"run grafana/generate.py ({path.name})"


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_dashboard_structure(path: Path) -> None:
    board = json.loads(path.read_text())
    uids = {json.loads(p.read_text())["uid"] for p in DASHBOARDS}
    names = [v["name"] for v in board["templating"]["list"]]
    assert names[0] == "datasource" and board["templating"]["list"][0]["type"] == "datasource"
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) for k in "xywh")
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] >= 0 and grid["x"] + grid["w"] <= 24
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
            for variable in set(re.findall(r"\$(\w+)", target["expr"])):
                assert variable.startswith("__") or variable in names, (panel["title"], variable)
        for override in panel["fieldConfig"]["overrides"]:
            for prop in override["properties"]:
                for link in prop["value"] if prop["id"] == "links" else []:
                    linked = link["url"].split("/d/")[1].split("/")[0]
                    assert linked in uids, link["url"]
    assert any(link.get("includeVars") for link in board["links"])


def test_provisioning_points_at_the_dashboards() -> None:
    provider = yaml.safe_load(
        (ROOT / "grafana" / "provisioning" / "dashboards" / "wifimon.yaml").read_text()
    )["providers"][0]
    compose = (DEPLOY / "compose.yaml").read_text()
    assert f"../grafana/dashboards:{provider['options']['path']}:ro" in compose
    datasource = yaml.safe_load(
        (ROOT / "grafana" / "provisioning" / "datasources" / "wifimon.yaml").read_text()
    )["datasources"][0]
    assert datasource["type"] == "prometheus" and "prometheus:9090" in datasource["url"]
