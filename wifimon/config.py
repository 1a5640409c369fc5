"""Strict configuration: models, defaults in one place, secrets, cross-checks; `load()`."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from jinja2 import TemplateError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from wifimon.alerts.recipients import DirectoryContact
from wifimon.alerts.rules import RuleSet, load_rules
from wifimon.api_auth import ApiSettings
from wifimon.errors import ConfigError
from wifimon.history.settings import HistorySettings, ReportSettings
from wifimon.inventory import Inventory
from wifimon.inventory_io import FieldLocator, read_inventory_files
from wifimon.notify.messages import Renderer
from wifimon.notify.settings import NotificationSettings, build_secret_names
from wifimon.probes.http import (
    DEFAULT_DURATION_SECONDS,
    DEFAULT_MAX_BYTES,
    DEFAULT_STREAMS,
    DEFAULT_WARMUP_SECONDS,
    ThroughputSettings,
)
from wifimon.probes.iperf3 import DEFAULT_BUSY_DELAY_SECONDS, DEFAULT_BUSY_RETRIES
from wifimon.secrets import Secret
from wifimon.sessions.gateways import check_pools
from wifimon.sessions.mapping import nas_map
from wifimon.sessions.settings import SessionSettings
from wifimon.snmp.profiles import ProfileSet, load_profiles
from wifimon.snmp.types import AUTH_PROTOCOLS, PRIV_PROTOCOLS, CommunityAuth, UsmAuth
from wifimon.textfile import read_operator_text
from wifimon.yamlsource import SourceMap, format_path, load_yaml, validation_error

DEFAULT_LISTEN = "127.0.0.1:9817"
DEFAULT_DATA_DIR = "data"
DEFAULT_INTERVAL_SECONDS = 60.0
DEFAULT_TIMEOUT_SECONDS = 2.0
DEFAULT_RETRIES = 1
DEFAULT_CONCURRENCY = 256
DEFAULT_BACKOFF_MAX_SECONDS = 900.0
DEFAULT_DOWN_AFTER_FAILURES = 2
MIN_INTERVAL_SECONDS = 1.0
DEFAULT_ICMP_INTERVAL_SECONDS = 60.0
DEFAULT_ICMP_COUNT = 10
DEFAULT_ICMP_SPACING_SECONDS = 0.2
DEFAULT_ICMP_TIMEOUT_SECONDS = 1.0
DEFAULT_TCP_FALLBACK_PORT = 80
DEFAULT_THROUGHPUT_INTERVAL_SECONDS = 900.0
DEFAULT_THROUGHPUT_CONCURRENCY = 4
MIN_THROUGHPUT_INTERVAL_SECONDS = 10.0
WEAK_AUTH = {"MD5", "SHA"}
WEAK_PRIV = {"DES", "3DES"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DaemonSettings(_Strict):
    """Where the daemon listens and keeps its files."""

    listen: str = DEFAULT_LISTEN
    data_dir: str = DEFAULT_DATA_DIR
    # 0: render /metrics on every scrape. N: render the state part in the background every
    # N seconds and serve the latest (for fleets where rendering takes longer than a scrape
    # should; polls are a minute apart, so N up to ~15 loses nothing).
    metrics_refresh_seconds: float = Field(default=0.0, ge=0, le=300)
    # An inventory without titik is refused (a config saved empty would poll nothing);
    # true when that is meant, e.g. a fleet still being entered.
    allow_empty_inventory: bool = False

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{value!r} is not host:port")
        return value


class PollingSettings(_Strict):
    """How often and how hard to poll; one slow AP never holds up the others."""

    interval_seconds: float = Field(default=DEFAULT_INTERVAL_SECONDS, ge=MIN_INTERVAL_SECONDS)
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0, le=30)
    retries: int = Field(default=DEFAULT_RETRIES, ge=0, le=5)
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=10_000)
    backoff_max_seconds: float = Field(default=DEFAULT_BACKOFF_MAX_SECONDS, ge=0)
    down_after_failures: int = Field(default=DEFAULT_DOWN_AFTER_FAILURES, ge=1, le=10)
    client: Literal["fast", "pysnmp"] = "fast"


class IcmpProbeSettings(_Strict):
    """Reachability probes, every minute by default."""

    enabled: bool = True
    interval_seconds: float = Field(default=DEFAULT_ICMP_INTERVAL_SECONDS, ge=MIN_INTERVAL_SECONDS)
    count: int = Field(default=DEFAULT_ICMP_COUNT, ge=1, le=100)
    spacing_seconds: float = Field(default=DEFAULT_ICMP_SPACING_SECONDS, ge=0.01, le=10)
    timeout_seconds: float = Field(default=DEFAULT_ICMP_TIMEOUT_SECONDS, gt=0, le=10)
    tcp_fallback_port: int = Field(default=DEFAULT_TCP_FALLBACK_PORT, ge=1, le=65535)


class ThroughputProbeSettings(_Strict):
    """Throughput probes load the link they measure: rare, capped, never two per titik."""

    enabled: bool = True
    interval_seconds: float = Field(
        default=DEFAULT_THROUGHPUT_INTERVAL_SECONDS, ge=MIN_THROUGHPUT_INTERVAL_SECONDS
    )
    max_concurrent: int = Field(default=DEFAULT_THROUGHPUT_CONCURRENCY, ge=1, le=100)
    streams: int = Field(default=DEFAULT_STREAMS, ge=1, le=32)
    warmup_seconds: float = Field(default=DEFAULT_WARMUP_SECONDS, ge=0, le=30)
    duration_seconds: float = Field(default=DEFAULT_DURATION_SECONDS, ge=1, le=120)
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1_000_000)
    upload: bool = False
    busy_retries: int = Field(default=DEFAULT_BUSY_RETRIES, ge=0, le=10)
    busy_retry_delay_seconds: float = Field(default=DEFAULT_BUSY_DELAY_SECONDS, ge=0, le=300)

    def settings(self) -> ThroughputSettings:
        """The probe-level settings these config values stand for."""
        return ThroughputSettings(
            streams=self.streams,
            warmup_seconds=self.warmup_seconds,
            duration_seconds=self.duration_seconds,
            max_bytes=self.max_bytes,
            upload=self.upload,
        )


class ProbeSettings(_Strict):
    icmp: IcmpProbeSettings = IcmpProbeSettings()
    throughput: ThroughputProbeSettings = ThroughputProbeSettings()


class EnvSecret(_Strict):
    env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class FileSecret(_Strict):
    file: str = Field(min_length=1)


class CommunityCredentials(_Strict):
    """SNMPv1/v2c: the community is the name of a secret."""

    version: Literal["1", "2c"]
    community: str


class UsmCredentials(_Strict):
    """SNMPv3 USM; protocols must be named, weak ones need `allow_weak_crypto`."""

    version: Literal["3"]
    user: str = Field(min_length=1)
    auth_protocol: Literal["SHA", "SHA224", "SHA256", "SHA384", "SHA512", "MD5"] | None = None
    auth_key: str | None = None
    priv_protocol: Literal["AES", "AES192", "AES256", "DES", "3DES"] | None = None
    priv_key: str | None = None
    context: str = ""
    allow_weak_crypto: bool = False

    @model_validator(mode="after")
    def _consistent_security(self) -> UsmCredentials:
        if (self.auth_protocol is None) != (self.auth_key is None):
            raise ValueError("auth_protocol and auth_key go together")
        if (self.priv_protocol is None) != (self.priv_key is None):
            raise ValueError("priv_protocol and priv_key go together")
        if self.priv_protocol and not self.auth_protocol:
            raise ValueError("privacy needs authentication (authPriv)")
        weak = (self.auth_protocol in WEAK_AUTH) or (self.priv_protocol in WEAK_PRIV)
        if weak and not self.allow_weak_crypto:
            raise ValueError(
                "MD5, SHA-1, DES and 3DES are refused; use SHA256+ and AES, "
                "or set allow_weak_crypto: true for old devices"
            )
        return self


Credentials = Annotated[CommunityCredentials | UsmCredentials, Field(discriminator="version")]


class ConfigModel(_Strict):
    """The whole config file."""

    daemon: DaemonSettings = DaemonSettings()
    polling: PollingSettings = PollingSettings()
    probes: ProbeSettings = ProbeSettings()
    secrets: dict[str, EnvSecret | FileSecret] = Field(default_factory=dict)
    snmp_credentials: dict[str, Credentials] = Field(default_factory=dict)
    profiles_dirs: list[str] = Field(default_factory=list)
    inventory: list[str] = Field(default_factory=list)
    rules: str | None = None
    contacts: list[DirectoryContact] = Field(default_factory=list)
    notifications: NotificationSettings = NotificationSettings()
    history: HistorySettings = HistorySettings()
    reports: ReportSettings = ReportSettings()
    api: ApiSettings = ApiSettings()
    sessions: SessionSettings = SessionSettings()

    @field_validator("inventory", "profiles_dirs", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("snmp_credentials", mode="before")
    @classmethod
    def _version_as_text(cls, value: object) -> object:
        if isinstance(value, dict):
            for creds in value.values():
                if isinstance(creds, dict) and isinstance(creds.get("version"), int | float):
                    creds["version"] = str(creds["version"])
        return value


@dataclass(frozen=True)
class Config:
    """A validated config with resolved secrets, inventory and profiles."""

    path: Path
    model: ConfigModel
    inventory: Inventory
    profiles: ProfileSet
    credentials: dict[str, CommunityAuth | UsmAuth]
    versions: dict[str, Literal["1", "2c", "3"]]
    rules: RuleSet | None = None
    secrets: dict[str, Secret] = dataclasses.field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return (self.path.parent / self.model.daemon.data_dir).resolve()


def load(path: Path | str, environ: dict[str, str] | None = None) -> Config:
    """Read, validate and cross-check a config file and its inventory; raise ConfigError."""
    path = Path(path)
    env = dict(os.environ if environ is None else environ)
    data, source = _read(path)
    try:
        model = ConfigModel.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, source) from exc
    profiles = load_profiles([_relative(path, d) for d in model.profiles_dirs])
    secrets = _resolve_secrets(model, source, path, env)
    credentials, versions = _build_credentials(model, source, secrets)
    inventory, locations = read_inventory_files([_relative(path, p) for p in model.inventory])
    check_inventory_refs(inventory, locations, credentials, profiles)
    rules = load_rules(_relative(path, model.rules)) if model.rules else None
    _check_notifications(model, source, secrets, inventory, rules, path)
    _check_sessions(model, source, secrets, inventory)
    _check_not_empty(model, source, inventory)
    return Config(path, model, inventory, profiles, credentials, versions, rules, secrets)


def _check_not_empty(model: ConfigModel, source: SourceMap, inventory: Inventory) -> None:
    """A config that names no titik is refused unless it says so: a file saved empty by
    mistake must not make a reload drop the whole fleet."""
    if inventory.hotspots or inventory.controllers or model.daemon.allow_empty_inventory:
        return
    where = source.where(("inventory",)) if ("inventory",) in source.lines else source.filename
    raise ConfigError(f"{where}: inventory: no titik (no hotspots and "
                      "no controllers), so wifimon would poll nothing; list them in the "
                      "inventory file(s), or set daemon.allow_empty_inventory: true")  # fmt: skip


def _check_sessions(
    model: ConfigModel, source: SourceMap, secrets: dict[str, Secret], inventory: Inventory
) -> None:
    """Session secrets exist; no NAS name is claimed by two titik; gateways are devices."""
    for where, ref in model.sessions.secret_names():
        if ref not in secrets:
            raise ConfigError(
                f"{source.where(where)}: {format_path(where)}: undefined secret {ref!r}"
            )
    nas_map(inventory)
    check_pools(inventory)
    devices = {ap.id for _, ap in inventory.access_points() if not ap.managed}
    devices |= {c.id for c in inventory.controllers}
    for hotspot in inventory.hotspots:
        gateway = hotspot.sessions.gateway if hotspot.sessions else None
        if gateway is not None and gateway not in devices:
            raise ConfigError(f"hotspot {hotspot.id!r}: sessions.gateway {gateway!r} "
                              "is no polled access point or controller")  # fmt: skip


def _check_notifications(
    model: ConfigModel,
    source: SourceMap,
    secrets: dict[str, Secret],
    inventory: Inventory,
    rules: RuleSet | None,
    path: Path,
) -> None:
    """Secrets of channels exist; channels named by routes and contacts exist; templates
    render."""
    settings = model.notifications
    for name, field, ref in build_secret_names(settings):
        if ref not in secrets:
            where = source.where(("notifications", "channels", name, field))
            raise ConfigError(f"{where}: notifications.channels.{name}.{field}: "
                              f"unknown secret {ref!r}")  # fmt: skip
    known = set(settings.channels)
    listed = ", ".join(sorted(known)) or "none"

    def check(names: Iterable[str] | None, where: str) -> None:
        for name in names or ():
            if name not in known:
                raise ConfigError(f"{where}: unknown notification channel {name!r} "
                                  f"(notifications.channels has: {listed})")  # fmt: skip

    for index, own in enumerate(model.contacts):
        check(own.channels, f"{source.where(('contacts', index, 'channels'))}: "
                            f"contacts[{index}] ({own.name})")  # fmt: skip
    for hotspot in inventory.hotspots:
        for contact in hotspot.contacts:
            check(contact.channels, f"inventory: hotspot {hotspot.id}: contact {contact.name}")
    if rules is not None:
        for route_channels in rules.routing.channel_names():
            check(route_channels, f"{rules.path}: routing")
    if settings.templates_dir:
        try:
            Renderer(_relative(path, settings.templates_dir)).check()
        except (TemplateError, OSError) as exc:
            where = source.where(("notifications", "templates_dir"))
            raise ConfigError(f"{where}: notifications.templates_dir: {exc}") from exc


def _read(path: Path) -> tuple[Any, SourceMap]:
    """The config's sections with their lines; an empty file is refused, not defaulted."""
    data, source = load_yaml(read_operator_text(path), str(path))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the config must be a mapping of sections")
    if not data:
        raise ConfigError(f"{path}: the config is empty; it needs at least `inventory:` "
                          "naming the inventory file(s)")  # fmt: skip
    return data, source


