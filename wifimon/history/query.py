"""One way to ask for an uptime report (CLI, HTTP API, HTML and PDF all use it): which
period, grouping and titik, read from the unsharded history or from every shard's."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from wifimon.alerts.silences import SilenceStore
from wifimon.config import Config
from wifimon.errors import WifimonError
from wifimon.history.report import GroupBy, Period, Report, SlaTargets, Source, build
from wifimon.history.store import FILENAME, HistoryStore
from wifimon.inventory import Hotspot
from wifimon.shard import Shard
from wifimon.statedir import instance_dir


class ReportInputError(WifimonError):
    """The report asked for cannot be made; the message names the parameter or file."""


@dataclass(frozen=True)
class ReportQuery:
    period: Period
    by: GroupBy = "kelurahan"
    hotspots: Sequence[str] = field(default_factory=tuple)
    provider: str | None = None
    shards: int | None = None  # read shard-K-of-N histories, each for the titik it owns


def chosen(config: Config, query: ReportQuery) -> tuple[list[Hotspot], dict[str, str]]:
    """The titik the report covers and the filters it states."""
    hotspots = list(config.inventory.hotspots)
    unknown = sorted(set(query.hotspots) - {h.id for h in hotspots})
    if unknown:
        raise ReportInputError(f"hotspot: not in the inventory: {', '.join(unknown)}")
    filters = {}
    if query.hotspots:
        hotspots = [h for h in hotspots if h.id in query.hotspots]
        filters["hotspot"] = ",".join(query.hotspots)
    if query.provider:
        hotspots = [h for h in hotspots if h.provider == query.provider]
        filters["provider"] = query.provider
    return hotspots, filters


def parts(config: Config, hotspots: Sequence[Hotspot], shards: int | None
          ) -> list[tuple[Shard | None, list[Hotspot]]]:  # fmt: skip
    """Which instance's history holds which titik."""
    if shards is None:
        return [(None, list(hotspots))]
    if shards < 1:
        raise ReportInputError(f"shards: {shards} is not a number of shards (1 or more)")
    split = [Shard(k, shards) for k in range(1, shards + 1)]
    return [(shard, [h for h in hotspots if shard.owns(h.id)]) for shard in split]


@contextlib.contextmanager
def opened_sources(config: Config, hotspots: Sequence[Hotspot], shards: int | None
                   ) -> Iterator[list[Source]]:  # fmt: skip
    """Read-only history files, each with the titik to read from it."""
    with contextlib.ExitStack() as stack:
        sources: list[Source] = []
        for shard, owned in parts(config, hotspots, shards):
            directory = instance_dir(config.data_dir, shard)
            if not (directory / FILENAME).exists():
                raise ReportInputError(
                    f"no history at {directory / FILENAME} (has the daemon"
                    f"{' --shard ' + str(shard) if shard else ''} run?)"
                )
            store = HistoryStore(directory, readonly=True)
            stack.callback(store.close)
            sources.append((store, owned))
        yield sources


def make_report(config: Config, query: ReportQuery, now: float) -> Report:
    """The report for `query` as of `now` (the current month stops at `now`)."""
    hotspots, filters = chosen(config, query)
    settings = config.model.reports
    targets = SlaTargets.model_validate(settings.model_dump(include=set(SlaTargets.model_fields)))
    silences = SilenceStore(config.data_dir).load()
    with opened_sources(config, hotspots, query.shards) as sources:
        return build(sources, silences, query.period, query.by, targets, filters, now)
