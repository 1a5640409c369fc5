"""Profile detection: the ranking order, each tie-break, and the one-probe-request promise."""

from __future__ import annotations

import pytest

from wifimon.snmp import detect
from wifimon.snmp.fake import FakeSnmpClient
from wifimon.snmp.profiles import GENERIC, ProfileSet, load_profile
from wifimon.snmp.types import SnmpTarget, SnmpValue

TARGET = SnmpTarget("192.0.2.1")
LINUX = "1.3.6.1.4.1.8072.3.2.10"
UNIFI_TABLE = "1.3.6.1.4.1.41112.1.6"
EXTEND_TABLE = "1.3.6.1.4.1.8072.1.3.2"
# Two profiles that share the Net-SNMP Linux sysObjectID: a probe tells them apart.
UNIFI = f"name: unifi\nvendor: v\ndetect: {{sys_object_id: ['{LINUX}'], probe: ['{UNIFI_TABLE}']}}"
OPENWRT = (
    "name: openwrt\nvendor: v\n"
    f"detect: {{sys_object_id: ['1.3.6.1.4.1.8072.3.2'], probe: ['{EXTEND_TABLE}']}}"
)


def profiles(*docs: str) -> ProfileSet:
    """A profile set of the given YAML documents plus the generic fallback."""
    found = {GENERIC: load_profile("name: generic\nvendor: any\npriority: 0", "generic")}
    for n, doc in enumerate(docs):
        profile = load_profile(doc, f"doc{n}")
        found[profile.name] = profile
    return ProfileSet(found)


def ranked(ps: ProfileSet, descr: str | None, oid: str | None) -> list[str]:
    return [c.profile.name for c in detect.candidates(ps, descr, oid)]


def test_sys_object_id_outranks_sys_descr_outranks_probe() -> None:
    ps = profiles(
        "name: by-probe\nvendor: v\ndetect: [{probe: ['1.3.6.1.4.1.9.9']}]",
        "name: by-descr\nvendor: v\ndetect: [{sys_descr: ['^Acme']}]",
        "name: by-oid\nvendor: v\ndetect: [{sys_object_id: ['1.3.6.1.4.1.99']}]",
    )
    assert ranked(ps, "Acme AP", "1.3.6.1.4.1.99.1") == ["by-oid", "by-descr", "by-probe"]


def test_longer_sys_object_id_prefix_wins() -> None:
    ps = profiles(
        "name: vendor-wide\nvendor: v\ndetect: {sys_object_id: ['1.3.6.1.4.1.14823']}",
        "name: controllers\nvendor: v\ndetect: {sys_object_id: ['1.3.6.1.4.1.14823.1.1']}",
    )
    assert ranked(ps, None, "1.3.6.1.4.1.14823.1.1.9999") == ["controllers", "vendor-wide"]
    assert ranked(ps, None, "1.3.6.1.4.1.14823.1.2.59") == ["vendor-wide"]


def test_prefix_matches_whole_arcs_only() -> None:
    ps = profiles("name: p\nvendor: v\ndetect: {sys_object_id: ['1.3.6.1.4.1.14']}")
    assert ranked(ps, None, "1.3.6.1.4.1.14988.1") == []
    assert ranked(ps, None, "1.3.6.1.4.1.14") == ["p"]


def test_more_tests_win_at_the_same_prefix() -> None:
    ps = profiles(
        "name: linux\nvendor: v\ndetect: {sys_object_id: ['" + LINUX + "']}",
        "name: linux-ap\nvendor: v\ndetect: {sys_object_id: ['" + LINUX + "'], sys_descr: [U6]}",
    )
    assert ranked(ps, "Linux U6-Lite 4.4", LINUX) == ["linux-ap", "linux"]
    assert ranked(ps, "Linux router 5.4", LINUX) == ["linux"]


def test_priority_then_name_break_remaining_ties() -> None:
    ps = profiles(
        "name: b-low\nvendor: v\ndetect: {sys_object_id: ['1.3.6.1.4.1.5']}",
        "name: a-low\nvendor: v\ndetect: {sys_object_id: ['1.3.6.1.4.1.5']}",
        "name: c-high\nvendor: v\npriority: 90\ndetect: {sys_object_id: ['1.3.6.1.4.1.5']}",
    )
    assert ranked(ps, None, "1.3.6.1.4.1.5.1") == ["c-high", "a-low", "b-low"]


