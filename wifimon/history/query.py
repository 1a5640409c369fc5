"""One way to ask for an uptime report (CLI, HTTP API, HTML and PDF all use it): which
period, grouping and titik, read from the unsharded history or from every shard's."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from wifimon.alerts.silences import Silence, SilenceStore
from wifimon.alerts.templates import WIB
from wifimon.config import Config
from wifimon.errors import WifimonError
from wifimon.history.report import GroupBy, Period, Report, SlaTargets, Source, build
from wifimon.history.store import FILENAME, HistoryStore
from wifimon.inventory import Hotspot
from wifimon.shard import Shard
from wifimon.statedir import instance_dir

log = logging.getLogger(__name__)


class ReportInputError(WifimonError):
    """The report asked for cannot be made; the message names the parameter or file."""


class NoHistory(ReportInputError):
    """No history file where the report looks (the message names the path: for the CLI)."""


FIRST_YEAR, LAST_YEAR = 2000, 2099  # reports of a deployed wifimon fall in between


def parse_time(text: str, name: str) -> float:
    for form in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            moment = datetime.strptime(text, form)
        except ValueError:
            continue
        _check_year(moment.year, text, name)
        return moment.replace(tzinfo=WIB).timestamp()
    raise ReportInputError(f"{name} {text!r} is not YYYY-MM-DD or 'YYYY-MM-DD HH:MM'")


def _check_year(year: int, text: str, name: str) -> None:
    """Far-past and far-future dates are refused: they are typing errors, not periods."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ReportInputError(f"{name} {text!r} is not within the years {FIRST_YEAR} to "
                               f"{LAST_YEAR}")  # fmt: skip


def parse_period(month: str | None, start: str | None, end: str | None, now: float,
                 prefix: str = "") -> Period:  # fmt: skip
    """`month`, or `from` with `to` (WIB); neither: the last calendar month. `prefix` is
    how the caller spells its parameters in messages ("--" for the command line)."""
    name = {k: prefix + k for k in ("month", "from", "to")}
    if start or end:
        if month:
            raise ReportInputError(f"{name['month']} cannot go with {name['from']}/{name['to']}")
        if not (start and end):
            raise ReportInputError(f"{name['from']} and {name['to']} go together")
        begin, after = parse_time(start, name["from"]), parse_time(end, name["to"])
        if after <= begin:
            raise ReportInputError(f"{name['to']} must be after {name['from']}")
        return Period(begin, after)
    if month:
        year, _, number = month.partition("-")
        if not (year.isdecimal() and len(year) <= 6 and number.isdecimal()
                and len(number) <= 2 and 1 <= int(number) <= 12):  # fmt: skip
            raise ReportInputError(f"{name['month']} {month!r} is not YYYY-MM")
        _check_year(int(year), month, name["month"])
        return Period.month(month)
    this_month = datetime.fromtimestamp(now, WIB).replace(day=1)
    last = this_month.replace(year=this_month.year - (this_month.month == 1),
                              month=(this_month.month - 2) % 12 + 1)  # fmt: skip
    return Period.month(f"{last.year}-{last.month:02d}")


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
def opened_sources(config: Config, hotspots: Sequence[Hotspot], shards: int | None,
                   own: Path | None = None) -> Iterator[list[Source]]:  # fmt: skip
    """Read-only history files, each with the titik to read from it (`own`: a running
    instance's directory, for all of them)."""
    with contextlib.ExitStack() as stack:
        sources: list[Source] = []
        places = [(own, list(hotspots))] if own else [
            (instance_dir(config.data_dir, shard), owned)
            for shard, owned in parts(config, hotspots, shards)]  # fmt: skip
        for directory, owned in places:
            if not (directory / FILENAME).exists():
                raise NoHistory(f"no history at {directory / FILENAME} (has the daemon run?)")
            store = HistoryStore(directory, readonly=True)
            stack.callback(store.close)
            sources.append((store, owned))
        yield sources


def make_report(config: Config, query: ReportQuery, now: float, own: Path | None = None
                ) -> Report:  # fmt: skip
    """The report for `query` as of `now` (the current month stops at `now`)."""
    hotspots, filters = chosen(config, query)
    settings = config.model.reports
    targets = SlaTargets.model_validate(settings.model_dump(include=set(SlaTargets.model_fields)))
    live = SilenceStore(config.data_dir).load()
    with opened_sources(config, hotspots, query.shards, own) as sources:
        silences = known_silences(live, [store for store, _ in sources])
        return build(sources, silences, query.period, query.by, targets, filters, now)


def known_silences(live: Sequence[Silence], stores: Sequence[HistoryStore]) -> list[Silence]:
    """Today's silences and those the history kept (expired and removed ones included);
    the live version wins when both have one."""
    known: dict[str, Silence] = {}
    for store in stores:
        for text in store.silences():
            try:
                silence = Silence.model_validate_json(text)
            except ValidationError as exc:  # e.g. written by a wifimon with another model
                log.warning("a silence kept in %s cannot be read, left out: %s", store.path,
                            str(exc).splitlines()[0])  # fmt: skip
                continue
            known[silence.id] = silence
    known.update({s.id: s for s in live})
    return sorted(known.values(), key=lambda s: s.id)
