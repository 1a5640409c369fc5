"""`wifimon notify queue`: messages waiting to be sent, and those that failed for good."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from wifimon.alerts.templates import WIB
from wifimon.notify.outbox import Outbox


def add_parsers(sub: Any) -> None:
    notify = sub.add_parser("notify", help="notification deliveries")
    notify_sub = notify.add_subparsers(required=True, metavar="ACTION")
    queue = notify_sub.add_parser("queue", help="list pending and failed deliveries")
    queue.add_argument("--config", required=True, type=Path)
    queue.set_defaults(func=cmd_notify_queue)


def cmd_notify_queue(args: argparse.Namespace) -> int:
    from wifimon import config as config_module

    outbox = Outbox(config_module.load(args.config).data_dir)
    try:
        items = outbox.listing()
        for d in items:
            when = datetime.fromtimestamp(d.next_attempt_at, WIB).strftime("%Y-%m-%d %H:%M:%S")
            detail = f" next {when} WIB" if d.state == "pending" else ""
            error = f" ({d.last_error})" if d.last_error else ""
            print(f"{d.id} {d.state} {d.channel} to {d.recipient} attempts={d.attempts}"
                  f"{detail}{error}: {d.subject}")  # fmt: skip
        if not items:
            print("no pending or failed deliveries")
    finally:
        outbox.close()
    return 0
