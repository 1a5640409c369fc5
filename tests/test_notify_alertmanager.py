"""A real Alertmanager (Debian prometheus-alertmanager) receives wifimon's alerts: firing,
resent, and resolved."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.test_daemon import free_tcp_port
from wifimon.alerts.dispatch import Notification
from wifimon.notify.alertmanager import AlertmanagerSync
from wifimon.notify.channels import AlertmanagerChannel, Message
from wifimon.notify.messages import Renderer
from wifimon.notify.settings import NotificationSettings

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
pytestmark = pytest.mark.skipif(
    BINARY is None, reason="prometheus-alertmanager is not installed (deploy/test.sh installs it)"
)
LABELS = {"alertname": "TitikMati", "severity": "critical", "hotspot": "jp-glr-01",
          "kelurahan": "Galur", "provider": "JakWifi Mitra A"}  # fmt: skip
ANNOTATIONS = {"summary": "Titik jp-glr-01 (RW 05, Kel. Galur) mati", "summary_en": "down"}


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    port = free_tcp_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text("route: {receiver: noc, group_wait: 1s}\nreceivers: [{name: noc}]\n")
    log = (tmp_path / "alertmanager.log").open("wb")
    assert BINARY is not None
    process = subprocess.Popen(
        [BINARY, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError((tmp_path / "alertmanager.log").read_text())
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def alerts(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5) as answer:
        return list(json.load(answer))


def note(kind: str, at: float) -> Notification:
    return Notification("TitikMati:jp-glr-01", kind, ("noc",), at, LABELS,  # type: ignore[arg-type]
                        ANNOTATIONS, (), time.time() - 600)  # fmt: skip


async def send(url: str, notification: Notification) -> None:
    subject, body = Renderer().message(notification, "noc", "id", "alertmanager")
    channel = AlertmanagerChannel("am", (url,))
    async with aiohttp.ClientSession() as session:
        await channel.send(session, Message("k", "NOC", subject, body))


async def test_firing_then_resolved_as_alertmanager_shows_them(alertmanager: str) -> None:
    await send(alertmanager, note("firing", time.time()))
    (shown,) = alerts(alertmanager)
    assert shown["labels"] == LABELS
    assert shown["annotations"]["summary"] == ANNOTATIONS["summary"]
    assert shown["annotations"]["alert_id"] == "TitikMati:jp-glr-01"
    assert shown["status"]["state"] == "active"
    await send(alertmanager, note("resolved", time.time() - 1))
    for _ in range(50):
        if not alerts(alertmanager):
            break
        time.sleep(0.1)
    assert alerts(alertmanager) == []  # resolved: no longer listed


async def test_resend_keeps_firing_alerts_and_a_bad_url_is_only_logged(
    alertmanager: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = NotificationSettings.model_validate(
        {
            "channels": {
                "am": {"type": "alertmanager", "urls": [alertmanager]},
                "broken": {"type": "alertmanager", "urls": ["http://127.0.0.1:9"]},
            }
        }
    )
    sync = AlertmanagerSync(settings)
    channels = {"am": AlertmanagerChannel("am", (alertmanager,)),
                "broken": AlertmanagerChannel("broken", ("http://127.0.0.1:9",))}  # fmt: skip
    async with aiohttp.ClientSession() as session:
        await sync.resend(session, channels, [(note("repeat", time.time()), {"am", "broken"})])
    (shown,) = alerts(alertmanager)
    assert shown["labels"]["hotspot"] == "jp-glr-01"
    assert "alertmanager resend failed channel=broken reason=connection" in caplog.text
