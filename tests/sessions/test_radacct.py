"""RadacctSource against a real PostgreSQL holding FreeRADIUS's radacct table."""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from psycopg import sql

from tests.postgres import PostgresServer, postgres  # noqa: F401
from wifimon.errors import ConfigError, WifimonError
from wifimon.sessions.model import NasIdentity
from wifimon.sessions.radacct import RadacctSource, SessionSourceError

SCHEMA = Path(__file__).parents[1] / "fixtures" / "radacct.sql"
NOW = 1_760_000_000.0  # the clock handed to counts(), so freshness is exact
STALE = 900.0
PASSWORD = "Rahasia-Diskominfo-2024"

CIPINANG_IP = "192.0.2.10"  # a MikroTik mapped by its NAS-IP-Address
ANCOL_CALLED = "hotspot-ancol"  # a NAS mapped by its Called-Station-Id
GALUR_ID = "galur-hotspot"  # a NAS mapped by its NAS-Identifier
UNKNOWN_IP = "203.0.113.9"


class Inventory:
    """The resolver the daemon would pass: titik by NAS-Identifier, then IP, then called id."""

    def __init__(self) -> None:
        self.asked: list[NasIdentity] = []

    def __call__(self, identity: NasIdentity) -> str | None:
        self.asked.append(identity)
        if identity.identifier == GALUR_ID:
            return "jp-glr-01"
        if identity.ip == CIPINANG_IP:
            return "jt-cpb-01"
        if identity.called_station_id == ANCOL_CALLED:
            return "ju-anc-02"
        return None


@dataclass
class Session:
    """One radacct row: times are seconds before NOW (None: NULL)."""

    nas_ip: str
    called: str | None
    start_ago: float
    update_ago: float | None = None
    stop_ago: float | None = None
    identifier: str | None = None


def insert(server: PostgresServer, dbname: str, sessions: list[Session]) -> None:
    """Write sessions as FreeRADIUS would, with a resident's username, MAC and IP in each."""
    has_identifier = any(s.identifier is not None for s in sessions)
    extra = sql.SQL(", nasidentifier") if has_identifier else sql.SQL("")
    extra_value = sql.SQL(", %(identifier)s") if has_identifier else sql.SQL("")
    statement = sql.SQL(
        "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress,"
        " calledstationid, callingstationid, framedipaddress, acctstarttime, acctupdatetime,"
        " acctstoptime{extra}) VALUES (%(sid)s, %(uid)s, %(user)s, %(ip)s, %(called)s,"
        " %(mac)s, %(framed)s, to_timestamp(%(start)s), to_timestamp(%(update)s),"
        " to_timestamp(%(stop)s){extra_value})"
    ).format(extra=extra, extra_value=extra_value)
    for n, s in enumerate(sessions):
        params = {
            "sid": f"8100{n:04x}",
            "uid": f"unique-{n}",
            "user": f"warga{n}@rw05",
            "ip": s.nas_ip,
            "called": s.called,
            "mac": f"AA-BB-CC-00-00-{n:02X}",
            "framed": f"10.5.50.{n + 2}",
            "start": NOW - s.start_ago,
            "update": None if s.update_ago is None else NOW - s.update_ago,
            "stop": None if s.stop_ago is None else NOW - s.stop_ago,
            "identifier": s.identifier,
        }
        server.execute(statement, params, dbname=dbname)


@pytest.fixture
def radius_db(postgres: PostgresServer) -> str:  # noqa: F811
    """A fresh database with the FreeRADIUS radacct schema."""
    name = postgres.create_database("radius")
    postgres.run_script(SCHEMA, dbname=name)
    return name


def shown(error: BaseException) -> str:
    """Every message a traceback of `error` would print (its chain of causes included)."""
    parts: list[str] = []
    seen: BaseException | None = error
    while seen is not None:
        parts.append(f"{seen!r} {seen}")
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return "\n".join(parts)


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


