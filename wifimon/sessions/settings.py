"""The `sessions:` config section: where wifimon learns of logged-in portal sessions."""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel, ConfigDict, Field, field_validator

from wifimon.inventory import parse_address

DEFAULT_RADIUS_LISTEN = "0.0.0.0:1813"
DEFAULT_INTERIM_SECONDS = 300.0  # a NAS that sends no Acct-Interim-Interval
DEFAULT_RETENTION_DAYS = 7.0
DEFAULT_REFRESH_SECONDS = 15.0  # RADIUS counts reach the state (and the rules) this often
DEFAULT_RADACCT_INTERVAL_SECONDS = 60.0
DEFAULT_RADACCT_STALE_SECONDS = 900.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RadiusNas(_Strict):
    """A NAS allowed to send accounting: its source address and the name of its secret."""

    address: str
    secret: str = Field(min_length=1)

    @field_validator("address")
    @classmethod
    def _an_address(cls, value: str) -> str:
        return str(ipaddress.ip_address(value))


class RadiusSettings(_Strict):
    """wifimon as an additional RADIUS accounting server."""

    listen: str = DEFAULT_RADIUS_LISTEN
    nas: list[RadiusNas] = Field(min_length=1)

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        parse_address(value, default_port=1813)
        return value

    @property
    def host_port(self) -> tuple[str, int]:
        return parse_address(self.listen, default_port=1813)


class RadacctSettings(_Strict):
    """A FreeRADIUS radacct table (PostgreSQL) read for open sessions."""

    dsn: str = Field(min_length=1)  # the name of a secret holding the connection string
    table: str = Field(default="radacct", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    interval_seconds: float = Field(default=DEFAULT_RADACCT_INTERVAL_SECONDS, ge=5)
    stale_after_seconds: float = Field(default=DEFAULT_RADACCT_STALE_SECONDS, gt=0)


class SessionSettings(_Strict):
    """Session sources; titik say in the inventory which NAS or gateway is theirs."""

    radius: RadiusSettings | None = None
    radacct: RadacctSettings | None = None
    default_interim_seconds: float = Field(default=DEFAULT_INTERIM_SECONDS, gt=0)
    refresh_seconds: float = Field(default=DEFAULT_REFRESH_SECONDS, gt=0, le=300)
    retention_days: float = Field(default=DEFAULT_RETENTION_DAYS, gt=0, le=366)

    def secret_names(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(config path, secret name) of every secret this section names."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        if self.radius is not None:
            for n, nas in enumerate(self.radius.nas):
                found.append((("sessions", "radius", "nas", n, "secret"), nas.secret))
        if self.radacct is not None:
            found.append((("sessions", "radacct", "dsn"), self.radacct.dsn))
        return found
