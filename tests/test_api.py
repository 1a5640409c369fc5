"""/api/v1/alerts behind bearer tokens: 401 without, 403 for the wrong role, filters, 400s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from tests.history.synthetic import fill
from wifimon.alerts.templates import WIB
from wifimon.api_auth import hash_token
from wifimon.daemon import Daemon
from wifimon.demo.fleet import write_fleet
from wifimon.history.report import Period, rows_digest
from wifimon.history.store import Batch
from wifimon.measurements import ApSample
from wifimon.web import build_app

NOC, AUDITOR, READER = "noc-secret-token", "auditor-secret-token", "reader-secret-token"
NOC_WRITER = "noc-writer-token"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[TestClient, Daemon]]:
    config = write_fleet(tmp_path, 9, "127.0.0.1:9", 60.0)
    data = yaml.safe_load(config.read_text())
    data["api"] = {
        "roles": {
            "noc": ["alerts:read", "alerts:ack"],
            "auditor": ["reports:read"],
            "reader": ["alerts:read"],
            "noc_admin": ["alerts:read", "silences:read", "silences:write"],
        },
        "tokens": [
            {"name": "noc-desk", "role": "noc", "sha256": hash_token(NOC)},
            {"name": "inspektorat", "role": "auditor", "sha256": hash_token(AUDITOR)},
            {"name": "camat", "role": "reader", "sha256": hash_token(READER)},
            {"name": "noc-admin", "role": "noc_admin", "sha256": hash_token(NOC_WRITER)},
        ],
    }
    config.write_text(yaml.safe_dump(data))
    daemon = Daemon(config)
    for ap in ("jt-crc-04-a", "jp-glr-02-a"):
        daemon.state.record(ApSample(ap_id=ap, timestamp=0.0, reachable=False))
        daemon.state.record(ApSample(ap_id=ap, timestamp=1.0, reachable=False))
    assert daemon.engine is not None
    daemon.engine.evaluate(10.0)
    daemon.engine.evaluate(400.0)  # TitikMati and ApMati fire after 5 minutes
    client = TestClient(TestServer(build_app(daemon)))
    await client.start_server()
    yield client, daemon
    await client.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_token_is_401_with_no_data(api) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    for headers in ({}, bearer("wrong"), {"Authorization": "Basic abc"}):
        response = await client.get("/api/v1/alerts", headers=headers)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "alerts" not in await response.json()


async def test_role_without_permission_is_403(api) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    response = await client.get("/api/v1/alerts", headers=bearer(AUDITOR))
    assert response.status == 403
    assert (await response.json())["error"] == "this token's role may not alerts:read"


async def test_alerts_with_filters(api) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    response = await client.get("/api/v1/alerts", headers=bearer(NOC))
    assert response.status == 200
    alerts = (await response.json())["alerts"]
    firing = {
        (a["alertname"], a["labels"].get("hotspot")) for a in alerts if a["state"] == "firing"
    }
    assert ("TitikMati", "jt-crc-04") in firing and ("TitikMati", "jp-glr-02") in firing
    response = await client.get(
        "/api/v1/alerts?state=firing&kelurahan=Galur&alertname=TitikMati", headers=bearer(READER)
    )
    (only,) = (await response.json())["alerts"]
    assert only["labels"]["hotspot"] == "jp-glr-02" and only["severity"] == "critical"
    assert only["fired_at"] == 400.0 and only["active_since"] == 10.0


@pytest.mark.parametrize(
    "query,message",
    [
        ("?state=burning", "state must be pending or firing"),
        ("?colour=red", "unknown filter 'colour'"),
    ],
)
async def test_bad_queries_are_400(api, query: str, message: str) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    response = await client.get(f"/api/v1/alerts{query}", headers=bearer(NOC))
    assert response.status == 400
    assert message in (await response.json())["error"]


async def test_metrics_and_health_stay_open(api) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    assert (await client.get("/-/healthy")).status == 200
    body = await (await client.get("/metrics")).text()
    assert 'wifimon_alert{alertname="TitikMati"' in body
    assert NOC not in body and hash_token(NOC) not in body


def test_token_role_must_exist(tmp_path: Path) -> None:
    from wifimon import config as config_module
    from wifimon.errors import ConfigError

    config = write_fleet(tmp_path, 9, "127.0.0.1:9", 60.0)
    data = yaml.safe_load(config.read_text())
    data["api"] = {"tokens": [{"name": "x", "role": "mayor", "sha256": "0" * 64}]}
    config.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="undefined role 'mayor'"):
        config_module.load(config)


async def test_silences_over_the_api_mark_alerts(api) -> None:  # type: ignore[no-untyped-def]
    client, daemon = api
    body = {
        "matchers": {"kelurahan": "Galur"},
        "author": "Budi (NOC)",
        "reason": "gangguan PLN di Galur",
        "duration": "2h",
    }
    assert (await client.post("/api/v1/silences", json=body, headers=bearer(READER))).status == 403
    response = await client.post("/api/v1/silences", json=body, headers=bearer(NOC_WRITER))
    assert response.status == 201
    silence_id = (await response.json())["id"]
    listed = await (await client.get("/api/v1/silences", headers=bearer(NOC_WRITER))).json()
    assert [(s["id"], s["state"]) for s in listed["silences"]] == [(silence_id, "active")]
    daemon._evaluate_and_save(daemon.engine)
    alerts = (await (await client.get("/api/v1/alerts", headers=bearer(NOC))).json())["alerts"]
    by_hotspot = {
        a["labels"].get("hotspot"): a["silenced_by"]
        for a in alerts
        if a["alertname"] == "TitikMati"
    }
    assert by_hotspot == {"jp-glr-02": silence_id, "jt-crc-04": None}
    response = await client.delete(f"/api/v1/silences/{silence_id}", headers=bearer(NOC_WRITER))
    assert response.status == 200
    assert (await client.delete("/api/v1/silences/nope", headers=bearer(NOC_WRITER))).status == 404


@pytest.mark.parametrize(
    "body,message",
    [
        (
            {"matchers": {"colour": "red"}, "author": "a", "reason": "r", "duration": "1h"},
            "cannot match on 'colour'",
        ),
        (
            {"matchers": {"hotspot": "x"}, "author": "a", "reason": "r"},
            "either a duration or a weekly window",
        ),
        (
            {"matchers": {"hotspot": "x"}, "author": "a", "reason": "r", "ttl": "1h"},
            "unknown field 'ttl'",
        ),
    ],
)
async def test_bad_silences_are_400(api, body, message: str) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    response = await client.post("/api/v1/silences", json=body, headers=bearer(NOC_WRITER))
    assert response.status == 400
    assert message in (await response.json())["error"]


async def test_acknowledge_over_the_api(api) -> None:  # type: ignore[no-untyped-def]
    client, daemon = api
    url = "/api/v1/alerts/TitikMati:jp-glr-02/ack"
    body = {"by": "NOC Diskominfo", "comment": "penyedia sudah dihubungi"}
    assert (await client.post(url, json=body, headers=bearer(READER))).status == 403
    response = await client.post(url, json=body, headers=bearer(NOC))
    assert response.status == 201
    assert (await response.json())["fired_at"] == 400.0
    assert daemon.acks.by_episode()[("TitikMati:jp-glr-02", 400.0)].by == "NOC Diskominfo"
    daemon._evaluate_and_save(daemon.engine)
    listed = await client.get("/api/v1/alerts?hotspot=jp-glr-02&alertname=TitikMati",
                              headers=bearer(NOC))  # fmt: skip
    (alert,) = (await listed.json())["alerts"]
    assert alert["acknowledged"]["comment"] == "penyedia sudah dihubungi"
    assert alert["state"] == "firing"  # acknowledged is not resolved


@pytest.mark.parametrize(
    "path,body,status,message",
    [
        ("TitikMati:nowhere", {"by": "x"}, 404, "no firing alert 'TitikMati:nowhere'"),
        ("TitikMati:jp-glr-02", {"by": ""}, 400, "by: expected a text of 1 to 100 characters"),
        ("TitikMati:jp-glr-02", {"who": "x"}, 400, "with `by` and optional `comment`"),
    ],
)
async def test_bad_acknowledgements(api, path: str, body: dict, status: int, message: str) -> None:  # type: ignore[no-untyped-def,type-arg]
    client, _ = api
    response = await client.post(f"/api/v1/alerts/{path}/ack", json=body, headers=bearer(NOC))
    assert response.status == status
    assert message in (await response.json())["error"]


async def test_uptime_report_for_auditors(api) -> None:  # type: ignore[no-untyped-def]
    client, daemon = api
    titik = list(daemon.config.inventory.hotspots)
    fill(daemon.history, titik, Period.month("2026-10"))
    path = "/api/v1/reports/uptime?month=2026-10&by=hotspot"
    response = await client.get(path)
    assert response.status == 401
    assert "rows" not in await response.text()
    assert (await client.get(path, headers=bearer(NOC))).status == 403
    response = await client.get(path, headers=bearer(AUDITOR))
    assert response.status == 200, await response.text()
    data = await response.json()
    assert [r["group"] for r in data["rows"]] == sorted(h.id for h in titik)
    assert data["rows_sha256"] == rows_digest(data["rows"])
    assert data["period"]["start"] == "2026-10-01 00:00:00 WIB"
    assert 'filename="wifimon-uptime-2026-10-01.json"' in response.headers["Content-Disposition"]
    one = await client.get(f"{path}&hotspot=jp-glr-01&format=csv&language=en",
                           headers=bearer(AUDITOR))  # fmt: skip
    lines = (await one.text()).lstrip("\ufeff").splitlines()
    assert one.content_type == "text/csv"
    assert lines[0].startswith("Group;Hotspots;")  # the configured delimiter
    assert lines[1].startswith("jp-glr-01") and len([x for x in lines if x[:1] != "#"]) == 2
    pdf = await client.get(f"{path}&format=pdf", headers=bearer(AUDITOR))
    assert pdf.content_type == "application/pdf"
    assert (await pdf.read()).startswith(b"%PDF-")
    kelurahan = await client.get("/api/v1/reports/uptime?from=2026-10-05&to=2026-10-06",
                                 headers=bearer(AUDITOR))  # fmt: skip
    assert {r["group"] for r in (await kelurahan.json())["rows"]} == {h.kelurahan for h in titik}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("month=2026-13", "month '2026-13' is not YYYY-MM"),
        ("from=2026-10-01", "from and to go together"),
        ("from=2026-10-02&to=2026-10-01", "to must be after from"),
        ("from=yesterday&to=2026-10-01", "from 'yesterday' is not YYYY-MM-DD"),
        ("by=rw", "by 'rw' is not one of hotspot, kecamatan, kelurahan, kota, provider"),
        ("format=xlsx", "format 'xlsx' is not one of csv, html, json, pdf"),
        ("language=jv", "language 'jv' is not one of en, id"),
        ("hotspot=nowhere", "hotspot: not in the inventory: nowhere"),
        ("months=2026-10", "unknown parameter 'months'"),
    ],
)
async def test_bad_report_queries_are_400(api, query: str, message: str) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    response = await client.get(f"/api/v1/reports/uptime?{query}", headers=bearer(AUDITOR))
    assert response.status == 400
    assert (await response.json())["error"].startswith(message)


async def test_report_without_history_is_404_without_the_path(api) -> None:  # type: ignore[no-untyped-def]
    client, daemon = api
    daemon.history.close()
    (daemon.state_dir / "history.sqlite").unlink()
    for path in ("/api/v1/reports/uptime", "/api/v1/reports/alerts"):
        response = await client.get(path, headers=bearer(AUDITOR))
        assert response.status == 404
        message = (await response.json())["error"]
        assert message == "this instance has no history yet"  # no server path in the answer


async def test_alert_log_for_auditors(api) -> None:  # type: ignore[no-untyped-def]
    client, daemon = api
    october = datetime(2026, 10, 7, 10, 0, tzinfo=WIB).timestamp()
    run_id = daemon.history.start_run(october)
    daemon.history.write(Batch(
        run_id, october + 60,
        alert_events=[(october, "TitikMati:jt-crc-04", "firing", '{"roles": ["rw_admin"]}')],
        deliveries=[(october + 5, "TitikMati:jt-crc-04:1", "rw_telegram", "-1001", "retry",
                     "rate_limited", "Titik mati")]))  # fmt: skip
    path = "/api/v1/reports/alerts?month=2026-10"
    assert (await client.get(path)).status == 401
    assert (await client.get(path, headers=bearer(NOC))).status == 403
    response = await client.get(path, headers=bearer(AUDITOR))
    assert response.status == 200
    entries = (await response.json())["entries"]
    assert [(e["time"], e["event"], e["result"]) for e in entries] == [
        ("2026-10-07 10:00:00 WIB", "firing", ""),
        ("2026-10-07 10:00:05 WIB", "delivery", "retry")]  # fmt: skip
    as_csv = await client.get(f"{path}&format=csv", headers=bearer(AUDITOR))
    assert (await as_csv.text()).lstrip("\ufeff").startswith("time;alert;event;channel;")
    assert (await client.get("/api/v1/reports/alerts?month=2026-09",
                             headers=bearer(AUDITOR))).status == 200  # fmt: skip
    for query, message in (("format=pdf", "format 'pdf' is not one of csv, json"),
                           ("month=10-2026", "month '10-2026' is not YYYY-MM"),
                           ("hotspot=jt-crc-04", "unknown parameter 'hotspot'")):  # fmt: skip
        bad = await client.get(f"/api/v1/reports/alerts?{query}", headers=bearer(AUDITOR))
        assert bad.status == 400 and (await bad.json())["error"] == message