MIXED = [
    # Cipinang (by NAS-IP): 4 open and fresh.
    Session(CIPINANG_IP, "hs-cipinang", start_ago=300, update_ago=60),
    Session(CIPINANG_IP, "hs-cipinang", start_ago=3000, update_ago=899),
    Session(CIPINANG_IP, "hs-cipinang", start_ago=100),  # no interim yet: start counts
    Session(CIPINANG_IP, "hs-cipinang", start_ago=40000, update_ago=10),
    # Cipinang, not counted: stopped, stale update, stale start without update.
    Session(CIPINANG_IP, "hs-cipinang", start_ago=600, update_ago=60, stop_ago=30),
    Session(CIPINANG_IP, "hs-cipinang", start_ago=3000, update_ago=901),
    Session(CIPINANG_IP, "hs-cipinang", start_ago=5000),
    # Ancol (by Called-Station-Id; its IP is claimed by no titik): 2 open, 1 stopped.
    Session("198.51.100.7", ANCOL_CALLED, start_ago=200, update_ago=100),
    Session("198.51.100.7", ANCOL_CALLED, start_ago=20, update_ago=20),
    Session("198.51.100.7", ANCOL_CALLED, start_ago=900, update_ago=300, stop_ago=290),
    # A NAS that no titik claims: 3 open, 1 stale.
    Session(UNKNOWN_IP, "unknown-ap", start_ago=50, update_ago=5),
    Session(UNKNOWN_IP, "unknown-ap", start_ago=50, update_ago=5),
    Session(UNKNOWN_IP, "unknown-ap", start_ago=50),
    Session(UNKNOWN_IP, "unknown-ap", start_ago=9000, update_ago=8000),
]


