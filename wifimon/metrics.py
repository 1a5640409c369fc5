"""Prometheus metrics: a collector over state (no I/O) plus the daemon's self-metrics."""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from wifimon import __version__
from wifimon.alerts.engine import RuleEngine
from wifimon.exposition import Family
from wifimon.inventory import Hotspot
from wifimon.probes.results import ProbeResult
from wifimon.state import ApState, HotspotState, State, Status

HOTSPOT_LABELS = ["hotspot", "kota", "kecamatan", "kelurahan", "rw", "provider"]
AP_LABELS = [*HOTSPOT_LABELS, "ap"]
INTERFACE_LABELS = [*AP_LABELS, "interface", "role"]
RADIO_LABELS = [*AP_LABELS, "radio", "kind"]
POLL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
LAG_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)


def _base(labels: Sequence[str]) -> int:
    """How many leading labels name the AP or titik (rendered once per scrape)."""
    for prefix in (AP_LABELS, HOTSPOT_LABELS):
        if list(labels[: len(prefix)]) == prefix:
            return len(prefix)
    return 0


def gauge(name: str, help: str, labels: Sequence[str]) -> Family:
    return Family(name, help, labels, "gauge", _base(labels))


def counter(name: str, help: str, labels: Sequence[str]) -> Family:
    """A counter family; samples get the `_total` suffix."""
    return Family(name, help, labels, "counter", _base(labels))


def hotspot_label_values(hotspot: Hotspot) -> list[str]:
    return list(hotspot.place_labels.values())  # in HOTSPOT_LABELS order


