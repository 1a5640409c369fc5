"""What a probe hands to state: one plain record per run, success or not."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ProbeKind = Literal["icmp", "tcp", "http", "iperf3"]


@dataclass(slots=True)
class ProbeResult:
    """One probe run. `ok` is False with `error`/`reason` when the probe could not measure.

    Throughput fields are bits per second; RTT fields are seconds.
    """

    kind: ProbeKind
    target: str
    ok: bool
    started: float
    duration_seconds: float = 0.0
    error: str | None = None
    reason: str | None = None
    # reachability
    sent: int = 0
    received: int = 0
    loss_ratio: float | None = None
    rtt_min_seconds: float | None = None
    rtt_avg_seconds: float | None = None
    rtt_max_seconds: float | None = None
    jitter_seconds: float | None = None
    # throughput
    download_bps: float | None = None
    download_p10_bps: float | None = None
    upload_bps: float | None = None
    upload_p10_bps: float | None = None
    bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def reachable(self) -> bool | None:
        """For reachability probes: whether any reply came back."""
        if self.kind not in ("icmp", "tcp"):
            return None
        return self.received > 0

    def to_json(self) -> dict[str, Any]:
        """The stable JSON form (`wifimon probe --json`); Mbps alongside bits/s for people."""
        data = asdict(self)
        data.pop("extra")
        for name in ("download", "upload"):
            median, p10 = data[f"{name}_bps"], data[f"{name}_p10_bps"]
            data[f"{name}_mbps"] = None if median is None else round(median / 1e6, 3)
            data[f"{name}_mbps_p10"] = None if p10 is None else round(p10 / 1e6, 3)
        data["reachable"] = self.reachable
        return data
