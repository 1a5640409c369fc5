"""The state source: what the change feed says moved covers every value that did move."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_state import inventory
from wifimon.alerts.source import StateSource
from wifimon.measurements import ApSample, ClientReading, InterfaceReading, PollIssue
from wifimon.probes.results import ProbeResult
from wifimon.state import State

APS = ("a1", "a2")
NOW = 10_000.0

poll = st.fixed_dictionaries(
    {
        "kind": st.just("poll"),
        "ap": st.sampled_from(APS),
        "reachable": st.booleans(),
        "clients": st.one_of(st.none(), st.integers(0, 60)),
        "uptime": st.one_of(st.none(), st.sampled_from([10.0, 500.0, 5000.0])),
        "cpu": st.one_of(st.none(), st.sampled_from([5.0, 95.0])),
        "octets": st.integers(0, 10**6),
        "issue": st.sampled_from([None, "auth", "timeout"]),
    }
)
probe = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["icmp", "http"]),
        "ok": st.booleans(),
        "value": st.sampled_from([0.0, 0.3, 20e6, 60e6]),
    }
)


def apply(state: State, event: dict, at: float) -> None:
    if event["kind"] == "poll":
        issues = [PollIssue(event["issue"], "x")] if event["issue"] else []
        state.record(ApSample(
            ap_id=event["ap"], timestamp=at, reachable=event["reachable"],
            uptime_seconds=event["uptime"], cpu_percent=event["cpu"],
            clients=ClientReading(total=event["clients"]), issues=issues,
            interfaces=[InterfaceReading(1, "ether1", True, 100.0, event["octets"], 0, 64,
                                         "uplink")]))  # fmt: skip
        return
    ok, value = event["ok"], event["value"]
    if event["kind"] == "icmp":
        result = ProbeResult("icmp", "t", ok, at, sent=10, received=10, loss_ratio=value,
                             rtt_avg_seconds=value)  # fmt: skip
    else:
        result = ProbeResult("http", "u", ok, at, download_bps=value if ok else None,
                             reason=None if ok else "timeout")  # fmt: skip
    state.record_probe("jp-glr-01", result)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(poll, probe), min_size=1, max_size=25))
def test_every_value_that_moves_is_marked_by_what_moved(events: list[dict]) -> None:
    """After each poll or probe, a name whose value changed is one its MOVED_* bits cover:
    the rules engine skips reading names whose bits did not move."""
    state = State(inventory(*APS), down_after_failures=1)
    source, feed = StateSource(state), state.watch()
    feed.take("ap"), feed.take("hotspot")
    for step, event in enumerate(events):
        keys = {"hotspot": ["jp-glr-01"], "ap": list(APS)}
        before = {(s, k): source.row(s, k, NOW)[0] for s, ks in keys.items() for k in ks}
        apply(state, event, NOW - 100 + step)
        moved = {"hotspot": feed.take("hotspot") or {}, "ap": feed.take("ap") or {}}
        for (scope, key), old in before.items():
            new = source.row(scope, key, NOW)[0]
            bits = moved[scope].get(key, 0)
            for name, was, now in zip(source.columns(scope), old, new, strict=True):
                if was != now:
                    assert source.moved_by(scope)[name] & bits, (scope, key, name, was, now)
