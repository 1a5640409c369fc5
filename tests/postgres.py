"""A real PostgreSQL for tests: Debian's server started as `nobody`, which it requires.

Use it from any test module by importing the fixture name::

    from tests.postgres import PostgresServer, postgres  # noqa: F401

The server lives for the whole pytest session; give each test its own database with
`postgres.create_database()` so tests never see each other's rows.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "wifimon"
RUN_AS = "nobody"
RUN_AS_GROUP = "nogroup"
START_SECONDS = 15.0
COMMAND_SECONDS = 60.0


@dataclass
class PostgresServer:
    """Where the test server listens, and small helpers to set up databases on it."""

    host: str
    port: int
    user: str
    dbname: str
    socket_dir: Path
    log_path: Path
    _names: Iterator[int] = field(default_factory=itertools.count, repr=False)

    @property
    def dsn(self) -> str:
        """Connection string of the superuser to the default database (trust, no password)."""
        return self.dsn_for()

    def dsn_for(
        self, dbname: str | None = None, user: str | None = None, password: str | None = None
    ) -> str:
        """Connection string for another database or role on this server."""
        return make_conninfo(
            host=self.host,
            port=self.port,
            user=user or self.user,
            dbname=dbname or self.dbname,
            password=password,
        )

    def execute(
        self,
        statement: str | bytes | sql.SQL | sql.Composed,
        params: Sequence[Any] | Mapping[str, Any] | None = None,
        *,
        dbname: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """Run one statement as the superuser (autocommit) and return its rows, if any."""
        with psycopg.connect(self.dsn_for(dbname), autocommit=True, connect_timeout=5) as conn:
            cur = conn.execute(statement, params)
            return cur.fetchall() if cur.description is not None else []

    def run_script(self, path: Path, *, dbname: str) -> None:
        """Run a file of SQL statements (no parameters) in one database."""
        with psycopg.connect(self.dsn_for(dbname), autocommit=True, connect_timeout=5) as conn:
            conn.execute(path.read_text(encoding="utf-8").encode())

    def create_database(self, prefix: str = "test") -> str:
        """Make a fresh empty database and return its name."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        self.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name


def _skip_reason() -> str | None:
    """Why this machine cannot start a test PostgreSQL, or None when it can."""
    if os.geteuid() != 0:
        return "the PostgreSQL test server is started as 'nobody', which needs root"
    missing = [n for n in ("initdb", "pg_ctl", "postgres") if not (PG_BIN / n).is_file()]
    if missing:
        return f"PostgreSQL 15 binaries missing in {PG_BIN} (apt-get install postgresql)"
    if _drop_privileges() is None:
        return "neither setpriv nor runuser is installed to run PostgreSQL as 'nobody'"
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        return f"no '{RUN_AS}' user to run PostgreSQL as"
    return None


def _drop_privileges() -> list[str] | None:
    """The command prefix that runs a program as nobody (the server refuses root)."""
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={RUN_AS}", f"--regid={RUN_AS_GROUP}", "--clear-groups"]
    if shutil.which("runuser"):
        return ["runuser", "-u", RUN_AS, "--"]
    return None


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run(args: list[str], base: Path, env: dict[str, str]) -> None:
    """Run a PostgreSQL tool as nobody; fail with its output when it fails."""
    prefix = _drop_privileges() or []
    done = subprocess.run(
        [*prefix, *args],
        cwd=base,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{Path(args[0]).name} failed ({done.returncode}): {done.stdout}{done.stderr}"
        )


def _make_base() -> Path:
    """A directory under /tmp that nobody owns (its parents are traversable by all)."""
    base = Path(tempfile.mkdtemp(prefix="wifimon-pg-", dir="/tmp"))
    base.chmod(0o755)
    user = pwd.getpwnam(RUN_AS)
    os.chown(base, user.pw_uid, user.pw_gid)
    return base


def _wait_ready(server: PostgresServer, deadline: float) -> None:
    """Return once the server answers a query; fail with its log after the deadline."""
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            server.execute("SELECT 1")
            return
        except psycopg.Error as exc:
            last = exc
            time.sleep(0.1)
    log = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
    raise RuntimeError(f"PostgreSQL did not answer within {START_SECONDS}s: {last}\n{log}")


def _start(base: Path, env: dict[str, str]) -> PostgresServer:
    """initdb and start a server on a free port; return where it listens."""
    data = base / "data"
    port = _free_port()
    server = PostgresServer("127.0.0.1", port, SUPERUSER, "postgres", base, base / "log")
    deadline = time.monotonic() + START_SECONDS
    _run(
        [
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "--locale=C",
            "--encoding=UTF8",
            "--no-sync",
        ],
        base,
        env,
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    _run(
        [
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(server.log_path),
            "-w",
            "-t",
            str(int(START_SECONDS)),
            "start",
        ],
        base,
        env,
    )
    _wait_ready(server, deadline)
    return server


def _stop(base: Path, env: dict[str, str]) -> None:
    """Stop the server fast; the data directory goes with the temporary directory."""
    if (base / "data" / "postmaster.pid").exists():
        _run(
            [str(PG_BIN / "pg_ctl"), "-D", str(base / "data"), "-m", "fast", "-w", "stop"],
            base,
            env,
        )


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 server on 127.0.0.1 for the whole test session (superuser: trust)."""
    reason = _skip_reason()
    if reason is not None:
        pytest.skip(reason)
    base = _make_base()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(base)}
    try:
        yield _start(base, env)
    finally:
        try:
            _stop(base, env)
        finally:
            shutil.rmtree(base, ignore_errors=True)