def _relative(config_path: Path, other: str) -> Path:
    candidate = Path(other)
    return candidate if candidate.is_absolute() else config_path.parent / candidate


def _resolve_secrets(
    model: ConfigModel, source: SourceMap, path: Path, env: dict[str, str]
) -> dict[str, Secret]:
    """Read every secret now, so a missing one stops start-up rather than a poll."""
    resolved: dict[str, Secret] = {}
    for name, spec in model.secrets.items():
        where = f"{source.where(('secrets', name))}: secrets.{name}"
        if isinstance(spec, EnvSecret):
            if spec.env not in env:
                raise ConfigError(f"{where}: environment variable {spec.env} is not set")
            resolved[name] = Secret(env[spec.env])
        else:
            file_path = _relative(path, spec.file)
            try:
                resolved[name] = Secret(read_operator_text(file_path, secret=True).strip())
            except ConfigError as exc:
                raise ConfigError(f"{where}: {exc}") from exc
        if not resolved[name].reveal():
            raise ConfigError(f"{where}: the secret is empty")
    return resolved


def _build_credentials(
    model: ConfigModel, source: SourceMap, secrets: dict[str, Secret]
) -> tuple[dict[str, CommunityAuth | UsmAuth], dict[str, Literal["1", "2c", "3"]]]:
    """Credential sets with their secrets looked up by name."""
    built: dict[str, CommunityAuth | UsmAuth] = {}
    versions: dict[str, Literal["1", "2c", "3"]] = {}

    def secret(name: str, field: str, ref: str | None) -> Secret | None:
        if ref is None:
            return None
        if ref not in secrets:
            path = ("snmp_credentials", name, field)
            raise ConfigError(
                f"{source.where(path)}: {format_path(path)}: undefined secret {ref!r}"
            )
        return secrets[ref]

    for name, creds in model.snmp_credentials.items():
        versions[name] = creds.version
        if isinstance(creds, CommunityCredentials):
            community = secret(name, "community", creds.community)
            assert community is not None
            built[name] = CommunityAuth(community)
        else:
            built[name] = UsmAuth(
                user=creds.user,
                auth_protocol=creds.auth_protocol,
                auth_key=secret(name, "auth_key", creds.auth_key),
                priv_protocol=creds.priv_protocol,
                priv_key=secret(name, "priv_key", creds.priv_key),
                context=creds.context,
            )
    return built, versions


