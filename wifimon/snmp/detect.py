"""`auto` profile detection: rank every way a profile can recognise a device, probe once.

The order is fixed and explained in each result: ways that match the sysObjectID come
first, then ways that match the sysDescr, then ways that only probe a vendor table. Within
a stage the more specific way wins: a longer sysObjectID prefix, then more tests given,
then the profile's `priority`, then its name. Every probe the leading candidates need
goes out in one request, so detection costs at most one round trip beyond the system GET
that every poll makes anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wifimon.errors import SnmpError
from wifimon.measurements import Detection
from wifimon.snmp import decode
from wifimon.snmp.client import SnmpClient
from wifimon.snmp.profiles import GENERIC, DetectWay, Profile, ProfileSet
from wifimon.snmp.types import SnmpTarget, SnmpValue, in_subtree

STAGE_NAMES = ("sysObjectID", "sysDescr", "probe")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A profile way whose sysObjectID and sysDescr tests passed; probes may be pending."""

    profile: Profile
    way: DetectWay
    rank: tuple[int, int, int, int, str]
    because: tuple[str, ...]

    @property
    def probes(self) -> list[str]:
        return self.way.probe


def candidates(profiles: ProfileSet, descr: str | None, object_id: str | None) -> list[Candidate]:
    """Every way whose system tests pass, best first."""
    found = []
    for profile in profiles.detectable():
        for way in profile.detect:
            candidate = _match_way(profile, way, descr, object_id)
            if candidate is not None:
                found.append(candidate)
    return sorted(found, key=lambda c: c.rank)


def _match_way(
    profile: Profile, way: DetectWay, descr: str | None, object_id: str | None
) -> Candidate | None:
    """The candidate this way makes of the device, or None when a system test fails."""
    because: list[str] = []
    prefix_arcs = 0
    if way.sys_object_id:
        prefix = _longest_prefix(way.sys_object_id, object_id)
        if prefix is None:
            return None
        prefix_arcs = prefix.count(".") + 1
        where = "is listed" if prefix == object_id else f"is under {prefix}"
        because.append(f"sysObjectID {object_id} {where}")
    if way.sys_descr:
        pattern = next((p for p in way.sys_descr if descr and re.search(p, descr)), None)
        if pattern is None:
            return None
        because.append(f"sysDescr matches {pattern!r}")
    tests = sum(bool(t) for t in (way.sys_object_id, way.sys_descr, way.probe))
    rank = (way.stage, -prefix_arcs, -tests, -profile.priority, profile.name)
    return Candidate(profile, way, rank, tuple(because))


def _longest_prefix(prefixes: Iterable[str], object_id: str | None) -> str | None:
    """The longest given prefix that `object_id` equals or lies under."""
    if not object_id:
        return None
    matching = [p for p in prefixes if object_id == p or object_id.startswith(p + ".")]
    return max(matching, key=lambda p: p.count("."), default=None)


def probes_needed(ranked: list[Candidate]) -> list[str]:
    """Probe roots of the candidates ranked above the first one that needs no probe."""
    roots: list[str] = []
    for candidate in ranked:
        if not candidate.probes:
            break
        roots.extend(candidate.probes)
    return list(dict.fromkeys(roots))


def choose(ranked: list[Candidate], answered: set[str], profiles: ProfileSet) -> Detection:
    """The best candidate whose probes all answered, else the generic profile."""
    passed = [c for c in ranked if all(root in answered for root in c.probes)]
    if not passed:
        return Detection(GENERIC, "no profile's detect tests passed: generic fallback", ())
    best = passed[0]
    because = [*best.because, *(f"probe {root} answered" for root in best.probes)]
    stage = STAGE_NAMES[best.way.stage]
    # The first test is the stage's own: "sysObjectID: 1.3.6... is listed; probe ... answered"
    because[0] = because[0].removeprefix(stage + " ")
    others = tuple(dict.fromkeys(c.profile.name for c in passed[1:] if c.profile != best.profile))
    return Detection(best.profile.name, f"{stage}: " + "; ".join(because), others)


async def detect(
    client: SnmpClient,
    target: SnmpTarget,
    profiles: ProfileSet,
    system: Mapping[str, SnmpValue],
) -> Detection:
    """Detect the profile from the system values and at most one probe request."""
    _, descr, object_id = decode.system_info(system)
    ranked = candidates(profiles, descr, object_id)
    roots = probes_needed(ranked)
    answered = await probe(client, target, roots) if roots else set()
    return choose(ranked, answered, profiles)


async def probe(client: SnmpClient, target: SnmpTarget, roots: list[str]) -> set[str]:
    """The roots under which the agent has at least one object (one GETBULK/GETNEXT)."""
    try:
        walked = await client.walk_many(target, roots, max_rows=1)
    except SnmpError:
        return set()
    return {
        root
        for root in roots
        if any(in_subtree(oid, root) and not v.is_exception for oid, v in walked.get(root, ()))
    }
