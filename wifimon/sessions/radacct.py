"""Open hotspot sessions per titik, read from a FreeRADIUS radacct table in PostgreSQL.

An alternative to receiving accounting packets: where the city's RADIUS server already writes
accounting to PostgreSQL, wifimon reads the table read-only and counts sessions that are open
(no stop time) and fresh (updated within `stale_after_seconds`). Counting happens in SQL,
grouped by the NAS columns only, so no username, client MAC or framed IP ever reaches wifimon:
the role wifimon uses may be granted SELECT on just the columns read here (`nasipaddress`,
`calledstationid`, `nasidentifier` where it exists, `acctstarttime`, `acctupdatetime`,
`acctstoptime`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from wifimon.errors import ConfigError, WifimonError
from wifimon.secrets import Secret
from wifimon.sessions.model import NasIdentity, Resolver

log = logging.getLogger(__name__)

DEFAULT_TABLE = "radacct"
DEFAULT_STALE_AFTER_SECONDS = 900.0
DEFAULT_TIMEOUT_SECONDS = 10.0
# Grace on top of the server-side limits before wifimon itself gives up on a silent network.
_CLIENT_SLACK_SECONDS = 2.0
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_REQUIRED_COLUMNS = ("nasipaddress", "acctstarttime", "acctstoptime")


class SessionSourceError(WifimonError):
    """A session source could not be read; the message names the server, never the DSN."""


class _ConnectionLost(SessionSourceError):
    """The server closed the connection (restart, idle kill): worth one new connection."""


@dataclass(frozen=True, slots=True)
class _Columns:
    """Which optional radacct columns this table has, learnt once per connection."""

    nasidentifier: bool
    calledstationid: bool
    acctupdatetime: bool
    nasipaddress_is_inet: bool


def table_identifier(table: str) -> sql.Identifier:
    """The table name (`name` or `schema.name`) as a quoted identifier; config, never SQL."""
    parts = table.split(".")
    if not 1 <= len(parts) <= 2 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
        raise ConfigError(
            f"radacct table {table!r} is not a table name: use letters, digits and _ "
            "(name or schema.name, at most 63 characters each)"
        )
    return sql.Identifier(*parts)


def _connection_params(dsn: str) -> dict[str, Any]:
    """The DSN's parameters; its text never appears in the error (it holds the password)."""
    try:
        return dict(conninfo_to_dict(dsn))
    except psycopg.Error:
        raise ConfigError("radacct dsn is not a valid PostgreSQL connection string") from None


def _describe(params: dict[str, Any]) -> str:
    """Where the database is, for messages: host, port, database and role, no password."""
    host = params.get("host") or params.get("hostaddr") or "default"
    port = params.get("port") or "5432"
    dbname = params.get("dbname") or "default"
    user = params.get("user") or "default"
    return f"host={host} port={port} dbname={dbname} user={user}"


def _positive(name: str, value: float) -> float:
    """A duration from config that must be above zero."""
    if not value > 0 or math.isinf(value):
        raise ConfigError(f"radacct {name} must be a positive number of seconds, not {value}")
    return float(value)


def _count_query(table: sql.Identifier, columns: _Columns) -> sql.Composed:
    """Open, fresh sessions per (NAS-Identifier, NAS-IP-Address, Called-Station-Id)."""
    null_text = sql.SQL("NULL::text")
    ip = sql.Identifier("nasipaddress")
    identifier = (
        sql.SQL("NULLIF({}, '')").format(sql.Identifier("nasidentifier"))
        if columns.nasidentifier
        else null_text
    )
    called = (
        sql.SQL("NULLIF({}, '')").format(sql.Identifier("calledstationid"))
        if columns.calledstationid
        else null_text
    )
    address = (
        sql.SQL("host({})").format(ip)
        if columns.nasipaddress_is_inet
        else sql.SQL("NULLIF({}::text, '')").format(ip)
    )
    last_seen = (
        sql.SQL("COALESCE({}, {})").format(
            sql.Identifier("acctupdatetime"), sql.Identifier("acctstarttime")
        )
        if columns.acctupdatetime
        else sql.Identifier("acctstarttime")
    )
    return sql.SQL(
        "SELECT {identifier}, {address}, {called}, count(*) FROM {table}"
        " WHERE {stop} IS NULL"
        " AND {last_seen} >= COALESCE(to_timestamp(%(now)s::double precision), now())"
        " - make_interval(secs => %(stale)s::double precision)"
        " GROUP BY 1, 2, 3"
    ).format(
        identifier=identifier,
        address=address,
        called=called,
        table=table,
        stop=sql.Identifier("acctstoptime"),
        last_seen=last_seen,
    )


