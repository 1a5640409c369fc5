"""Controllers: one poll gives each managed AP its client count, matched by name or MAC."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, RunningAgent
from tests.fleet_edit import edited_fleet
from wifimon.controllers import managed_samples
from wifimon.daemon import Daemon, polled_aps, used_controllers
from wifimon.errors import ConfigError
from wifimon.inventory import AccessPoint
from wifimon.inventory_io import parse_csv, to_csv
from wifimon.measurements import ApSample, ManagedApClients
from wifimon.state import Status

TABLE = (
    ManagedApClients("0.26.30.0.0.1", "AP-Galur-01", "00:1a:1e:00:00:01", 12),
    ManagedApClients("0.26.30.0.0.2", "AP-Galur-02", "00:1a:1e:00:00:02", 3),
)


def managed(ap_id: str, on_controller: str | None) -> AccessPoint:
    return AccessPoint(id=ap_id, address="127.0.0.1", controller="wlc-1",
                       controller_ap=on_controller)  # fmt: skip


def controller_sample(reachable: bool = True, table: object = TABLE) -> ApSample:
    sample = ApSample("wlc-1", 100.0, reachable, profile="test-wlc")
    sample.managed_aps = table  # type: ignore[assignment]
    return sample


def test_aps_are_found_by_name_or_by_mac_in_any_spelling() -> None:
    aps = [managed("a", "ap-galur-01"), managed("b", "00-1A-1E-00-00-02"), managed("c", None)]
    outcome = managed_samples(controller_sample(), aps)
    got = {s.ap_id: (s.reachable, s.clients.total) for s in outcome.samples}
    assert got == {"a": (True, 12), "b": (True, 3), "c": (False, None)}
    (missing,) = [s for s in outcome.samples if s.ap_id == "c"]
    assert [(i.reason, i.detail) for i in missing.issues] == [
        ("not_on_controller", "'c' is not joined")
    ]


@pytest.mark.parametrize(
    "sample, why",
    [
        (controller_sample(reachable=False), "controller did not answer"),
        (controller_sample(table=None), "controller gave no per-AP client table"),
    ],
)
def test_a_controller_that_cannot_tell_leaves_its_aps_unknown(sample: ApSample, why: str) -> None:
    outcome = managed_samples(sample, [managed("a", "AP-Galur-01")])
    assert outcome.samples == [] and outcome.unknown == ["a"] and outcome.why_unknown == why


def test_a_polled_ap_needs_credentials_and_a_managed_one_does_not() -> None:
    with pytest.raises(ValueError, match="credentials: required unless the AP is read via"):
        AccessPoint(id="a", address="127.0.0.1")
    with pytest.raises(ValueError, match="controller_ap: only for an AP read via a controller"):
        AccessPoint(id="a", address="127.0.0.1", credentials="c", controller_ap="x")
    assert managed("a", None).name_on_controller == "a"


def fleet_with_controller(tmp_path: Path, port: int, controller_ref: str = "wlc-1") -> Path:
    """The demo fleet where titik jp-glr-01 and jp-glr-02 are read through controller wlc-1."""

    def configure(data: dict[str, Any]) -> None:
        data["snmp_credentials"]["wlc"] = {"version": "2c", "community": "community-wlc"}
        data["profiles_dirs"] = [str(FIXTURES / "profiles")]
        data["polling"].update(timeout_seconds=0.3, retries=0)

    on_controller = {"jp-glr-01-a": "AP-Galur-01", "jp-glr-01-b": "00:1a:1e:00:00:02",
                     "jp-glr-02-a": "AP-Hilang"}  # fmt: skip

    def manage(inventory: dict[str, Any]) -> None:
        inventory["controllers"] = [
            {"id": "wlc-1", "address": f"127.0.0.1:{port}", "credentials": "wlc"}
        ]
        for hotspot in inventory["hotspots"]:
            for ap in hotspot["access_points"]:
                if ap["id"] in on_controller:
                    del ap["credentials"]
                    ap["controller"] = controller_ref
                    ap["controller_ap"] = on_controller[ap["id"]]

    return edited_fleet(tmp_path, secrets={"community-wlc": "wlc-test"}, config=configure,
                        inventory=manage)  # fmt: skip


async def test_the_daemon_reads_managed_aps_through_their_controller(
    tmp_path: Path, agent: RunningAgent
) -> None:
    daemon = Daemon(fleet_with_controller(tmp_path, agent.port))
    polled = polled_aps(daemon.config.inventory)
    assert "jp-glr-01-a" not in polled and "jp-glr-02-a" not in polled and "jt-cbu-01-a" in polled
    assert used_controllers(daemon.config.inventory) == {"wlc-1"}
    await daemon.poll_controller("wlc-1", 0.0)
    aps = daemon.state.aps
    assert (aps["jp-glr-01-a"].status, aps["jp-glr-01-a"].clients) == (Status.UP, 12)
    assert (aps["jp-glr-01-b"].status, aps["jp-glr-01-b"].clients) == (Status.UP, 3)
    assert daemon.state.hotspot_view("jp-glr-01").clients == 15
    assert aps["jp-glr-02-a"].errors_total["not_on_controller"] == 1
    body = (await daemon.metrics_body()).decode()
    assert 'wifimon_controller_up{controller="wlc-1"} 1' in body
    assert 'wifimon_controller_aps{controller="wlc-1",profile="test-wlc"} 3' in body
    assert "wlc-test" not in body  # the community never reaches metrics


async def test_a_silent_controller_makes_its_aps_unknown_not_down(tmp_path: Path) -> None:
    daemon = Daemon(fleet_with_controller(tmp_path, 9))
    await daemon.poll_controller("wlc-1", 0.0)
    await daemon.poll_controller("wlc-1", 0.0)
    ap = daemon.state.aps["jp-glr-01-a"]
    assert ap.status == Status.UNKNOWN and ap.errors_total["controller"] == 2
    assert daemon.state.hotspot_view("jp-glr-01").status == Status.UNKNOWN
    body = (await daemon.metrics_body()).decode()
    assert 'wifimon_controller_up{controller="wlc-1"} 0' in body


def test_an_undefined_controller_is_a_config_error_naming_the_line(tmp_path: Path) -> None:
    from wifimon.config import load

    config = fleet_with_controller(tmp_path, 9, controller_ref="wlc-9")
    with pytest.raises(ConfigError) as err:
        load(config)
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'inventory.yaml'}:")
    assert message.endswith(".controller: undefined controller 'wlc-9'")


def test_csv_carries_the_controller_columns_both_ways(tmp_path: Path) -> None:
    from wifimon.config import load

    inventory = load(fleet_with_controller(tmp_path, 9)).inventory
    text = to_csv(inventory)
    again, _ = parse_csv(text, "titik.csv")
    ap = {a.id: a for _, a in again.access_points()}["jp-glr-01-b"]
    assert (ap.controller, ap.controller_ap, ap.credentials) == (
        "wlc-1",
        "00:1a:1e:00:00:02",
        None,
    )
