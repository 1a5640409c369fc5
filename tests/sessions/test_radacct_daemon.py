"""The daemon reads a city's FreeRADIUS radacct table (real PostgreSQL) for a titik's users."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fleet_edit import edited_fleet, titik
from tests.postgres import PostgresServer, postgres  # noqa: F401
from tests.sessions.test_radacct import SCHEMA, closed_port
from wifimon.daemon import Daemon

NAS_IP = "198.51.100.20"  # a NAS address in the table's rows only: no traffic goes there


def fleet_reading_radacct(tmp_path: Path, dsn: str) -> Path:
    """The demo fleet whose titik jt-cbu-02 counts the sessions of NAS 198.51.100.20."""

    def radacct(data: dict[str, Any]) -> None:
        data["sessions"] = {"radacct": {"dsn": "radacct-dsn"}}

    def nas(inventory: dict[str, Any]) -> None:
        titik(inventory, "jt-cbu-02")["sessions"] = {"nas_ip": [NAS_IP]}

    return edited_fleet(tmp_path, secrets={"radacct-dsn": dsn}, config=radacct, inventory=nas)


async def test_open_radacct_sessions_are_the_titik_users(
    tmp_path: Path,
    postgres: PostgresServer,  # noqa: F811
) -> None:
    db = postgres.create_database("kota")
    postgres.run_script(SCHEMA, dbname=db)
    for n in range(57):  # 52 open (over the 50-user capacity), 5 logged out
        stop = "now() - interval '1 minute'" if n >= 52 else "NULL"
        postgres.execute(
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, "
            "acctstarttime, acctupdatetime, acctstoptime) VALUES (%s, %s, %s, %s, "
            f"now() - interval '20 minutes', now() - interval '2 minutes', {stop})",
            (f"s{n}", f"u{n}", f"warga{n}", NAS_IP), dbname=db,
        )  # fmt: skip
    daemon = Daemon(fleet_reading_radacct(tmp_path, postgres.dsn_for(db)))
    try:
        await daemon._sessions_job("all", 0.0)
        view = daemon.state.hotspot_view("jt-cbu-02")
        assert (view.users_from, view.sessions, view.clients) == ("sessions", 52, 52)
        assert view.utilisation == 52 / 50
        assert daemon.state.hotspot_view("jt-cbu-01").sessions is None  # no session source
    finally:
        assert daemon.sessions is not None
        await daemon.sessions.stop()


async def test_an_unreachable_radacct_leaves_sessions_unknown(tmp_path: Path) -> None:
    dsn = f"host=127.0.0.1 port={closed_port()} dbname=radius user=radius password=rahasia"
    daemon = Daemon(fleet_reading_radacct(tmp_path, dsn))
    try:
        await daemon._sessions_job("all", 0.0)
        view = daemon.state.hotspot_view("jt-cbu-02")
        assert (view.sessions, view.clients) == (None, None)  # unknown, never 0
    finally:
        assert daemon.sessions is not None
        await daemon.sessions.stop()


@pytest.fixture(autouse=True)
def _no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    yield  # type: ignore[misc]
    assert "rahasia" not in caplog.text
