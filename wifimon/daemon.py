"""Builds the parts from Config, starts and stops them, and reloads without losing state."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import itertools
import logging
import signal
import sys
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest

from wifimon import config as config_module
from wifimon.alerts.acks import Ack, AckStore
from wifimon.alerts.dispatch import Notification, dispatch
from wifimon.alerts.engine import RuleEngine, Transition, alert_id
from wifimon.alerts.expr import Value, parse_duration
from wifimon.alerts.journal import AlertJournal, Marks, mark_changes
from wifimon.alerts.recipients import Directory
from wifimon.alerts.rules import RuleSet
from wifimon.alerts.silences import Silence, SilenceStore
from wifimon.alerts.source import StateSource
from wifimon.alerts.store import AlertStore
from wifimon.config import Config, ConfigModel
from wifimon.controllers import managed_samples
from wifimon.errors import ConfigError
from wifimon.exposition import render
from wifimon.history.store import HistoryStore
from wifimon.history.writer import HistoryWriter
from wifimon.inventory import AccessPoint, Controller, Inventory
from wifimon.measurements import AddressPool, ApSample, PollIssue
from wifimon.memory import freeze_long_lived, thaw
from wifimon.metrics import SelfMetrics, StateCollector, alert_families
from wifimon.notify.alertmanager import AlertmanagerSync
from wifimon.notify.messages import Renderer
from wifimon.notify.outbox import Delivery, Limit, Outbox
from wifimon.notify.plan import deliveries
from wifimon.notify.sender import Backoff, Sender
from wifimon.notify.settings import NotificationSettings, build_channels
from wifimon.poller import poll_ap
from wifimon.probes.runner import ProbeRunner
from wifimon.scheduler import JobFunc, Scheduler, expected_start
from wifimon.sessions.gateways import (
    GatewayTitik,
    gateway_counts,
    gateway_pools,
    gateway_titik,
)
from wifimon.sessions.service import SessionService
from wifimon.shard import Shard
from wifimon.snmp.client import SnmpClient
from wifimon.snmp.fast_client import FastSnmpClient
from wifimon.snmp.pysnmp_client import PysnmpClient
from wifimon.snmp.types import SnmpTarget
from wifimon.state import ApState, InventoryChange, State, Status
from wifimon.statedir import InstanceLock, instance_dir

log = logging.getLogger(__name__)
STOP_TIMEOUT_SECONDS = 5.0
JOB_CANCEL_SECONDS = 2.0  # how long stopping waits for cancelled polls and probes to end
SESSIONS_CHUNK = 250  # titik recorded between two turns of the loop
RELOAD_SWITCH_SECONDS = 0.001  # GIL hand-over interval while a reload parses in a thread


def make_client(kind: str) -> SnmpClient:
    """The SNMP client for polling: the BER fast path (SNMPv3 via pysnmp), or pysnmp only."""
    return FastSnmpClient() if kind == "fast" else PysnmpClient()


def target_for(config: Config, device: AccessPoint | Controller) -> SnmpTarget:
    """The SNMP target of a polled AP or a controller, with its credentials and timeouts."""
    if device.credentials is None:
        raise ConfigError(f"{device.id}: read via its controller, not polled")
    polling = config.model.polling
    return SnmpTarget(
        host=device.host,
        port=device.port,
        version=config.versions[device.credentials],
        auth=config.credentials[device.credentials],
        timeout=polling.timeout_seconds,
        retries=polling.retries,
    )


def polled_aps(inventory: Inventory) -> set[str]:
    """APs polled themselves (the others are read through their controller)."""
    return {ap.id for _, ap in inventory.access_points() if not ap.managed}


def used_controllers(inventory: Inventory) -> set[str]:
    """Controllers that manage at least one AP of this inventory (of this shard)."""
    return {ap.controller for _, ap in inventory.access_points() if ap.controller}


def probed_titik(config: Config) -> tuple[frozenset[str], frozenset[str]]:
    """Titik with an ICMP probe job and titik with a throughput probe job under `config`."""
    probes = config.model.probes
    hotspots = config.inventory.hotspots
    icmp = frozenset(h.id for h in hotspots) if probes.icmp.enabled else frozenset()
    throughput = (
        frozenset(h.id for h in hotspots if h.throughput_kind)
        if probes.throughput.enabled
        else frozenset()
    )
    return icmp, throughput


@dataclasses.dataclass(frozen=True, slots=True)
class PlannedReload:
    """What a reload works out off the event loop, so the loop only swaps it in."""

    config: Config
    inventory: InventoryChange
    polled: frozenset[str]  # APs polled themselves
    controllers: frozenset[str]  # controllers polled for their APs
    changed_controllers: frozenset[str]
    gateways: dict[str, list[GatewayTitik]]
    icmp: frozenset[str]  # titik with an ICMP probe job
    throughput: frozenset[str]  # titik with a throughput probe job
    changed_probes: frozenset[str]  # titik whose probe settings changed
    renderer: Renderer


class Daemon:
    """The running wifimon: config, state, scheduler, metrics and (via web) HTTP."""

    def __init__(
        self,
        config_path: Path,
        client: SnmpClient | None = None,
        shard: Shard | None = None,
        listen: str | None = None,
    ) -> None:
        self.config_path = config_path
        self.shard = shard
        self.listen = listen
        self.config: Config = self._load()
        self.client: SnmpClient = client or make_client(self.config.model.polling.client)
        self.registry = CollectorRegistry()
        self.self_metrics = SelfMetrics(self.registry)
        if shard is not None:
            self.self_metrics.shard_info.labels(str(shard.index), str(shard.count)).set(1)
        polling = self.config.model.polling
        self.state = State(
            self.config.inventory, polling.down_after_failures, 2 * polling.interval_seconds
        )
        self.state_metrics = StateCollector(self.state)
        self.semaphore = asyncio.Semaphore(polling.concurrency)
        self.probes = ProbeRunner(self.state, self.config)
        probes = self.config.model.probes
        self.scheduler = Scheduler()
        self.polls = self.scheduler.group(
            "poll", self._quiet(self.poll_once), polling.interval_seconds
        )
        self.controller_polls = self.scheduler.group(
            "controller", self._quiet(self.poll_controller), polling.interval_seconds
        )
        self._controller_profiles: dict[str, str] = {}  # detected once, kept across polls
        self._gateways = gateway_titik(self.config.inventory)
        self.icmp_jobs = self.scheduler.group(
            "icmp", self._quiet(self._icmp_job), probes.icmp.interval_seconds
        )
        self.throughput_jobs = self.scheduler.group(
            "throughput", self._quiet(self._throughput_job), probes.throughput.interval_seconds
        )
        self.silences = SilenceStore(self.config.data_dir)  # shared by every shard
        self.acks = AckStore(self.config.data_dir)
        self.state_dir = instance_dir(self.config.data_dir, shard)
        self.instance_lock = InstanceLock(self.state_dir)
        self.instance_lock.acquire()
        self.alert_store = AlertStore(self.state_dir)
        self.journal = AlertJournal(self.state_dir)
        self.outbox = Outbox(self.state_dir)
        self.history = HistoryStore(self.state_dir)
        interval = self.config.model.polling.interval_seconds
        self.history_writer = HistoryWriter(self.history, interval, 2.5 * interval,
                                            self.config.model.history)  # fmt: skip
        self.renderer = self._new_renderer()
        self.alertmanager_sync = AlertmanagerSync(self.config.model.notifications)
        self._sender_task: asyncio.Task[None] | None = None
        self._marks: Marks = {}
        self._ack_index: dict[tuple[str, float], Ack] = {}
        self.decided: deque[Notification] = deque(maxlen=1000)  # the latest, for inspection
        self._silence_list: list[Silence] = []
        self._saved_alerts: list[dict[str, object]] | None = None
        self._lag_max = 0.0  # the worst poll start delay since the last rules cycle
        self._last_poll_at: float | None = None
        self.engine = self._new_engine(self.config.rules) if self.config.rules else None
        if self.engine is not None:
            restored = self.engine.restore(self.alert_store.load())
            log.info("alerts restored count=%d", restored)
        self.rule_jobs = self.scheduler.group(
            "rules",
            self._quiet(self._rules_job),
            self.config.rules.evaluation_interval if self.config.rules else 15.0,
        )
        self.sessions = self._new_sessions()
        self.session_jobs = self.scheduler.group(
            "sessions", self._quiet(self._sessions_job), self.config.model.sessions.refresh_seconds
        )
        self.started = False
        self._stopping = asyncio.Event()
        self._jobs: set[asyncio.Task[object]] = set()  # scheduled polls and probes running now
        self._reload_lock = asyncio.Lock()
        self._state_body: bytes | None = None
        self._refresher: asyncio.Task[None] | None = None

    def render_state_metrics(self) -> bytes:
        """State families on the fast exposition path (run in a worker thread)."""
        started = time.perf_counter()
        families = itertools.chain(self.state_metrics.families(), alert_families(self.engine))
        body = render(families).encode()
        self.self_metrics.render_seconds.set(time.perf_counter() - started)
        return body

    async def metrics_body(self) -> bytes:
        """The /metrics body: state (fresh, or pre-rendered when configured) + self-metrics."""
        state = self._state_body
        if state is None or not self.config.model.daemon.metrics_refresh_seconds:
            state = await asyncio.to_thread(self.render_state_metrics)
        return state + generate_latest(self.registry)

    async def _refresh_metrics(self) -> None:
        """Keep a pre-rendered state exposition no older than metrics_refresh_seconds."""
        while not self._stopping.is_set():
            period = self.config.model.daemon.metrics_refresh_seconds
            if period:
                self._state_body = await asyncio.to_thread(self.render_state_metrics)
            else:
                self._state_body = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=period or 5.0)

    def _load(self) -> Config:
        """Load config and inventory, keeping only this shard's titik."""
        config = config_module.load(self.config_path)
        if self.listen is not None:
            daemon = config.model.daemon.model_copy(update={"listen": self.listen})
            config = dataclasses.replace(
                config, model=config.model.model_copy(update={"daemon": daemon})
            )
        if self.shard is None:
            return config
        return dataclasses.replace(config, inventory=self.shard.filter(config.inventory))

    async def start(self) -> None:
        """Schedule every AP and start the scheduler."""
        now = time.time()
        for ap_id in polled_aps(self.config.inventory):
            self.polls.add(ap_id, now)
        for controller_id in used_controllers(self.config.inventory):
            self.controller_polls.add(controller_id, now)
        self._sync_probe_jobs(set(), now)
        if self.sessions is not None:
            await self.sessions.start()
            self.session_jobs.add("all", now)
        if self.engine is not None:
            self.rule_jobs.add("all", now)
            self.journal.append([{"at": now, "alert": "*", "event": "started"}])
        self.scheduler.start()
        freeze_long_lived()  # inventory, state and rules: out of the collector's scans
        self._refresher = asyncio.create_task(self._refresh_metrics())
        self._sender_task = asyncio.create_task(self._send_notifications())
        self.history_writer.start(now)
        self.started = True
        log.info(
            "started hotspots=%d aps=%d shard=%s",
            len(self.state.hotspots),
            len(self.state.aps),
            self.shard or "all",
        )

    async def poll_once(self, ap_id: str, first_run: float) -> None:
        """The scheduled job for one AP: honour backoff, poll under the global limit, record."""
        now = time.time()
        interval = self.polls.interval
        lag = max(0.0, now - expected_start(now, first_run, interval))
        self.self_metrics.scheduler_lag.observe(lag)
        self._lag_max = max(self._lag_max, lag)
        if ap_id not in self.state.aps:
            return
        if not self.state.should_poll(ap_id, now):
            self.self_metrics.polls.labels("skipped_backoff").inc()
            self._remember(self.state.aps[ap_id], now, False)  # still down, as far as known
            return
        ap_state = self.state.aps[ap_id]
        pools = gateway_pools(self._gateways.get(ap_id, []))
        sample = await self._poll_device(
            ap_state.ap, ap_state.detected_profile, ap_state.ap.uplink, pools
        )
        self._account(sample)
        reboots = ap_state.reboots_total
        self.state.record(sample)
        self._record_gateway_sessions(ap_id, sample)
        self._remember(ap_state, sample.timestamp, ap_state.reboots_total > reboots)
        self._last_poll_at = time.time()
        if self.state.aps.get(ap_id) and self.state.aps[ap_id].status == Status.DOWN:
            polling = self.config.model.polling
            self.state.back_off(ap_id, interval, polling.backoff_max_seconds, time.time())

    async def _poll_device(
        self,
        device: AccessPoint | Controller,
        known_profile: str | None,
        uplink: str | None,
        pools: tuple[AddressPool, ...] = (),
    ) -> ApSample:
        """One poll of an AP or a controller under the global limit, within one interval."""
        interval = self.polls.interval
        started = time.time()
        async with self.semaphore:
            try:
                return await asyncio.wait_for(
                    poll_ap(self.client, target_for(self.config, device), device.id,
                            self.config.profiles, device.profile, known_profile, uplink, pools),
                    timeout=interval,
                )  # fmt: skip
            except TimeoutError:
                log.warning("poll overran its interval device=%s", device.id)
                issue = PollIssue("timeout", "poll overran its interval")
                return ApSample(device.id, started, False, interval, issues=[issue])
            except Exception as exc:  # a bug must fail this poll, not freeze the AP's state
                log.error("poll failed device=%s error=%s", device.id, type(exc).__name__)
                issue = PollIssue("internal_error", f"poll failed: {type(exc).__name__}")
                return ApSample(device.id, started, False, time.time() - started, issues=[issue])

    def _new_sessions(self) -> SessionService | None:
        """The RADIUS/radacct session sources, when the config names one."""
        settings = self.config.model.sessions
        if settings.radius is None and settings.radacct is None:
            return None
        radius = self.self_metrics.radius_packets
        return SessionService(
            settings, self.config.inventory, self.config.secrets, self.state_dir,
            on_drop=lambda reason, n: radius.labels("dropped", reason).inc(n),
            on_accept=lambda kind, n: radius.labels("accepted", kind).inc(n),
        )  # fmt: skip

    async def _sessions_job(self, _key: str, _first_run: float) -> None:
        """Open sessions per titik from RADIUS accounting and radacct into the state."""
        if self.sessions is None:
            return
        now = time.time()
        counts = list((await self.sessions.refresh(now)).items())
        for first in range(0, len(counts), SESSIONS_CHUNK):
            for hotspot_id, count in counts[first : first + SESSIONS_CHUNK]:
                self._record_sessions(hotspot_id, count, now)
            await asyncio.sleep(0)  # 9,000 titik at once held the loop for most of a second

    def _record_gateway_sessions(self, device_id: str, sample: ApSample) -> None:
        """A polled gateway's hotspot users, for the titik that count sessions there."""
        titik = self._gateways.get(device_id)
        if titik:
            for hotspot_id, count in gateway_counts(sample, titik).items():
                self._record_sessions(hotspot_id, count, sample.timestamp)

    def _record_sessions(self, hotspot_id: str, count: int | None, at: float) -> None:
        """Keep a titik's sessions; where they are its users, its history records them too."""
        hotspot = self.state.hotspots.get(hotspot_id)
        if hotspot is None:
            return
        self.state.record_sessions(hotspot_id, count, at)
        aps = self.state.aps_of(hotspot)
        if aps and self.state.users_from.get(hotspot_id) == "sessions":
            self._remember(aps[0], at, False)

    async def poll_controller(self, controller_id: str, first_run: float) -> None:
        """The scheduled job for one controller: its per-AP table gives its APs' samples."""
        controller = self.config.inventory.controller(controller_id)
        if controller is None:
            return
        known = self._controller_profiles.get(controller_id)
        pools = gateway_pools(self._gateways.get(controller_id, []))
        sample = await self._poll_device(controller, known, None, pools)
        self._account(sample)
        if sample.reachable and sample.profile:
            self._controller_profiles[controller_id] = sample.profile
        self.state.record_controller(controller_id, sample)
        self._record_gateway_sessions(controller_id, sample)
        self._record_managed(controller_id, sample)
        self._last_poll_at = time.time()

    def _record_managed(self, controller_id: str, sample: ApSample) -> None:
        """Fold the controller's view of each AP it manages into state and history."""
        outcome = managed_samples(sample, self.config.inventory.managed_by(controller_id))
        for ap_id in outcome.unknown:
            self.state.mark_unknown(ap_id, "controller")
        for ap_sample in outcome.samples:
            ap_state = self.state.aps.get(ap_sample.ap_id)
            if ap_state is None:
                continue
            self._count_issues(ap_sample)
            self.state.record(ap_sample)
            self._remember(ap_state, ap_sample.timestamp, False)
        if outcome.why_unknown:
            log.info("controller %s: %s; its APs are unknown", controller_id, outcome.why_unknown)

    def _quiet(self, job: JobFunc) -> JobFunc:
        """A job that ends quietly when shutdown cancels it mid-run (no scheduler traceback)."""

        async def run(key: str, first_run: float) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._jobs.add(task)
            try:
                await job(key, first_run)
            except asyncio.CancelledError:
                if not self._stopping.is_set():
                    raise
            finally:
                self._jobs.discard(task)

        return run

    async def _rules_job(self, _key: str, _first_run: float) -> None:
        """One evaluation cycle of the alert rules (off the loop: it walks the whole fleet)."""
        if self.engine is not None:
            await asyncio.to_thread(self._evaluate_and_save, self.engine)

    def _new_engine(self, rules: RuleSet) -> RuleEngine:
        return RuleEngine(rules, StateSource(self.state, self._self_values))

    def _self_values(self, now: float) -> dict[str, Value]:
        """The `daemon` scope of the rules: is wifimon itself keeping up?"""
        lag, self._lag_max = self._lag_max, 0.0
        since = None if self._last_poll_at is None else max(0.0, now - self._last_poll_at)
        return {"scheduler_lag_seconds": lag, "seconds_since_last_poll": since}

    def _evaluate_and_save(self, engine: RuleEngine, now: float | None = None) -> None:
        """One cycle; the alert file is rewritten when any alert or timer changed."""
        try:
            self._silence_list = self.silences.load()
        except ConfigError as exc:
            log.error("silences not reloaded, keeping the previous ones: %s", exc)
        try:
            self._ack_index = self.acks.by_episode()
        except ConfigError as exc:
            log.error("acknowledgements not reloaded, keeping the previous ones: %s", exc)
        now = time.time() if now is None else now
        transitions = engine.evaluate(now, self._silence_list)
        notes = dispatch(engine.alerts.values(), engine.ruleset.routing, self._ack_index, now)
        self._hand_over(notes)
        self._journal(engine, transitions, notes, now)
        snapshot = engine.snapshot()
        if snapshot != self._saved_alerts:
            self.alert_store.save(snapshot)
            self._saved_alerts = snapshot

    def _journal(
        self,
        engine: RuleEngine,
        transitions: list[Transition],
        notes: list[Notification],
        now: float,
    ) -> None:
        """Append this cycle's transitions, silence/inhibition changes and decisions."""
        marks = {a.id: (a.silenced_by, a.inhibited_by) for a in engine.alerts.values()
                 if a.silenced_by or a.inhibited_by}  # fmt: skip
        maintenance = {s.id for s in self._silence_list if s.maintenance}
        events: list[dict[str, object]] = [
            {"at": t.at, "alert": alert_id(t.rule.name, t.key), "event": t.state.value,
             "labels": t.labels} for t in transitions]  # fmt: skip
        events += mark_changes(self._marks, marks, now, maintenance)
        events += [{"at": n.at, "alert": n.alert_id, "event": "notify", "kind": n.kind,
                    "roles": list(n.roles)} for n in notes]  # fmt: skip
        try:
            self.journal.append(events)
        except OSError as exc:
            log.error("alert journal not written path=%s error=%s", self.journal.path, exc)
        self.history_writer.pending.alert_events(events)
        self.history_writer.pending.silences(self._silence_list, now)
        self._marks = marks

    async def _send_notifications(self) -> None:
        """Deliver from the outbox until stopped (channels as configured at start)."""
        settings = self.config.model.notifications
        channels = build_channels(settings, self.config.secrets)
        backoff = Backoff(settings.backoff_base_seconds, settings.backoff_max_seconds,
                          settings.max_attempts)  # fmt: skip
        sender = Sender(self.outbox, channels, backoff, on_result=self._count_delivery,
                        limit=_limit(settings), renderer=self.renderer,
                        on_cycle=self._count_queued)  # fmt: skip
        async with aiohttp.ClientSession() as session:
            self.alertmanager_sync.start(session, channels, self._alertmanager_alerts)
            try:
                await sender.run(session, self._stopping)
            finally:
                await self.alertmanager_sync.stop()

    def _count_delivery(self, delivery: Delivery, result: str, reason: str | None) -> None:
        self.self_metrics.notifications.labels(delivery.channel, result, reason or "").inc()
        self.history_writer.pending.delivery(time.time(), delivery.key, delivery.channel,
                                             delivery.recipient, result, reason,
                                             delivery.subject)  # fmt: skip
        if result == "sent":
            latency = max(0.0, time.time() - delivery.created_at)
            self.self_metrics.notification_latency.labels(delivery.channel).observe(latency)

    def _count_queued(self) -> None:
        """Outbox counts as gauges (0 for what emptied since, so no series goes stale)."""
        gauge = self.self_metrics.notifications_queued
        counts = self.outbox.counts()
        for channel in self.config.model.notifications.channels:
            for state in ("pending", "held", "failed"):
                gauge.labels(channel, state).set(counts.get((channel, state), 0))

    def _new_renderer(self, config: Config | None = None) -> Renderer:
        config = config or self.config
        settings = config.model.notifications
        folder = settings.templates_dir
        templates = config.path.parent / folder if folder else None
        return Renderer(templates, settings.grafana_url)

    def _alertmanager_alerts(self) -> list[tuple[Notification, set[str]]]:
        """Firing alerts someone was told of, with the channels their contacts use (for
        the Alertmanager resend)."""
        if self.engine is None:
            return []
        directory = Directory(self.state.hotspots, self.config.model.contacts)
        return self.alertmanager_sync.firing(self.engine.alerts.values(), directory,
                                            self.engine.ruleset.routing, time.time())  # fmt: skip

    def _hand_over(self, notes: list[Notification]) -> None:
        """Queue each decided message in the outbox (before the alert state that says it
        was told is saved), log it with the people it is for."""
        directory = Directory(self.state.hotspots, self.config.model.contacts)
        settings = self.config.model.notifications
        queued = [d for note in notes for d in deliveries(note, directory, settings,
                                                          self.renderer)]  # fmt: skip
        if queued:
            self.outbox.enqueue(queued, time.time(), _limit(settings))
        for note in notes:
            people = [f"{c.name} ({role})" for role in note.roles
                      for c in directory.resolve(role, note.labels)]  # fmt: skip
            log.info("notify alert=%s kind=%s roles=%s recipients=%s", note.alert_id, note.kind,
                     ",".join(note.roles), "; ".join(people) or "none")  # fmt: skip
            for role in note.roles:
                self.self_metrics.notifications_decided.labels(note.kind, role).inc()
            self.decided.append(note)

    async def _icmp_job(self, hotspot_id: str, first_run: float) -> None:
        await self.probes.reachability(hotspot_id)

    async def _throughput_job(self, hotspot_id: str, first_run: float) -> None:
        result = await self.probes.throughput(hotspot_id)
        if result is not None:
            mbps = result.download_bps / 1e6 if result.download_bps is not None else None
            self.history_writer.pending.probe(hotspot_id, result.started, result.kind,
                                              result.ok, mbps)  # fmt: skip

    def _remember(self, ap_state: ApState, at: float, rebooted: bool) -> None:
        """Hand the titik's status and users after this poll to the history writer."""
        hotspot_id = ap_state.hotspot_id
        if hotspot_id not in self.state.hotspots:
            return
        view = self.state.hotspot_view(hotspot_id)
        status = view.status.value
        if self.config.model.history.hotspot_up == "all" and status == "up":
            aps = [self.state.aps[ap.id] for ap in view.hotspot.access_points
                   if ap.id in self.state.aps]  # fmt: skip
            status = "up" if all(a.status == Status.UP for a in aps) else "down"
        clients = view.clients if status == "up" else None
        pending = self.history_writer.pending
        counts = view.user_counts() if status == "up" else {}
        pending.poll(hotspot_id, at, status, clients, view.hotspot.sla.capacity_users, counts)
        if rebooted:
            pending.reboot(ap_state.ap.id, hotspot_id, at)

    def _sync_probe_jobs(self, changed: set[str], now: float) -> None:
        """Probe jobs for exactly the titik that should have them under the current config."""
        icmp, throughput = probed_titik(self.config)
        self.icmp_jobs.sync(icmp, changed, now)
        self.throughput_jobs.sync(throughput, changed, now)

    def _account(self, sample: ApSample) -> None:
        """Self-metrics for one finished poll."""
        result = "failed" if not sample.reachable else ("partial" if sample.issues else "success")
        self.self_metrics.polls.labels(result).inc()
        self.self_metrics.poll_duration.labels(result).observe(sample.duration_seconds)
        self._count_issues(sample)

    def _count_issues(self, sample: ApSample) -> None:
        """Poll problems by reason, of a poll or of an AP read through its controller."""
        for issue in sample.issues:
            self.self_metrics.poll_errors.labels(issue.reason).inc()
            log.debug(
                "poll issue ap=%s reason=%s detail=%s", sample.ap_id, issue.reason, issue.detail
            )

    async def reload(self) -> None:
        """Load config and inventory again; on error keep the old one and raise ConfigError.

        Everything that reads no live state is worked out in a worker thread; the event loop
        swaps the result in at once (pollers and the API see the old config or the new one),
        then brings the scheduled jobs in line a chunk at a time.
        """
        started = time.monotonic()
        async with self._reload_lock:
            with _collections_paused(), _short_gil_turns():
                planned = await self._planned()
                summary = planned.inventory.summary
                try:
                    await self._adopt(planned)
                finally:
                    del planned  # the replaced AP states go now, not after the collection
                    collecting = time.monotonic()
                    thaw()  # the old inventory and rules were dropped: let the collector see them
                    freeze_long_lived()
        ended = time.monotonic()
        log.info("config reloaded %s seconds=%.2f collect_seconds=%.2f", summary,
                 ended - started, ended - collecting)  # fmt: skip

    async def _planned(self) -> PlannedReload:
        """The new config and what it changes, worked out in a worker thread; any failure is
        counted, logged and raised as a ConfigError, and changes nothing."""
        try:
            return await asyncio.to_thread(self._prepare)
        except Exception as exc:
            self.self_metrics.reload_success.set(0)
            self.self_metrics.reloads.labels("failure").inc()
            if isinstance(exc, ConfigError):
                log.error("config reload refused: %s", exc)
                raise
            log.error("config reload failed error=%s", type(exc).__name__)
            raise ConfigError(
                f"{self.config_path}: could not be reloaded ({type(exc).__name__}); "
                "the running config is kept"
            ) from exc

    def _prepare(self) -> PlannedReload:
        """Load and validate the config and work out what it changes (in a worker thread:
        it reads the running config and state but changes neither)."""
        new = self._load()
        old = self.config
        inventory = self.state.plan_inventory(new.inventory)
        icmp, throughput = probed_titik(new)
        old_hotspots = {h.id: h for h in old.inventory.hotspots}
        return PlannedReload(
            config=new,
            inventory=inventory,
            polled=frozenset(polled_aps(new.inventory)),
            controllers=frozenset(used_controllers(new.inventory)),
            changed_controllers=frozenset(
                c.id for c in new.inventory.controllers if c not in old.inventory.controllers
            ),
            gateways=gateway_titik(new.inventory),
            icmp=icmp,
            throughput=throughput,
            changed_probes=frozenset(
                h.id for h in new.inventory.hotspots if old_hotspots.get(h.id, h).probe != h.probe
            ),
            renderer=self._new_renderer(new),
        )

    async def _adopt(self, planned: PlannedReload) -> None:
        """Swap in a validated config: start added APs, stop removed ones, keep the rest."""
        old = self.config.model
        now = time.time()
        self._swap(planned, now)
        await self._sync_jobs(planned, old, now)
        self.self_metrics.reload_success.set(1)
        self.self_metrics.reload_time.set(time.time())
        self.self_metrics.reloads.labels("success").inc()

    def _swap(self, planned: PlannedReload, now: float) -> None:
        """The new config, inventory, gateways, limits and rules, all in one step (no await:
        nothing sees half of it)."""
        new = planned.config
        old = self.config.model
        self.config = new
        self.renderer = planned.renderer
        self.state.down_after_failures = new.model.polling.down_after_failures
        self.state.max_gap_seconds = 2 * new.model.polling.interval_seconds
        self.state.apply_change(planned.inventory)
        for controller_id in planned.changed_controllers:
            self._controller_profiles.pop(controller_id, None)
        self._gateways = planned.gateways
        if self.sessions is not None:
            self.sessions.adopt(new.inventory)
        if new.model.sessions != old.sessions:
            log.warning("sessions settings changed: they take effect when wifimon restarts")
        if new.model.polling.concurrency != old.polling.concurrency:
            self.semaphore = asyncio.Semaphore(new.model.polling.concurrency)
        self.probes.reconfigure(new)
        self._adopt_rules(new, now)

    async def _sync_jobs(self, planned: PlannedReload, old: ConfigModel, now: float) -> None:
        """Scheduled jobs to match the swapped-in config: as many as changed are added or
        removed, a chunk at a time (a job of a removed key that runs meanwhile finds its
        key gone and does nothing; an added AP is in the state before its job starts)."""
        new = planned.config.model
        interval = new.polling.interval_seconds
        if interval != old.polling.interval_seconds:
            await self.polls.reschedule_all_gradually(interval, now)
            await self.controller_polls.reschedule_all_gradually(interval, now)
        change = planned.inventory
        await self.polls.sync_gradually(planned.polled, change.added | change.changed, now)
        await self.controller_polls.sync_gradually(
            planned.controllers, planned.changed_controllers, now
        )
        if new.probes.icmp.interval_seconds != old.probes.icmp.interval_seconds:
            await self.icmp_jobs.reschedule_all_gradually(new.probes.icmp.interval_seconds, now)
        throughput_interval = new.probes.throughput.interval_seconds
        if throughput_interval != old.probes.throughput.interval_seconds:
            await self.throughput_jobs.reschedule_all_gradually(throughput_interval, now)
        await self.icmp_jobs.sync_gradually(planned.icmp, planned.changed_probes, now)
        await self.throughput_jobs.sync_gradually(planned.throughput, planned.changed_probes, now)

    def _adopt_rules(self, new: Config, now: float) -> None:
        """New rules keep the alerts of rules that still exist; no rules, no evaluation."""
        if new.rules is None:
            self.engine = None
            self.rule_jobs.remove("all")
            return
        if self.engine is None:
            self.engine = self._new_engine(new.rules)
        else:
            self.engine.replace_rules(new.rules)
        self.rule_jobs.reschedule_all(new.rules.evaluation_interval, now)
        if "all" not in self.rule_jobs.scheduled_keys():
            self.rule_jobs.add("all", now)

    async def stop(self) -> None:
        """Stop scheduling, let running polls end briefly, close SNMP."""
        thaw()
        self.scheduler.shutdown()
        self._stopping.set()
        await self._cancel_jobs()
        for task in (self._refresher, self._sender_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self.outbox.close()
        if self.sessions is not None:
            await self.sessions.stop()
        await self.history_writer.stop()
        self.history.close()
        self.probes.close()
        await self.client.close()
        self.instance_lock.release()
        log.info("stopped")

    async def _cancel_jobs(self) -> None:
        """Polls and probes still running end now (their sockets and streams closed), so
        none is left behind when the loop closes."""
        running = list(self._jobs)
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=JOB_CANCEL_SECONDS)

    def request_stop(self) -> None:
        self._stopping.set()

    async def wait_stopped(self) -> None:
        await self._stopping.wait()


