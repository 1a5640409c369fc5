"""Polls one access point: SNMP I/O in, a plain `ApSample` out (decoding is in snmp.decode)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from wifimon.errors import SnmpError
from wifimon.measurements import AddressPool, ApSample, Detection, PollIssue
from wifimon.snmp import decode, detect
from wifimon.snmp.client import SnmpClient
from wifimon.snmp.profiles import SYSTEM_OIDS, Profile, ProfileSet
from wifimon.snmp.types import SnmpTarget, SnmpValue, VarBind
from wifimon.snmp.validate import validate
from wifimon.snmp.walk import DEFAULT_MAX_ROWS

log = logging.getLogger(__name__)
T = TypeVar("T")


async def poll_ap(
    client: SnmpClient,
    target: SnmpTarget,
    ap_id: str,
    profiles: ProfileSet,
    profile_name: str,
    known_profile: str | None = None,
    uplink: str | None = None,
    address_pools: Sequence[AddressPool] = (),
) -> ApSample:
    """One poll: system GET, profile detection if `auto`, scalars, then table walks.

    A failure after the first answer keeps what was read and records the issue.
    `address_pools`: a hotspot gateway's titik pools, to count its sessions by.
    """
    started = time.monotonic()
    sample = ApSample(ap_id=ap_id, timestamp=time.time(), reachable=False)
    try:
        system = dict(await client.get(target, list(SYSTEM_OIDS)))
    except SnmpError as exc:
        sample.issues.append(PollIssue(exc.reason, str(exc)))
        sample.duration_seconds = time.monotonic() - started
        return sample
    sample.reachable = True
    sample.sys_name, sample.sys_descr, sample.sys_object_id = decode.system_info(system)
    sample.detection = await _choose_profile(
        client, target, profiles, profile_name, known_profile, system
    )
    profile = profiles.get(sample.detection.profile)
    sample.profile = profile.name
    scalars = await _read_scalars(client, target, profile, system, sample)
    walks = await _read_walks(client, target, profile, sample, bool(address_pools))
    _decode_into(sample, profile, scalars, walks, uplink)
    if address_pools:
        _decode_pools(sample, profile, walks, address_pools)
    validate(sample, profile)
    sample.duration_seconds = time.monotonic() - started
    return sample


async def _choose_profile(
    client: SnmpClient,
    target: SnmpTarget,
    profiles: ProfileSet,
    profile_name: str,
    known_profile: str | None,
    system: Mapping[str, SnmpValue],
) -> Detection:
    """The configured profile, the one detected before, or a fresh detection."""
    if profile_name != "auto":
        return Detection(profiles.get(profile_name).name, "configured")
    if known_profile is not None and known_profile in profiles.profiles:
        return Detection(known_profile, "detected at an earlier poll")
    return await detect.detect(client, target, profiles, system)


async def _read_scalars(
    client: SnmpClient,
    target: SnmpTarget,
    profile: Profile,
    system: Mapping[str, SnmpValue],
    sample: ApSample,
) -> dict[str, SnmpValue]:
    """System values plus the profile's scalars (one GET)."""
    scalars = dict(system)
    wanted = [oid for oid in profile.scalar_oids() if oid not in scalars]
    if not wanted:
        return scalars
    try:
        scalars.update(await client.get(target, wanted))
    except SnmpError as exc:
        sample.issues.append(PollIssue(exc.reason, f"scalars: {exc}"))
    return scalars


async def _read_walks(
    client: SnmpClient,
    target: SnmpTarget,
    profile: Profile,
    sample: ApSample,
    session_addresses: bool = False,
) -> dict[str, list[VarBind]]:
    """Every table the profile needs, in two walks (interfaces, vendor tables) so that a
    failing vendor table does not lose the interfaces."""
    walks: dict[str, list[VarBind]] = {}
    for group in decode.walk_groups(profile, session_addresses):
        try:
            walks.update(await client.walk_many(target, group))
        except SnmpError as exc:
            # Nothing of a group that failed mid-walk is kept: a part of a table would
            # give a partial sum, and a count must be whole or unknown.
            sample.issues.append(PollIssue(exc.reason, f"walk {group[0]}...: {exc}"))
            if exc.reason in ("timeout", "auth"):
                break  # the agent has gone away or refuses us; do not wait per table
    for root, rows in list(walks.items()):
        if len(rows) >= DEFAULT_MAX_ROWS:
            del walks[root]
            detail = f"walk {root}: over {DEFAULT_MAX_ROWS} rows"
            sample.issues.append(PollIssue("truncated", detail))
    return walks


def _decode_into(
    sample: ApSample,
    profile: Profile,
    scalars: Mapping[str, SnmpValue],
    walks: Mapping[str, list[VarBind]],
    uplink: str | None,
) -> None:
    """Fill the sample from raw values (pure decoding)."""
    sample.uptime_seconds = decode.uptime_seconds(profile, scalars)
    if sample.uptime_seconds is None and profile.uptime:
        sample.issues.append(PollIssue("noSuchObject", "no uptime"))
    sample.interfaces = decode.interfaces(profile, walks, uplink)
    if_names = {i.index: i.name for i in sample.interfaces}
    sample.clients = decode.clients(profile, scalars, walks, if_names)
    if sample.clients.issue is not None and sample.clients.issue.reason != "unsupported":
        sample.issues.append(sample.clients.issue)
    if profile.sessions is not None:
        sessions = profile.sessions
        sample.sessions = _part(sample, "sessions",
                                lambda: decode.sessions(sessions, scalars, walks))  # fmt: skip
    if profile.managed_aps is not None:
        spec = profile.managed_aps
        sample.managed_aps = _part(
            sample, "per-AP clients", lambda: decode.managed_aps(spec, walks)
        )
    sample.cpu_percent = decode.cpu_percent(profile, scalars, walks)
    sample.memory_percent = decode.memory_percent(profile, scalars)


def _part(sample: ApSample, what: str, read: Callable[[], T]) -> T | None:
    """One decoded part; a value that cannot mean it leaves that part unknown, with why."""
    try:
        return read()
    except decode.DecodeError as exc:
        sample.issues.append(PollIssue(exc.reason, f"{what}: {exc}"))
        return None


def _decode_pools(
    sample: ApSample,
    profile: Profile,
    walks: Mapping[str, list[VarBind]],
    pools: Sequence[AddressPool],
) -> None:
    """Sessions per address pool; a profile that cannot tell addresses is an issue."""
    if profile.session_addresses is None:
        detail = f"profile {profile.name} reads no session addresses: address pools unknown"
        sample.issues.append(PollIssue("unsupported", detail))
        return
    sample.sessions_by_pool = decode.sessions_by_pool(profile, walks, pools)
