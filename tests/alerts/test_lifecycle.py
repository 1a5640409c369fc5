"""Every lifecycle edge, with a clock the test controls (no sleeps)."""

from __future__ import annotations

from wifimon.alerts.lifecycle import Alert, AlertState, Timing

FIVE_MINUTES = Timing(for_seconds=300)


def run(alert: Alert, timing: Timing, steps: list[tuple[float, bool, bool]]) -> list:
    return [alert.step(t, cond, clear, timing) for t, cond, clear in steps]


def test_pending_that_never_fires_leaves_no_trace() -> None:
    alert = Alert()
    changes = run(alert, FIVE_MINUTES, [(0, True, False), (120, True, False), (240, False, True)])
    assert changes == [AlertState.PENDING, None, AlertState.INACTIVE]
    assert alert.fired_at is None and alert.active_since is None


def test_fires_after_for_and_resolves() -> None:
    alert = Alert()
    changes = run(
        alert,
        FIVE_MINUTES,
        [(0, True, False), (299, True, False), (300, True, False), (360, False, True)],
    )
    assert changes == [AlertState.PENDING, None, AlertState.FIRING, AlertState.RESOLVED]
    assert (alert.fired_at, alert.resolved_at) == (300, 360)


def test_zero_for_fires_at_once() -> None:
    alert = Alert()
    assert alert.step(10, True, False, Timing()) == AlertState.FIRING


def test_hysteresis_clears_only_when_the_clear_condition_holds() -> None:
    # fire below 50 Mbps, clear only above 55: 52 Mbps is neither
    alert = Alert()
    timing = Timing()
    for t, mbps in [(0, 45), (60, 52), (120, 49), (180, 53)]:
        alert.step(t, mbps < 50, mbps > 55, timing)
    assert alert.state == AlertState.FIRING
    assert alert.step(240, False, True, timing) == AlertState.RESOLVED


def test_keep_firing_for_holds_through_a_short_recovery() -> None:
    alert = Alert()
    timing = Timing(keep_firing_for_seconds=600)
    alert.step(0, True, False, timing)
    assert alert.step(60, False, True, timing) is None  # clear, but held
    assert alert.step(300, True, False, timing) is None  # came back: the hold restarts
    assert alert.step(400, False, True, timing) is None
    assert alert.step(999, False, True, timing) is None
    assert alert.step(1000, False, True, timing) == AlertState.RESOLVED


def test_resolved_can_fire_again() -> None:
    alert = Alert()
    run(alert, Timing(), [(0, True, False), (60, False, True)])
    assert alert.step(120, True, False, Timing()) == AlertState.FIRING


def test_flapping_is_marked_and_settles() -> None:
    alert = Alert()
    timing = Timing(flap_threshold=6)
    for i in range(6):  # fires and resolves three times in 30 minutes
        alert.step(i * 300, i % 2 == 0, i % 2 == 1, timing)
    assert alert.flapping
    alert.step(5 * 300 + 3600, False, True, timing)  # an hour of calm
    assert not alert.flapping