async def run(config_path: Path, shard: Shard | None = None, listen: str | None = None) -> int:
    """`wifimon run`: daemon + HTTP server until SIGTERM/SIGINT; SIGHUP reloads."""
    from wifimon.web import start_web

    daemon = Daemon(config_path, shard=shard, listen=listen)
    runner = await start_web(daemon)
    await daemon.start()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, daemon.request_stop)
    loop.add_signal_handler(signal.SIGINT, daemon.request_stop)
    loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(_reload_logged(daemon)))
    await daemon.wait_stopped()
    log.info("stopping")
    try:
        await asyncio.wait_for(_shutdown(daemon, runner), timeout=STOP_TIMEOUT_SECONDS)
    except TimeoutError:
        log.warning("shutdown took longer than %.0f s", STOP_TIMEOUT_SECONDS)
    return 0


async def _shutdown(daemon: Daemon, runner: web.AppRunner) -> None:
    await daemon.stop()
    await runner.cleanup()


async def _reload_logged(daemon: Daemon) -> None:
    """SIGHUP handler: errors are logged and exported, never raised into the loop."""
    with contextlib.suppress(ConfigError):
        await daemon.reload()


@contextlib.contextmanager
def _collections_paused() -> Iterator[None]:
    """No automatic garbage collection while a reload builds and swaps in a config: each would
    scan the hundreds of thousands of new objects again, holding up the event loop for as long
    (the reload ends with one full collection; reference counting frees the rest meanwhile)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _short_gil_turns() -> Iterator[None]:
    """While a worker thread parses a config, the event loop gets the GIL back within
    RELOAD_SWITCH_SECONDS instead of Python's 5 ms after each socket call it makes (with 5 ms,
    /-/ready took about 1 s at the 99th percentile during a 20,000-AP reload; with 1 ms,
    0.15 s; the reload itself takes about twice as long)."""
    usual = sys.getswitchinterval()
    sys.setswitchinterval(min(usual, RELOAD_SWITCH_SECONDS))
    try:
        yield
    finally:
        sys.setswitchinterval(usual)


def _limit(settings: NotificationSettings) -> Limit | None:
    rate = settings.rate_limit
    return Limit(rate.messages, parse_duration(rate.per)) if rate else None
