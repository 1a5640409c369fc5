"""Polls one access point: SNMP I/O in, a plain `ApSample` out (decoding is in snmp.decode)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping

from wifimon.errors import SnmpError
from wifimon.measurements import ApSample, PollIssue
from wifimon.snmp import decode
from wifimon.snmp.client import SnmpClient
from wifimon.snmp.profiles import SYSTEM_OIDS, Profile, ProfileSet
from wifimon.snmp.types import SnmpTarget, SnmpValue, VarBind

log = logging.getLogger(__name__)


async def detect_profile(
    client: SnmpClient,
    target: SnmpTarget,
    profiles: ProfileSet,
    system: Mapping[str, SnmpValue],
) -> Profile:
    """The highest-priority profile whose sysObjectID/sysDescr/required-subtree tests pass."""
    _, descr, object_id = decode.system_info(system)
    for profile in profiles.by_priority():
        if not _matches_system(profile, descr, object_id):
            continue
        if await _has_required_subtrees(client, target, profile):
            return profile
    return profiles.get("generic")


def _matches_system(profile: Profile, descr: str | None, object_id: str | None) -> bool:
    """sysObjectID prefix and sysDescr regex tests (each only when the profile gives one)."""
    rules = profile.detect
    if rules.sys_object_id and not (
        object_id and any(object_id.startswith(p.rstrip(".")) for p in rules.sys_object_id)
    ):
        return False
    if rules.sys_descr and not (descr and any(re.search(p, descr) for p in rules.sys_descr)):
        return False
    return bool(rules.sys_object_id or rules.sys_descr or rules.requires) or profile.priority == 0


async def _has_required_subtrees(client: SnmpClient, target: SnmpTarget, profile: Profile) -> bool:
    """True when every subtree the profile requires has at least one object."""
    for root in profile.detect.requires:
        try:
            if not await client.bulk_walk(target, root, max_rows=1):
                return False
        except SnmpError:
            return False
    return True


async def poll_ap(
    client: SnmpClient,
    target: SnmpTarget,
    ap_id: str,
    profiles: ProfileSet,
    profile_name: str,
    known_profile: str | None = None,
    uplink: str | None = None,
) -> ApSample:
    """One poll: system GET, profile detection if `auto`, scalars, then table walks.

    A failure after the first answer keeps what was read and records the issue.
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
    profile = await _choose_profile(client, target, profiles, profile_name, known_profile, system)
    sample.profile = profile.name
    scalars = await _read_scalars(client, target, profile, system, sample)
    walks = await _read_walks(client, target, profile, sample)
    _decode_into(sample, profile, scalars, walks, uplink)
    sample.duration_seconds = time.monotonic() - started
    return sample


async def _choose_profile(
    client: SnmpClient,
    target: SnmpTarget,
    profiles: ProfileSet,
    profile_name: str,
    known_profile: str | None,
    system: Mapping[str, SnmpValue],
) -> Profile:
    """The configured profile, the one detected before, or a fresh detection."""
    if profile_name != "auto":
        return profiles.get(profile_name)
    if known_profile is not None and known_profile in profiles.profiles:
        return profiles.get(known_profile)
    return await detect_profile(client, target, profiles, system)


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
    client: SnmpClient, target: SnmpTarget, profile: Profile, sample: ApSample
) -> dict[str, list[VarBind]]:
    """Every table the profile needs, in two walks (interfaces, vendor tables) so that a
    failing vendor table does not lose the interfaces."""
    walks: dict[str, list[VarBind]] = {}
    for group in decode.walk_groups(profile):
        try:
            walks.update(await client.walk_many(target, group))
        except SnmpError as exc:
            sample.issues.append(PollIssue(exc.reason, f"walk {group[0]}...: {exc}"))
            if exc.reason in ("timeout", "auth"):
                break  # the agent has gone away or refuses us; do not wait per table
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
    sample.cpu_percent = decode.cpu_percent(profile, scalars, walks)
    sample.memory_percent = decode.memory_percent(profile, scalars)