class SelfMetrics:
    """Metrics about wifimon itself, registered on the daemon's own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.poll_duration = Histogram(
            "wifimon_poll_duration_seconds",
            "Time taken by one poll of one access point.",
            ["result"],
            buckets=POLL_BUCKETS,
            registry=registry,
        )
        self.poll_errors = Counter(
            "wifimon_poll_errors_total",
            "Problems met while polling, by reason.",
            ["reason"],
            registry=registry,
        )
        self.radius_packets = Counter(
            "wifimon_radius_packets_total",
            "RADIUS accounting packets: accepted by kind, or dropped by reason (never answered).",
            ["result", "reason"],
            registry=registry,
        )
        self.polls = Counter(
            "wifimon_polls_total",
            "Polls by result (success, partial, failed, skipped_backoff).",
            ["result"],
            registry=registry,
        )
        self.scheduler_lag = Histogram(
            "wifimon_scheduler_lag_seconds",
            "Delay between a poll's planned and actual start.",
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.notifications_decided = Counter(
            "wifimon_notifications_decided_total",
            "Messages the routing decided to send, by kind (firing, escalation, repeat, "
            "resolved) and recipient role.",
            ["kind", "role"],
            registry=registry,
        )
        self.notifications = Counter(
            "wifimon_notifications_total",
            "Delivery attempts by channel and result (sent, retry, failed) and reason.",
            ["channel", "result", "reason"],
            registry=registry,
        )
        self.notifications_queued = Gauge(
            "wifimon_notifications_queued",
            "Deliveries in the outbox by channel and state (pending, held for a digest, "
            "failed for good).",
            ["channel", "state"],
            registry=registry,
        )
        self.notification_latency = Histogram(
            "wifimon_notification_delivery_seconds",
            "From the decision to the channel accepting the message (quiet hours, "
            "retries and digests included).",
            ["channel"],
            buckets=(1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600),
            registry=registry,
        )
        self.reload_success = Gauge(
            "wifimon_config_last_reload_successful",
            "1 when the last config reload succeeded, 0 when it was refused.",
            registry=registry,
        )
        self.reload_time = Gauge(
            "wifimon_config_last_reload_success_timestamp_seconds",
            "When the config was last loaded successfully.",
            registry=registry,
        )
        self.reloads = Counter(
            "wifimon_config_reloads_total",
            "Config reload attempts by result.",
            ["result"],
            registry=registry,
        )
        self.build_info = Gauge(
            "wifimon_build_info", "wifimon version.", ["version"], registry=registry
        )
        self.build_info.labels(__version__).set(1)
        self.render_seconds = Gauge(
            "wifimon_metrics_render_seconds",
            "How long the last rendering of the state metrics took.",
            registry=registry,
        )
        self.shard_info = Gauge(
            "wifimon_shard_info",
            "Which share of the inventory this instance watches (set with --shard K/N).",
            ["shard", "shards"],
            registry=registry,
        )
        self.reload_success.set(1)
        self.reload_time.set(time.time())


class StateCollector(Collector):
    """Builds per-hotspot, per-AP, per-radio and per-interface families from state at scrape."""

    def __init__(self, state: State) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        """The families as prometheus_client objects (the reference exposition)."""
        for family in self.families():
            yield family.to_metric()

    def families(self) -> Iterator[Family]:
        """Every state family, built at scrape time from state; no I/O."""
        yield from self._hotspot_families()
        yield from self._probe_families()
        yield from self._ap_families()
        yield from self._controller_families()

    def _controller_families(self) -> Iterator[Family]:
        up = gauge("wifimon_controller_up", "1 when the controller answered SNMP.", ["controller"])
        aps = gauge(
            "wifimon_controller_aps",
            "APs in the controller's per-AP client table; absent when it gave none.",
            ["controller", "profile"],
        )
        for controller_id, cstate in sorted(self.state.controllers.items()):
            if cstate.up is not None:
                up.add_metric([controller_id], 1 if cstate.up else 0)
            if cstate.up and cstate.aps_reported is not None:
                aps.add_metric([controller_id, cstate.profile or ""], cstate.aps_reported)
        yield from (up, aps)

    def _probe_families(self) -> Iterator[Family]:
        families = _ProbeFamilies()
        for hotspot_id, hotspot in self.state.hotspots.items():
            hstate = self.state.hotspot_states.get(hotspot_id)
            if hstate is not None:
                families.add(hotspot_label_values(hotspot), hstate, hotspot.sla.min_mbps * 1e6)
        yield from families.all()

    def _hotspot_families(self) -> Iterator[Family]:
        info = gauge(
            "wifimon_hotspot_info",
            "Static attributes of a titik (value is always 1).",
            labels=[*HOTSPOT_LABELS, "name", "latitude", "longitude"],
        )
        up = gauge(
            "wifimon_hotspot_up",
            "1 while at least one access point of the titik answers.",
            labels=HOTSPOT_LABELS,
        )
        clients = gauge(
            "wifimon_hotspot_clients",
            "Users at the titik as its capacity counts them: portal sessions or associated "
            "clients (see wifimon_hotspot_users_from).",
            labels=HOTSPOT_LABELS,
        )
        users_from = gauge(
            "wifimon_hotspot_users_from",
            "1, with the count the titik's capacity uses: sessions or associated.",
            labels=[*HOTSPOT_LABELS, "users_from"],
        )
        associated = gauge(
            "wifimon_hotspot_associated_clients",
            "Wi-Fi clients associated to the titik's APs (APs with known counts).",
            labels=HOTSPOT_LABELS,
        )
        sessions = gauge(
            "wifimon_hotspot_sessions",
            "Logged-in portal sessions (RADIUS accounting or the gateway's hotspot table).",
            labels=HOTSPOT_LABELS,
        )
        not_logged_in = gauge(
            "wifimon_hotspot_not_logged_in_clients",
            "Associated clients without a portal session (where both are known).",
            labels=HOTSPOT_LABELS,
        )
        utilisation = gauge(
            "wifimon_hotspot_utilisation_ratio",
            "Users divided by the titik's capacity.",
            labels=HOTSPOT_LABELS,
        )
        capacity = gauge(
            "wifimon_hotspot_capacity_users",
            "Users the titik is contracted to serve.",
            labels=HOTSPOT_LABELS,
        )
        sla_min = gauge(
            "wifimon_hotspot_sla_min_bits_per_second",
            "Contracted minimum throughput.",
            labels=HOTSPOT_LABELS,
        )
        uplink = gauge(
            "wifimon_hotspot_uplink_bits_per_second",
            "Download carried by the titik's uplinks (SNMP), summed over its APs.",
            labels=HOTSPOT_LABELS,
        )
        uplink_ratio = gauge(
            "wifimon_hotspot_uplink_utilisation_ratio",
            "Uplink download over what the link can carry (last good throughput probe, "
            "else the SLA minimum).",
            labels=HOTSPOT_LABELS,
        )
        saturated = gauge(
            "wifimon_hotspot_saturated",
            "1 when users and uplink are both at 80% or more: too many users, not a slow provider.",
            labels=HOTSPOT_LABELS,
        )
        at_capacity = counter(
            "wifimon_hotspot_at_capacity_seconds",
            "Time with users at or above the titik's capacity.",
            labels=HOTSPOT_LABELS,
        )
        for hotspot_id, hotspot in self.state.hotspots.items():
            labels = hotspot_label_values(hotspot)
            view = self.state.hotspot_view(hotspot_id)
            info.add_metric(
                [*labels, hotspot.name, f"{hotspot.latitude:.6f}", f"{hotspot.longitude:.6f}"], 1
            )
            capacity.add_metric(labels, hotspot.sla.capacity_users)
            users_from.add_metric([*labels, view.users_from], 1)
            sla_min.add_metric(labels, hotspot.sla.min_mbps * 1e6)
            if view.status != Status.UNKNOWN:
                up.add_metric(labels, 1 if view.status == Status.UP else 0)
            if view.clients is not None and view.utilisation is not None:
                clients.add_metric(labels, view.clients)
                utilisation.add_metric(labels, view.utilisation)
            if view.associated is not None:
                associated.add_metric(labels, view.associated)
            if view.sessions is not None:
                sessions.add_metric(labels, view.sessions)
            if view.not_logged_in is not None:
                not_logged_in.add_metric(labels, view.not_logged_in)
            if view.uplink_bps is not None and view.uplink_utilisation is not None:
                uplink.add_metric(labels, view.uplink_bps)
                uplink_ratio.add_metric(labels, view.uplink_utilisation)
            if view.saturated is not None:
                saturated.add_metric(labels, 1 if view.saturated else 0)
            hstate = self.state.hotspot_states.get(hotspot_id)
            if hstate is not None:
                at_capacity.add_metric(labels, hstate.at_capacity_seconds)
        yield from (
            info,
            up,
            clients,
            users_from,
            associated,
            sessions,
            not_logged_in,
            utilisation,
            capacity,
            sla_min,
            uplink,
            uplink_ratio,
            saturated,
            at_capacity,
        )

    def _ap_families(self) -> Iterator[Family]:
        families = _ApFamilies()
        for ap_state in self.state.aps.values():
            hotspot = self.state.hotspots.get(ap_state.hotspot_id)
            if hotspot is not None:
                families.add([*hotspot_label_values(hotspot), ap_state.ap.id], ap_state)
        yield from families.all()


class _ProbeFamilies:
    """Per-titik probe results of one scrape."""

    def __init__(self) -> None:
        g, c = gauge, counter
        kinded = [*HOTSPOT_LABELS, "kind"]
        self.reachable = g(
            "wifimon_probe_reachable",
            "1 when the last reachability probe got a reply.",
            labels=kinded,
        )
        self.loss = g("wifimon_probe_loss_ratio", "Share of echoes without reply.", labels=kinded)
        self.rtt_min = g("wifimon_probe_rtt_min_seconds", "Fastest round trip.", labels=kinded)
        self.rtt_avg = g("wifimon_probe_rtt_avg_seconds", "Mean round trip.", labels=kinded)
        self.rtt_max = g("wifimon_probe_rtt_max_seconds", "Slowest round trip.", labels=kinded)
        self.jitter = g(
            "wifimon_probe_jitter_seconds",
            "Mean difference between consecutive round trips.",
            labels=kinded,
        )
        self.download = g(
            "wifimon_probe_download_bits_per_second",
            "Median download throughput of the last probe.",
            labels=kinded,
        )
        self.download_p10 = g(
            "wifimon_probe_download_p10_bits_per_second",
            "10th-percentile download throughput of the last probe.",
            labels=kinded,
        )
        self.upload = g(
            "wifimon_probe_upload_bits_per_second",
            "Median upload throughput of the last probe.",
            labels=kinded,
        )
        self.upload_p10 = g(
            "wifimon_probe_upload_p10_bits_per_second",
            "10th-percentile upload throughput of the last probe.",
            labels=kinded,
        )
        self.below_sla = g(
            "wifimon_probe_below_sla",
            "1 when the last throughput probe measured less than the SLA minimum.",
            labels=kinded,
        )
        self.duration = g(
            "wifimon_probe_duration_seconds", "How long the last probe took.", labels=kinded
        )
        self.last_run = g(
            "wifimon_probe_last_run_timestamp_seconds",
            "When the last probe started.",
            labels=kinded,
        )
        self.errors = c(
            "wifimon_probe_errors",
            "Probes that could not measure, by reason.",
            labels=[*kinded, "reason"],
        )
        self.skips = c(
            "wifimon_probe_skipped", "Throughput probes not run, by why.", labels=[*kinded, "why"]
        )

    def add(self, labels: list[str], hstate: HotspotState, sla_min_bps: float) -> None:
        for (kind, reason), count in sorted(hstate.probe_errors_total.items()):
            self.errors.add_metric([*labels, kind, reason], count)
        for (kind, why), count in sorted(hstate.probe_skips_total.items()):
            self.skips.add_metric([*labels, kind, why], count)
        for result in (hstate.reachability, hstate.throughput):
            if result is not None:
                self._add_result([*labels, result.kind], result)
        throughput = hstate.throughput
        if throughput is not None and throughput.download_bps is not None:
            below = throughput.download_bps < sla_min_bps
            self.below_sla.add_metric([*labels, throughput.kind], 1 if below else 0)

    def _add_result(self, kl: list[str], result: ProbeResult) -> None:
        self.duration.add_metric(kl, result.duration_seconds)
        self.last_run.add_metric(kl, result.started)
        if result.reachable is not None:
            self.reachable.add_metric(kl, 1 if result.reachable else 0)
        optional = [
            (self.loss, result.loss_ratio),
            (self.rtt_min, result.rtt_min_seconds),
            (self.rtt_avg, result.rtt_avg_seconds),
            (self.rtt_max, result.rtt_max_seconds),
            (self.jitter, result.jitter_seconds),
            (self.download, result.download_bps),
            (self.download_p10, result.download_p10_bps),
            (self.upload, result.upload_bps),
            (self.upload_p10, result.upload_p10_bps),
        ]
        for family, value in optional:
            if value is not None:
                family.add_metric(kl, value)

    def all(self) -> list[Family]:
        return [v for v in vars(self).values() if isinstance(v, Family)]


class _ApFamilies:
    """The per-AP metric families of one scrape."""

    def __init__(self) -> None:
        g, c = gauge, counter
        self.up = g("wifimon_ap_up", "1 when the access point answered SNMP.", labels=AP_LABELS)
        self.info = g(
            "wifimon_ap_info",
            "Profile and identity of an access point.",
            labels=[*AP_LABELS, "profile", "address"],
        )
        self.uptime = g("wifimon_ap_uptime_seconds", "Device uptime.", labels=AP_LABELS)
        self.reboots = c(
            "wifimon_ap_reboots", "Reboots seen (uptime going backwards).", labels=AP_LABELS
        )
        self.clients = g(
            "wifimon_ap_clients", "Associated clients; absent when unknown.", labels=AP_LABELS
        )
        self.radio_clients = g(
            "wifimon_ap_radio_clients", "Clients per radio or SSID.", labels=RADIO_LABELS
        )
        self.cpu = g("wifimon_ap_cpu_utilisation_ratio", "CPU load 0-1.", labels=AP_LABELS)
        self.memory = g("wifimon_ap_memory_utilisation_ratio", "Memory used 0-1.", labels=AP_LABELS)
        self.last_success = g(
            "wifimon_ap_last_success_timestamp_seconds",
            "When the access point last answered.",
            labels=AP_LABELS,
        )
        self.errors = c(
            "wifimon_ap_poll_errors", "Poll problems by reason.", labels=[*AP_LABELS, "reason"]
        )
        self.if_up = g(
            "wifimon_interface_up", "Interface operational status.", labels=INTERFACE_LABELS
        )
        self.if_speed = g(
            "wifimon_interface_speed_bits_per_second",
            "Interface link speed.",
            labels=INTERFACE_LABELS,
        )
        self.rx_bps = g(
            "wifimon_interface_receive_bits_per_second",
            "Receive throughput over the last poll interval.",
            labels=INTERFACE_LABELS,
        )
        self.tx_bps = g(
            "wifimon_interface_transmit_bits_per_second",
            "Transmit throughput over the last poll interval.",
            labels=INTERFACE_LABELS,
        )
        self.rx_bytes = c(
            "wifimon_interface_receive_bytes",
            "Octets received since wifimon started watching (wraps handled).",
            labels=INTERFACE_LABELS,
        )
        self.tx_bytes = c(
            "wifimon_interface_transmit_bytes",
            "Octets sent since wifimon started watching (wraps handled).",
            labels=INTERFACE_LABELS,
        )

    def add(self, labels: list[str], ap: ApState) -> None:
        """Add one AP's series."""
        self.reboots.add_metric(labels, ap.reboots_total)
        for reason, count in sorted(ap.errors_total.items()):
            self.errors.add_metric([*labels, reason], count)
        self.info.add_metric([*labels, ap.detected_profile or ap.ap.profile, ap.ap.address], 1)
        if ap.status != Status.UNKNOWN:
            self.up.add_metric(labels, 1 if ap.status == Status.UP else 0)
        if ap.last_success is not None:
            self.last_success.add_metric(labels, ap.last_success)
        if ap.status != Status.UP or ap.last_sample is None:
            return
        sample = ap.last_sample
        if sample.uptime_seconds is not None:
            self.uptime.add_metric(labels, sample.uptime_seconds)
        if sample.clients.total is not None:
            self.clients.add_metric(labels, sample.clients.total)
        for radio in sample.clients.by_radio:
            self.radio_clients.add_metric([*labels, radio.label, radio.kind], radio.clients)
        if sample.cpu_percent is not None:
            self.cpu.add_metric(labels, sample.cpu_percent / 100)
        if sample.memory_percent is not None:
            self.memory.add_metric(labels, sample.memory_percent / 100)
        self._add_interfaces(labels, ap)

    def _add_interfaces(self, labels: list[str], ap: ApState) -> None:
        """Uplink and wireless interfaces only: the ones the NOC looks at."""
        for iface in ap.interfaces.values():
            if iface.role is None:
                continue
            il = [*labels, iface.name, iface.role]
            if iface.oper_up is not None:
                self.if_up.add_metric(il, 1 if iface.oper_up else 0)
            if iface.speed_mbps is not None:
                self.if_speed.add_metric(il, iface.speed_mbps * 1e6)
            if iface.last_in is not None:
                self.rx_bytes.add_metric(il, iface.rx_bytes_total)
                self.tx_bytes.add_metric(il, iface.tx_bytes_total)
            if iface.rx_bps is not None:
                self.rx_bps.add_metric(il, iface.rx_bps)
            if iface.tx_bps is not None:
                self.tx_bps.add_metric(il, iface.tx_bps)

    def all(self) -> list[Family]:
        return [v for v in vars(self).values() if isinstance(v, Family)]


