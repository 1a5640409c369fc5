"""`wifimon report uptime`: the auditors' report from the history store."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from wifimon.history import alertlog
from wifimon.history.document import report_file
from wifimon.history.query import (
    ReportInputError,
    ReportQuery,
    make_report,
    opened_sources,
    parse_period,
)


def add_parsers(sub: Any) -> None:
    report = sub.add_parser("report", help="reports for auditors")
    report_sub = report.add_subparsers(required=True, metavar="REPORT")
    uptime = report_sub.add_parser("uptime", help="availability and SLA per titik or group")
    uptime.add_argument("--config", required=True, type=Path)
    when = uptime.add_mutually_exclusive_group()
    when.add_argument("--month", help="YYYY-MM, a calendar month in WIB (default: last month)")
    when.add_argument("--from", dest="start", help="YYYY-MM-DD or 'YYYY-MM-DD HH:MM' (WIB)")
    uptime.add_argument("--to", dest="end", help="end of --from's period, exclusive")
    uptime.add_argument(
        "--by",
        default="kelurahan",
        choices=("hotspot", "kelurahan", "kecamatan", "kota", "provider"),
    )
    uptime.add_argument("--hotspot", action="append", default=[], help="only these titik")
    uptime.add_argument("--provider", help="only this provider's titik")
    uptime.add_argument("--shards", type=int, metavar="N",
                        help="read the history of every `run --shard K/N` instance")  # fmt: skip
    uptime.add_argument("--format", default="csv", choices=("csv", "json", "html", "pdf"))
    uptime.add_argument("--language", choices=("id", "en"))
    uptime.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    uptime.set_defaults(func=cmd_report_uptime)
    alerts = report_sub.add_parser(
        "alerts", help="alert events and message deliveries over a period, from the history"
    )
    alerts.add_argument("--config", required=True, type=Path)
    span = alerts.add_mutually_exclusive_group()
    span.add_argument("--month", help="YYYY-MM, a calendar month in WIB (default: last month)")
    span.add_argument("--from", dest="start", help="YYYY-MM-DD or 'YYYY-MM-DD HH:MM' (WIB)")
    alerts.add_argument("--to", dest="end", help="end of --from's period, exclusive")
    alerts.add_argument("--shards", type=int, metavar="N",
                        help="read the history of every `run --shard K/N` instance")  # fmt: skip
    alerts.add_argument("--format", default="csv", choices=("csv", "json"))
    alerts.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    alerts.set_defaults(func=cmd_report_alerts)


def cmd_report_uptime(args: argparse.Namespace) -> int:
    from wifimon import config as config_module

    config = config_module.load(args.config)
    now = time.time()
    try:
        period = parse_period(args.month, args.start, args.end, now, prefix="--")
    except ReportInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    query = ReportQuery(period, args.by, tuple(args.hotspot), args.provider, args.shards)
    try:
        report = make_report(config, query, now)
    except ReportInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = config.model.reports
    language = args.language or settings.language
    data = report_file(report, args.format, language, settings)
    if args.output:
        args.output.write_bytes(data)
        print(f"wrote {args.output} ({len(report.rows)} rows, sha256 {report.digest})")
    else:
        sys.stdout.buffer.write(data)
    return 0


def cmd_report_alerts(args: argparse.Namespace) -> int:
    from wifimon import config as config_module

    config = config_module.load(args.config)
    try:
        period = parse_period(args.month, args.start, args.end, time.time(), prefix="--")
        with opened_sources(config, [], args.shards) as sources:
            rows = alertlog.entries([store for store, _ in sources], period)
    except ReportInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        text = alertlog.to_json(rows, period)
    else:
        text = alertlog.to_csv(rows, config.model.reports.csv_delimiter)
    if args.output:
        args.output.write_text(text, encoding="utf-8", newline="")
        print(f"wrote {args.output} ({len(rows)} entries)")
    else:
        sys.stdout.write(text)
    return 0
