"""One alert's lifecycle: inactive -> pending -> firing -> resolved, driven by a clock.

Pure: each step gets the time and whether the rule's condition (and clear condition) hold.
`for` delays firing, a separate clear condition gives hysteresis (fire below 50 Mbps, clear
only above 55), `keep_firing_for` holds a firing alert after the condition goes away, and an
alert that changes state too often within an hour is marked flapping so notifications can be
held back until it settles.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

FLAP_WINDOW_SECONDS = 3_600.0
DEFAULT_FLAP_THRESHOLD = 6  # firing/resolved changes within the window


class AlertState(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Timing:
    """The time parameters of a rule."""

    for_seconds: float = 0.0
    keep_firing_for_seconds: float = 0.0
    flap_threshold: int = DEFAULT_FLAP_THRESHOLD


@dataclass(slots=True)
class Alert:
    """The live state of one rule for one titik or AP."""

    state: AlertState = AlertState.INACTIVE
    active_since: float | None = None  # when the condition started holding (pending)
    fired_at: float | None = None
    resolved_at: float | None = None
    clear_since: float | None = None  # when the clear condition started holding while firing
    changes: deque[float] = field(default_factory=deque)  # times of firing/resolved changes
    flapping: bool = False

    @property
    def forgettable(self) -> bool:
        """Nothing left to remember: never fired, or resolved with no recent changes that
        could make it flap."""
        return self.state == AlertState.INACTIVE or (
            self.state == AlertState.RESOLVED and not self.changes
        )

    def next_change_at(self, timing: Timing) -> float | None:
        """When stepping with the same conditions could next change anything (state, flapping,
        being forgettable); None: only a change of condition can."""
        state, at = self.state, None
        if state == AlertState.PENDING and self.active_since is not None:
            at = self.active_since + timing.for_seconds
        elif state == AlertState.FIRING and self.clear_since is not None:
            at = self.clear_since + timing.keep_firing_for_seconds
        if self.changes and (self.flapping or state == AlertState.RESOLVED):
            flap_ends = self.changes[0] + FLAP_WINDOW_SECONDS
            at = flap_ends if at is None else min(at, flap_ends)
        return at

    def step(self, now: float, condition: bool, clear: bool, timing: Timing) -> AlertState | None:
        """Advance to `now`; returns the new state when it changed, else None.

        `condition` is the rule's firing expression; `clear` its clear expression (the same
        as `not condition` for rules without hysteresis).
        """
        before = self.state
        if before == AlertState.PENDING:
            self._from_pending(now, condition, timing)
        elif before == AlertState.FIRING:
            self._from_firing(now, clear, timing)
        else:
            self._from_quiet(now, condition, timing)
        if self.changes or self.flapping or self.state != before:  # (else nothing to note)
            self._note_flapping(now, before, timing)
        return self.state if self.state != before else None

    def _from_quiet(self, now: float, condition: bool, timing: Timing) -> None:
        if not condition:
            return
        self.active_since = now
        self.state = AlertState.PENDING
        self._from_pending(now, condition, timing)

    def _from_pending(self, now: float, condition: bool, timing: Timing) -> None:
        if not condition:
            self.state = AlertState.INACTIVE  # a pending alert that never fired leaves no trace
            self.active_since = None
            return
        assert self.active_since is not None
        if now - self.active_since >= timing.for_seconds:
            self.state = AlertState.FIRING
            self.fired_at = now
            self.clear_since = None

    def _from_firing(self, now: float, clear: bool, timing: Timing) -> None:
        if not clear:
            self.clear_since = None
            return
        if self.clear_since is None:
            self.clear_since = now
        if now - self.clear_since >= timing.keep_firing_for_seconds:
            self.state = AlertState.RESOLVED
            self.resolved_at = now
            self.active_since = None
            self.clear_since = None

    def _note_flapping(self, now: float, before: AlertState, timing: Timing) -> None:
        """Count firing/resolved changes in the last hour; flapping above the threshold."""
        if self.state != before and AlertState.FIRING in (before, self.state):
            self.changes.append(now)
        while self.changes and self.changes[0] <= now - FLAP_WINDOW_SECONDS:
            self.changes.popleft()
        self.flapping = len(self.changes) >= timing.flap_threshold
