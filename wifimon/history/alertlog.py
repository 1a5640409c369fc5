"""The alert log for auditors: what fired and resolved, what was silenced or held back, who
was to be told and which messages went out, failed or were retried, over a period."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wifimon.config import Config
from wifimon.history.formats import when
from wifimon.history.query import opened_sources
from wifimon.history.report import Period
from wifimon.history.store import HistoryStore

COLUMNS = ("time", "alert", "event", "channel", "recipient", "result", "detail")


def entries(stores: Sequence[HistoryStore], period: Period) -> list[dict[str, Any]]:
    """Alert events and delivery outcomes of every store, in time order."""
    rows: list[tuple[float, dict[str, Any]]] = []
    for store in stores:
        for at, alert, event, detail in store.alert_events(period.start, period.end):
            rows.append((at, {"time": when(at), "alert": alert, "event": event, "channel": "",
                              "recipient": "", "result": "", "detail": detail}))  # fmt: skip
        for at, key, channel, recipient, result, reason, subject in store.deliveries(
            period.start, period.end
        ):
            detail = json.dumps({"reason": reason, "subject": subject}, ensure_ascii=False)
            rows.append((at, {"time": when(at), "alert": key, "event": "delivery",
                              "channel": channel, "recipient": recipient, "result": result,
                              "detail": detail}))  # fmt: skip
    rows.sort(key=lambda pair: pair[0])
    return [row for _, row in rows]


def to_csv(rows: Sequence[dict[str, Any]], delimiter: str = ";") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return "\ufeff" + out.getvalue()


def to_json(rows: Sequence[dict[str, Any]], period: Period) -> str:
    return json.dumps({"report": "alerts", "period": {"start": when(period.start),
                                                      "end": when(period.end)},
                       "entries": rows}, ensure_ascii=False, indent=2)  # fmt: skip


def alert_log_text(config: Config, period: Period, form: str, shards: int | None = None,
                   own: Path | None = None) -> tuple[str, int]:  # fmt: skip
    """The period's alert log as CSV or JSON text, and how many entries it has (read from
    `own`, a running instance's directory, or from the history or every shard's)."""
    with opened_sources(config, [], shards, own) as sources:
        rows = entries([store for store, _ in sources], period)
    if form == "json":
        return to_json(rows, period), len(rows)
    return to_csv(rows, config.model.reports.csv_delimiter), len(rows)
