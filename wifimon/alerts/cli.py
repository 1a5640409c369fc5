"""`wifimon alert list|ack`: what is firing now, and "I have seen it" from the command line."""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from wifimon.alerts.acks import AckStore, acknowledge
from wifimon.alerts.engine import alert_id
from wifimon.alerts.store import AlertStore
from wifimon.alerts.templates import WIB
from wifimon.statedir import instance_dirs


def add_parsers(sub: Any) -> None:
    alert = sub.add_parser("alert", help="alerts of a running daemon: list, acknowledge")
    alert_sub = alert.add_subparsers(required=True, metavar="ACTION")
    listing = alert_sub.add_parser("list", help="pending and firing alerts, newest first")
    listing.add_argument("--config", required=True, type=Path)
    listing.set_defaults(func=cmd_alert_list)
    ack = alert_sub.add_parser(
        "ack", help="acknowledge a firing alert: no escalation, no reminders"
    )
    ack.add_argument("--config", required=True, type=Path)
    ack.add_argument("id", help="e.g. TitikMati:jp-glr-01 (see `wifimon alert list`)")
    ack.add_argument("--by", required=True, help="who has seen it")
    ack.add_argument("--comment", default="", help="what is being done")
    ack.set_defaults(func=cmd_alert_ack)


def _data_dir(config_path: Path) -> Path:
    from wifimon import config as config_module

    return config_module.load(config_path).data_dir


def _records(data_dir: Path) -> list[dict[str, Any]]:
    """Pending and firing alerts of every instance (each shard keeps its own)."""
    return [r for directory in instance_dirs(data_dir) for r in AlertStore(directory).load()
            if r.get("state") in ("pending", "firing")]  # fmt: skip


def cmd_alert_list(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args.config)
    acks = AckStore(data_dir).by_episode()
    records = sorted(_records(data_dir), key=lambda r: -(r.get("active_since") or 0.0))
    for record in records:
        identity = alert_id(record["rule"], record["key"])
        since = record.get("fired_at") or record.get("active_since")
        when = datetime.fromtimestamp(since, WIB).strftime("%Y-%m-%d %H:%M WIB") if since else "-"
        ack = acks.get((identity, record.get("fired_at") or -1.0))
        seen = f" [ack {ack.by}]" if ack else ""
        summary = (record.get("annotations") or {}).get("summary", "")
        print(f"{identity} {record['state']} since {when}{seen} {summary}".rstrip())
    if not records:
        print("no pending or firing alerts")
    return 0


def cmd_alert_ack(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args.config)
    firing = {alert_id(r["rule"], r["key"]): float(r["fired_at"]) for r in _records(data_dir)
              if r.get("state") == "firing" and r.get("fired_at") is not None}  # fmt: skip
    ack = acknowledge(AckStore(data_dir), firing, args.id, args.by, args.comment, time.time())
    print(f"{ack.alert} acknowledged by {ack.by}")
    return 0