ALERT_LABELS = [
    "alertname", "severity", *HOTSPOT_LABELS, "ap", "alertstate", "silenced", "inhibited",
]  # fmt: skip


def alert_families(engine: RuleEngine | None) -> list[Family]:
    """Alert counts by rule and state, and one ALERTS-like series per pending/firing alert."""
    counts = gauge(
        "wifimon_alerts",
        "Alerts of wifimon's own rules, by rule, severity and state.",
        ["alertname", "severity", "state"],
    )
    series = gauge(
        "wifimon_alert",
        "1 for every pending or firing alert (ap is empty for titik alerts).",
        ALERT_LABELS,
    )
    since = gauge(
        "wifimon_alert_since_timestamp_seconds",
        "When the condition of a pending or firing alert started to hold.",
        ALERT_LABELS,
    )
    if engine is None:
        return [counts, series, since]
    tally: Tally[tuple[str, str, str]] = Tally()
    for active in engine.active():
        state = active.alert.state.value
        tally[(active.rule.name, active.rule.severity, state)] += 1
        labels = active.labels
        values = [active.rule.name, active.rule.severity,
                  *(labels.get(name, "") for name in HOTSPOT_LABELS), labels.get("ap", ""),
                  state, "true" if active.silenced_by else "false",
                  "true" if active.inhibited_by else "false"]  # fmt: skip
        series.add_metric(values, 1)
        if active.alert.active_since is not None:
            since.add_metric(values, active.alert.active_since)
    for (name, severity, state), count in sorted(tally.items()):
        counts.add_metric([name, severity, state], count)
    return [counts, series, since]