def check_inventory_refs(
    inventory: Inventory,
    locations: dict[str, FieldLocator],
    credentials: dict[str, CommunityAuth | UsmAuth],
    profiles: ProfileSet,
) -> None:
    """Every AP and controller names credentials and a profile that exist; every managed AP
    names a controller that exists."""
    controllers = {c.id for c in inventory.controllers}
    for _, ap in inventory.access_points():
        where = locations[ap.id]
        if ap.controller is not None and ap.controller not in controllers:
            raise ConfigError(f"{where('controller')}: undefined controller {ap.controller!r}")
        if ap.credentials is not None:
            _check_device_refs(where, ap.credentials, ap.profile, credentials, profiles)
    for controller in inventory.controllers:
        at = _controller_locator(controller.id)
        _check_device_refs(at, controller.credentials, controller.profile, credentials, profiles)


def _controller_locator(controller_id: str) -> FieldLocator:
    """Where a controller's field is, by its id (ids are unique across inventory files)."""
    return lambda field: f"controller {controller_id!r}: {field}"


def _check_device_refs(
    where: FieldLocator,
    credential: str,
    profile: str,
    credentials: dict[str, CommunityAuth | UsmAuth],
    profiles: ProfileSet,
) -> None:
    """The named credentials exist, and the profile is `auto` or a known one."""
    if credential not in credentials:
        raise ConfigError(f"{where('credentials')}: undefined snmp_credentials {credential!r}")
    if profile != "auto" and profile not in profiles.profiles:
        known = ", ".join(["auto", *profiles.names()])
        raise ConfigError(f"{where('profile')}: unknown profile {profile!r} (known: {known})")


__all__ = ["AUTH_PROTOCOLS", "PRIV_PROTOCOLS", "Config", "ConfigModel", "load"]
