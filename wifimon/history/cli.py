"""`wifimon report uptime|alerts`: the auditors' reports from the history store."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from wifimon.history import alertlog
from wifimon.history.document import report_file
from wifimon.history.query import ReportInputError, ReportQuery, make_report, parse_period


def add_parsers(sub: Any) -> None:
    report = sub.add_parser("report", help="reports for auditors")
    report_sub = report.add_subparsers(required=True, metavar="REPORT")
    uptime = report_sub.add_parser("uptime", help="availability and SLA per titik or group")
    _period_and_source(uptime)
    uptime.add_argument(
        "--by",
        default="kelurahan",
        choices=("hotspot", "kelurahan", "kecamatan", "kota", "provider"),
    )
    uptime.add_argument("--hotspot", action="append", default=[], help="only these titik")
    uptime.add_argument("--provider", help="only this provider's titik")
    uptime.add_argument("--format", default="csv", choices=("csv", "json", "html", "pdf"))
    uptime.add_argument("--language", choices=("id", "en"))
    uptime.set_defaults(func=cmd_report_uptime)
    alerts = report_sub.add_parser(
        "alerts", help="alert events and message deliveries over a period, from the history"
    )
    _period_and_source(alerts)
    alerts.add_argument("--format", default="csv", choices=("csv", "json"))
    alerts.set_defaults(func=cmd_report_alerts)


def _period_and_source(parser: argparse.ArgumentParser) -> None:
    """What every report takes: the config, the period, the shards, the output file."""
    parser.add_argument("--config", required=True, type=Path)
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--month", help="YYYY-MM, a calendar month in WIB (default: last month)")
    when.add_argument("--from", dest="start", help="YYYY-MM-DD or 'YYYY-MM-DD HH:MM' (WIB)")
    parser.add_argument("--to", dest="end", help="end of --from's period, exclusive")
    parser.add_argument("--shards", type=int, metavar="N",
                        help="read the history of every `run --shard K/N` instance")  # fmt: skip
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")


def cmd_report_uptime(args: argparse.Namespace) -> int:
    from wifimon import config as config_module

    config = config_module.load(args.config)
    now = time.time()
    try:
        period = parse_period(args.month, args.start, args.end, now, prefix="--")
        query = ReportQuery(period, args.by, tuple(args.hotspot), args.provider, args.shards)
        report = make_report(config, query, now)
    except ReportInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = config.model.reports
    data = report_file(report, args.format, args.language or settings.language, settings)
    _deliver(args.output, data, f"{len(report.rows)} rows, sha256 {report.digest}")
    return 0


def cmd_report_alerts(args: argparse.Namespace) -> int:
    from wifimon import config as config_module

    config = config_module.load(args.config)
    try:
        period = parse_period(args.month, args.start, args.end, time.time(), prefix="--")
        text, count = alertlog.alert_log_text(config, period, args.format, args.shards)
    except ReportInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _deliver(args.output, text.encode(), f"{count} entries")
    return 0


def _deliver(output: Path | None, data: bytes, summary: str) -> None:
    """Into the file named (saying what it holds), or to standard output."""
    if output:
        output.write_bytes(data)
        print(f"wrote {output} ({summary})")
    else:
        sys.stdout.buffer.write(data)
