"""`wifimon report uptime`: the auditors' report from the history store."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from wifimon.alerts.templates import WIB
from wifimon.history.formats import to_csv, to_json
from wifimon.history.query import ReportInputError, ReportQuery, make_report
from wifimon.history.report import Period


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
    uptime.add_argument("--format", default="csv", choices=("csv", "json"))
    uptime.add_argument("--language", choices=("id", "en"))
    uptime.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    uptime.set_defaults(func=cmd_report_uptime)


def parse_time(text: str) -> float:
    for form in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, form).replace(tzinfo=WIB).timestamp()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not YYYY-MM-DD or 'YYYY-MM-DD HH:MM'")


def period_of(args: argparse.Namespace, now: float) -> Period:
    if args.start:
        if not args.end:
            raise ValueError("--from needs --to")
        start, end = parse_time(args.start), parse_time(args.end)
        if end <= start:
            raise ValueError("--to must be after --from")
        return Period(start, end)
    if args.end:
        raise ValueError("--to needs --from")
    if args.month:
        try:
            return Period.month(args.month)
        except ValueError:
            raise ValueError(f"--month {args.month!r} is not YYYY-MM") from None
    this_month = datetime.fromtimestamp(now, WIB).replace(day=1)
    last = this_month.replace(year=this_month.year - (this_month.month == 1),
                              month=(this_month.month - 2) % 12 + 1)  # fmt: skip
    return Period.month(f"{last.year}-{last.month:02d}")


def cmd_report_uptime(args: argparse.Namespace) -> int:
    from wifimon import config as config_module

    config = config_module.load(args.config)
    now = time.time()
    try:
        period = period_of(args, now)
    except ValueError as exc:
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
    if args.format == "json":
        text = to_json(report)
    else:
        text = to_csv(report, language, settings.csv_delimiter, settings.csv_decimal)
    if args.output:
        args.output.write_text(text, encoding="utf-8", newline="")
        print(f"wrote {args.output} ({len(report.rows)} rows, sha256 {report.digest})")
    else:
        sys.stdout.write(text)
    return 0