_COLUMNS_QUERY = (
    "SELECT attname, atttypid = 'inet'::regtype FROM pg_attribute"
    " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped"
)


class RadacctSource:
    """Counts open sessions per titik from radacct, read-only, with every wait bounded.

    `counts()` returns only titik that have sessions (absent means 0). Sessions from a NAS that
    `resolve` maps to no titik are not counted; their number from the last call is kept in
    `unresolved` (the daemon reports it as `unknown_titik`).
    """

    def __init__(
        self,
        dsn: str,
        resolve: Resolver,
        table: str = DEFAULT_TABLE,
        stale_after_seconds: float = DEFAULT_STALE_AFTER_SECONDS,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        params = _connection_params(dsn)
        self._dsn = Secret(dsn)
        self._secrets = [Secret(s) for s in (dsn, params.get("password")) if s]
        self._where = _describe(params)
        self._resolve = resolve
        self._table_name = table
        self._table = table_identifier(table)
        self._stale = _positive("stale_after_seconds", stale_after_seconds)
        self._timeout = _positive("timeout_seconds", timeout_seconds)
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._columns: _Columns | None = None
        self._lock = asyncio.Lock()
        self._reported: set[NasIdentity] = set()
        self.unresolved = 0

    def __repr__(self) -> str:
        return f"RadacctSource({self._where} table={self._table_name})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def counts(self, now: float | None = None) -> dict[str, int]:
        """Open sessions per titik id; `now` (Unix seconds) defaults to the database's clock."""
        async with self._lock:
            rows = await self._fetch(now)
        return self._tally(rows)

    async def close(self) -> None:
        """Close the database connection; counts() opens a new one when called again."""
        conn, self._conn, self._columns = self._conn, None, None
        if conn is not None and not conn.closed:
            await conn.close()

    async def _fetch(self, now: float | None) -> list[tuple[Any, ...]]:
        """Count on the kept connection; once more on a new one if the server dropped it."""
        reused = self._conn is not None
        try:
            return await self._fetch_once(now)
        except _ConnectionLost:
            if not reused:
                raise
            log.info("radacct connection lost, reconnecting %s", self._where)
            return await self._fetch_once(now)

    async def _fetch_once(self, now: float | None) -> list[tuple[Any, ...]]:
        """Run the count query; discard the connection when it broke or went silent."""
        conn = await self._connection()
        try:
            async with asyncio.timeout(self._timeout + _CLIENT_SLACK_SECONDS):
                return await self._select(conn, now)
        except TimeoutError:
            await self.close()
            raise SessionSourceError(
                f"radacct query got no answer within {self._timeout:g}s ({self._where})"
            ) from None
        except psycopg.Error as exc:
            what = f"radacct query on table {self._table_name} failed"
            if conn.broken or conn.closed:
                await self.close()
                raise self._error(what, exc, _ConnectionLost) from self._safe_cause(exc)
            raise self._error(what, exc) from self._safe_cause(exc)

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        """The open connection, or a new read-only one within the timeout."""
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return self._conn
        await self.close()
        try:
            async with asyncio.timeout(self._timeout + _CLIENT_SLACK_SECONDS):
                conn = await psycopg.AsyncConnection.connect(
                    self._dsn.reveal(),
                    connect_timeout=max(2, math.ceil(self._timeout)),
                    fallback_application_name="wifimon",
                )
        except TimeoutError:
            raise SessionSourceError(
                f"cannot connect to radacct database ({self._where}):"
                f" no answer within {self._timeout:g}s"
            ) from None
        except psycopg.Error as exc:
            what = "cannot connect to radacct database"
            raise self._error(what, exc) from self._safe_cause(exc)
        await conn.set_read_only(True)
        self._conn = conn
        log.info("radacct connected %s table=%s", self._where, self._table_name)
        return conn

    async def _select(
        self, conn: psycopg.AsyncConnection[Any], now: float | None
    ) -> list[tuple[Any, ...]]:
        """One read-only transaction: the statement timeout, the columns, the counts."""
        timeout_ms = str(max(1, round(self._timeout * 1000)))
        async with conn.transaction(), conn.cursor() as cur:
            await cur.execute("SELECT set_config('statement_timeout', %s, true)", (timeout_ms,))
            columns = self._columns or await self._read_columns(cur, conn)
            self._columns = columns
            await cur.execute(
                _count_query(self._table, columns), {"now": now, "stale": self._stale}
            )
            return await cur.fetchall()

    async def _read_columns(
        self, cur: psycopg.AsyncCursor[Any], conn: psycopg.AsyncConnection[Any]
    ) -> _Columns:
        """Which columns the table has: NAS-Identifier and update time are optional."""
        await cur.execute(_COLUMNS_QUERY, (self._table.as_string(conn),))
        types = {str(name): bool(is_inet) for name, is_inet in await cur.fetchall()}
        missing = [c for c in _REQUIRED_COLUMNS if c not in types]
        if missing:
            raise SessionSourceError(
                f"radacct table {self._table_name} has no column {', '.join(missing)}"
                f" ({self._where}): is it a FreeRADIUS radacct table?"
            )
        return _Columns(
            nasidentifier="nasidentifier" in types,
            calledstationid="calledstationid" in types,
            acctupdatetime="acctupdatetime" in types,
            nasipaddress_is_inet=types["nasipaddress"],
        )

    def _tally(self, rows: list[tuple[Any, ...]]) -> dict[str, int]:
        """Add each NAS group's sessions to the titik that claims it; count the rest apart."""
        result: dict[str, int] = {}
        unresolved = 0
        for identifier, ip, called, count in rows:
            identity = NasIdentity(identifier=identifier, ip=ip, called_station_id=called)
            titik = self._resolve(identity)
            if titik is None:
                unresolved += int(count)
                self._report_unknown(identity, int(count))
            else:
                result[titik] = result.get(titik, 0) + int(count)
        self.unresolved = unresolved
        log.debug(
            "radacct counted titik=%d sessions=%d unresolved=%d",
            len(result),
            sum(result.values()),
            unresolved,
        )
        return result

    def _report_unknown(self, identity: NasIdentity, count: int) -> None:
        """Log a NAS no titik claims, once per NAS, so the inventory can be fixed."""
        if identity in self._reported:
            return
        self._reported.add(identity)
        log.warning(
            "radacct sessions from a nas no titik claims nas_identifier=%s nas_ip=%s"
            " called_station_id=%s sessions=%d",
            identity.identifier,
            identity.ip,
            identity.called_station_id,
            count,
        )

    def _error(
        self,
        what: str,
        exc: psycopg.Error,
        kind: type[SessionSourceError] = SessionSourceError,
    ) -> SessionSourceError:
        """An error naming the server and PostgreSQL's reason, never the DSN."""
        detail = " ".join(str(exc).split())
        for secret in self._secrets:
            detail = detail.replace(secret.reveal(), "<secret>")
        return kind(f"{what} ({self._where}): {detail}")

    def _safe_cause(self, exc: BaseException) -> BaseException | None:
        """The cause to chain, or None when any text in its chain holds a secret."""
        seen: BaseException | None = exc
        while seen is not None:
            if any(secret.reveal() in str(seen) for secret in self._secrets):
                return None
            seen = seen.__cause__ or seen.__context__
        return exc