def test_probes_are_asked_only_above_the_first_certain_candidate() -> None:
    ps = profiles(
        UNIFI,
        OPENWRT,
        "name: linux\nvendor: v\ndetect: {sys_object_id: ['1.3.6.1.4.1.8072.3.2']}",
        "name: dot11\nvendor: v\ndetect: {probe: ['1.2.840.10036.1.1']}",
    )
    order = detect.candidates(ps, "Linux", LINUX)
    assert [c.profile.name for c in order] == ["unifi", "openwrt", "linux", "dot11"]
    assert detect.probes_needed(order) == ["1.3.6.1.4.1.41112.1.6", "1.3.6.1.4.1.8072.1.3.2"]


def test_choose_takes_the_best_candidate_whose_probes_answered() -> None:
    ps = profiles(
        UNIFI,
        OPENWRT,
    )
    order = detect.candidates(ps, "Linux", LINUX)
    both = detect.choose(order, {"1.3.6.1.4.1.41112.1.6", "1.3.6.1.4.1.8072.1.3.2"}, ps)
    assert both.profile == "unifi" and both.also_matched == ("openwrt",)
    assert both.reason == (f"sysObjectID: {LINUX} is listed; probe 1.3.6.1.4.1.41112.1.6 answered")
    only_extend = detect.choose(order, {"1.3.6.1.4.1.8072.1.3.2"}, ps)
    assert only_extend.profile == "openwrt"
    assert detect.choose(order, set(), ps).profile == GENERIC


async def test_detection_is_one_probe_request_for_the_leading_candidates() -> None:
    ps = profiles(
        UNIFI,
        OPENWRT,
    )
    client = FakeSnmpClient(
        records=[("1.3.6.1.4.1.8072.1.3.2.3.1.1.4.1.2.3", SnmpValue("octets", b"3"))]
    )
    system = {"1.3.6.1.2.1.1.2.0": SnmpValue("oid", LINUX)}
    found = await detect.detect(client, TARGET, ps, system)
    assert found.profile == "openwrt"
    roots = ("1.3.6.1.4.1.41112.1.6", "1.3.6.1.4.1.8072.1.3.2")
    assert client.calls == [("walk_many", roots), ("walk", roots[:1]), ("walk", roots[1:])]


async def test_no_probe_when_the_system_values_decide() -> None:
    ps = profiles("name: acme\nvendor: v\ndetect: {sys_object_id: ['1.3.6.1.4.1.99']}")
    client = FakeSnmpClient()
    found = await detect.detect(
        client, TARGET, ps, {"1.3.6.1.2.1.1.2.0": SnmpValue("oid", "1.3.6.1.4.1.99.7")}
    )
    assert found.profile == "acme" and client.calls == []


@pytest.mark.parametrize(
    "doc, message",
    [
        (
            "detect: [{}]",
            "detect.0: Value error, a detect way needs sys_object_id, sys_descr or probe",
        ),
        (
            "detect: [{probe: ['1.3.x']}]",
            "detect.0.probe: Value error, '1.3.x' is not a numeric OID",
        ),
        (
            "detect: [{sys_descr: ['(']}]",
            "detect.0.sys_descr: Value error, bad regular expression '('",
        ),
    ],
)
def test_bad_detect_ways_are_refused_with_their_place(doc: str, message: str) -> None:
    from wifimon.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        load_profile("name: p\nvendor: v\n" + doc, "p.yaml")
    assert str(err.value).startswith("p.yaml: " + message)


def test_the_reason_names_the_stage_and_each_test_that_passed() -> None:
    ps = profiles(
        "name: wlc\nvendor: v\ndetect: [{sys_descr: ['^Cisco Controller$']}]",
        "name: linux-ap\nvendor: v\ndetect: {sys_object_id: ['1.3.6.1.4.1.8072.3.2'], "
        "sys_descr: ['U6']}",
        f"name: any\nvendor: v\ndetect: {{probe: ['{UNIFI_TABLE}']}}",
    )
    by_descr = detect.choose(detect.candidates(ps, "Cisco Controller", None), set(), ps)
    assert by_descr.reason == "sysDescr: matches '^Cisco Controller$'"
    both = detect.choose(detect.candidates(ps, "Linux U6-Pro", LINUX), set(), ps)
    assert (
        both.reason == f"sysObjectID: {LINUX} is under 1.3.6.1.4.1.8072.3.2; sysDescr matches 'U6'"
    )
    by_probe = detect.choose(detect.candidates(ps, None, None), {UNIFI_TABLE}, ps)
    assert by_probe.reason == f"probe: {UNIFI_TABLE} answered"