async def test_counts_open_fresh_sessions_per_titik(
    postgres: PostgresServer,  # noqa: F811
    radius_db: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    insert(postgres, radius_db, MIXED)
    inventory = Inventory()
    caplog.set_level(logging.DEBUG)
    async with RadacctSource(postgres.dsn_for(radius_db), inventory) as source:
        counts = await source.counts(now=NOW)
        assert counts == {"jt-cpb-01": 4, "ju-anc-02": 2}
        assert source.unresolved == 3
        # Grouped in SQL: the resolver sees each NAS once, with no column of a resident.
        assert sorted(inventory.asked, key=repr) == sorted(
            [
                NasIdentity(None, CIPINANG_IP, "hs-cipinang"),
                NasIdentity(None, "198.51.100.7", ANCOL_CALLED),
                NasIdentity(None, UNKNOWN_IP, "unknown-ap"),
            ],
            key=repr,
        )
        # Later: the same connection, and a clock an hour on, when everything is stale.
        assert await source.counts(now=NOW + 3600) == {}
        assert source.unresolved == 0
    assert "unknown-ap" in caplog.text and UNKNOWN_IP in caplog.text
    for private in ("warga", "AA-BB-CC", "10.5.50."):
        assert private not in caplog.text


async def test_nas_identifier_column_is_used_when_the_table_has_it(
    postgres: PostgresServer,  # noqa: F811
    radius_db: str,
) -> None:
    postgres.execute("ALTER TABLE radacct ADD COLUMN nasidentifier text", dbname=radius_db)
    insert(
        postgres,
        radius_db,
        [
            Session("192.0.2.20", None, start_ago=60, identifier=GALUR_ID),
            Session("192.0.2.20", "", start_ago=30, update_ago=10, identifier=GALUR_ID),
            Session(CIPINANG_IP, "hs-cipinang", start_ago=60, identifier=""),
        ],
    )
    inventory = Inventory()
    async with RadacctSource(postgres.dsn_for(radius_db), inventory) as source:
        assert await source.counts(now=NOW) == {"jp-glr-01": 2, "jt-cpb-01": 1}
        assert source.unresolved == 0
    assert set(inventory.asked) == {
        NasIdentity(GALUR_ID, "192.0.2.20", None),  # '' and NULL are both "not sent"
        NasIdentity(None, CIPINANG_IP, "hs-cipinang"),
    }


async def test_default_clock_is_the_database_clock(
    postgres: PostgresServer,  # noqa: F811
    radius_db: str,
) -> None:
    postgres.execute(
        "INSERT INTO radacct (acctsessionid, acctuniqueid, nasipaddress, calledstationid,"
        " acctstarttime, acctupdatetime) VALUES"
        " ('1', 'u1', %s, 'x', now() - interval '2 hours', now() - interval '1 minute'),"
        " ('2', 'u2', %s, 'x', now() - interval '2 hours', now() - interval '1 hour')",
        (CIPINANG_IP, CIPINANG_IP),
        dbname=radius_db,
    )
    async with RadacctSource(postgres.dsn_for(radius_db), Inventory()) as source:
        assert await source.counts() == {"jt-cpb-01": 1}
    async with RadacctSource(
        postgres.dsn_for(radius_db), Inventory(), stale_after_seconds=7200
    ) as source:
        assert await source.counts() == {"jt-cpb-01": 2}


async def test_reads_only_the_nas_and_time_columns(
    postgres: PostgresServer,  # noqa: F811
    radius_db: str,
) -> None:
    """A role granted no column of a resident (username, MAC, IP) can still count."""
    postgres.execute("ALTER TABLE radacct ADD COLUMN nasidentifier text", dbname=radius_db)
    postgres.execute("CREATE ROLE counter_ro LOGIN")
    postgres.execute(
        "GRANT SELECT (nasidentifier, nasipaddress, calledstationid, acctstarttime,"
        " acctupdatetime, acctstoptime) ON radacct TO counter_ro",
        dbname=radius_db,
    )
    insert(postgres, radius_db, MIXED)
    dsn = postgres.dsn_for(radius_db, user="counter_ro")
    async with RadacctSource(dsn, Inventory()) as source:
        assert await source.counts(now=NOW) == {"jt-cpb-01": 4, "ju-anc-02": 2}


async def test_role_without_select_gets_a_clear_error(
    postgres: PostgresServer,  # noqa: F811
    radius_db: str,
) -> None:
    postgres.execute("CREATE ROLE stranger LOGIN")
    source = RadacctSource(postgres.dsn_for(radius_db, user="stranger"), Inventory())
    try:
        with pytest.raises(SessionSourceError) as caught:
            await source.counts(now=NOW)
    finally:
        await source.close()
    message = str(caught.value)
    assert "permission denied for table radacct" in message
    assert f"port={postgres.port}" in message and "user=stranger" in message


async def test_unreachable_server_fails_fast_without_the_password() -> None:
    port = closed_port()
    dsn = f"postgresql://wifimon:{PASSWORD}@127.0.0.1:{port}/radius"
    source = RadacctSource(dsn, Inventory(), timeout_seconds=3)
    started = time.monotonic()
    with pytest.raises(SessionSourceError) as caught:
        await source.counts()
    assert time.monotonic() - started < 3
    await source.close()
    error = caught.value
    assert isinstance(error, WifimonError)
    assert f"host=127.0.0.1 port={port} dbname=radius user=wifimon" in str(error)
    assert "Connection refused" in str(error)
    assert PASSWORD not in shown(error) + repr(source)


def test_invalid_dsn_is_a_config_error_without_its_text() -> None:
    with pytest.raises(ConfigError) as caught:
        RadacctSource(f"host=127.0.0.1 password={PASSWORD} nonsense", Inventory())
    assert "not a valid PostgreSQL connection string" in str(caught.value)
    assert PASSWORD not in shown(caught.value) and "nonsense" not in shown(caught.value)


@pytest.mark.parametrize(
    "table",
    [
        "radacct; DROP TABLE radacct",
        'rad"acct',
        "radacct --",
        "",
        "1radacct",
        "a.b.c",
        "public.",
        "x" * 64,
    ],
)
def test_a_table_name_that_is_not_an_identifier_is_refused(table: str) -> None:
    with pytest.raises(ConfigError, match="is not a table name"):
        RadacctSource("host=127.0.0.1", Inventory(), table=table)


@pytest.mark.parametrize(
    ("field", "value"), [("stale_after_seconds", 0), ("timeout_seconds", -1.0)]
)
def test_durations_must_be_positive(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field):
        RadacctSource("host=127.0.0.1", Inventory(), **{field: value})  # type: ignore[arg-type]


async def test_schema_qualified_and_missing_tables(
    postgres: PostgresServer,  # noqa: F811
    radius_db: str,
) -> None:
    insert(postgres, radius_db, MIXED)
    dsn = postgres.dsn_for(radius_db)
    async with RadacctSource(dsn, Inventory(), table="public.radacct") as source:
        assert await source.counts(now=NOW) == {"jt-cpb-01": 4, "ju-anc-02": 2}
    async with RadacctSource(dsn, Inventory(), table="RadAcct") as source:
        with pytest.raises(SessionSourceError, match='relation "RadAcct" does not exist'):
            await source.counts(now=NOW)
    postgres.execute("CREATE TABLE notradacct (id int, nasipaddress inet)", dbname=radius_db)
    async with RadacctSource(dsn, Inventory(), table="notradacct") as source:
        with pytest.raises(SessionSourceError, match="no column acctstarttime, acctstoptime"):
            await source.counts(now=NOW)


async def test_the_transaction_is_read_only(
    postgres: PostgresServer,  # noqa: F811
    radius_db: str,
) -> None:
    """A 'table' that writes when read (a view over a writing function) must fail."""
    postgres.execute("CREATE TABLE audit (at timestamptz)", dbname=radius_db)
    postgres.execute(
        "CREATE FUNCTION touch() RETURNS boolean LANGUAGE plpgsql VOLATILE AS"
        " $$ BEGIN INSERT INTO audit VALUES (now()); RETURN true; END $$",
        dbname=radius_db,
    )
    postgres.execute(
        "CREATE VIEW radacct_writes AS SELECT * FROM radacct WHERE touch()", dbname=radius_db
    )
    insert(postgres, radius_db, MIXED[:1])
    async with RadacctSource(
        postgres.dsn_for(radius_db), Inventory(), table="radacct_writes"
    ) as source:
        with pytest.raises(SessionSourceError, match="read-only transaction"):
            await source.counts(now=NOW)
    assert postgres.execute("SELECT count(*) FROM audit", dbname=radius_db) == [(0,)]


async def test_a_slow_query_is_stopped_by_the_statement_timeout(
    postgres: PostgresServer,  # noqa: F811
    radius_db: str,
) -> None:
    postgres.execute(
        "CREATE VIEW radacct_slow AS SELECT r.* FROM radacct r, pg_sleep(30)",
        dbname=radius_db,
    )
    insert(postgres, radius_db, MIXED[:1])
    async with RadacctSource(
        postgres.dsn_for(radius_db), Inventory(), table="radacct_slow", timeout_seconds=1
    ) as source:
        started = time.monotonic()
        with pytest.raises(SessionSourceError, match="statement timeout"):
            await source.counts(now=NOW)
        assert time.monotonic() - started < 3


async def test_a_dropped_connection_is_replaced(
    postgres: PostgresServer,  # noqa: F811
    radius_db: str,
) -> None:
    insert(postgres, radius_db, MIXED)
    async with RadacctSource(postgres.dsn_for(radius_db), Inventory()) as source:
        assert await source.counts(now=NOW) == {"jt-cpb-01": 4, "ju-anc-02": 2}
        killed = postgres.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'wifimon' AND datname = %s",
            (radius_db,),
        )
        assert killed == [(True,)]
        assert await source.counts(now=NOW) == {"jt-cpb-01": 4, "ju-anc-02": 2}
