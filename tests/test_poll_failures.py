"""A poll that fails for any reason is recorded as failed: nothing leaves an AP frozen."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.fleet_edit import edited_fleet
from wifimon.daemon import Daemon
from wifimon.measurements import ApSample


async def broken_poll(*args: Any, **kwargs: Any) -> ApSample:
    """Stands for a bug anywhere in a poll (the decoders' own errors are handled inside)."""
    raise KeyError("an OID the code did not expect")


async def test_a_poll_that_raises_is_a_failed_poll_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon = Daemon(edited_fleet(tmp_path))
    ap_id = next(iter(daemon.state.aps))
    monkeypatch.setattr("wifimon.daemon.poll_ap", broken_poll)
    for _ in range(daemon.state.down_after_failures):
        await daemon.poll_once(ap_id, time.time())
    state = daemon.state.aps[ap_id]
    assert state.errors_total["internal_error"] == daemon.state.down_after_failures
    assert state.status.value == "down" and state.clients is None
    body = (await daemon.metrics_body()).decode()
    assert 'wifimon_poll_errors_total{reason="internal_error"}' in body
    assert "an OID the code did not expect" not in body
