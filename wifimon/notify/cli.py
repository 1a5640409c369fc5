"""`wifimon notify queue` (messages waiting, held for a digest, or failed for good) and
`wifimon notify test` (one trial message over one channel, sent at once)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from wifimon.alerts.templates import WIB
from wifimon.notify.channels import AlertmanagerChannel, DeliveryError, Message
from wifimon.notify.messages import Renderer
from wifimon.notify.outbox import FILENAME as OUTBOX_FILENAME
from wifimon.notify.outbox import Outbox
from wifimon.notify.settings import build_channels
from wifimon.statedir import instance_dirs


def add_parsers(sub: Any) -> None:
    notify = sub.add_parser("notify", help="notification deliveries")
    notify_sub = notify.add_subparsers(required=True, metavar="ACTION")
    queue = notify_sub.add_parser("queue", help="list pending and failed deliveries")
    queue.add_argument("--config", required=True, type=Path)
    queue.set_defaults(func=cmd_notify_queue)
    test = notify_sub.add_parser("test", help="send a test message over one channel now")
    test.add_argument("--config", required=True, type=Path)
    test.add_argument("--channel", required=True, help="a name under notifications.channels")
    test.add_argument(
        "--to", required=True, help="chat id, phone number, e-mail address (as the channel takes)"
    )
    test.add_argument("--language", choices=("id", "en"), default="id")
    test.set_defaults(func=cmd_notify_test)


def cmd_notify_queue(args: argparse.Namespace) -> int:
    from wifimon import config as config_module

    data_dir = config_module.load(args.config).data_dir
    items = []
    for directory in instance_dirs(data_dir):
        if not (directory / OUTBOX_FILENAME).exists():
            continue
        where = "" if directory == data_dir else f"[{directory.name}] "
        outbox = Outbox(directory)
        try:
            items += [(where, d) for d in outbox.listing()]
        finally:
            outbox.close()
    for where, d in items:
        when = datetime.fromtimestamp(d.next_attempt_at, WIB).strftime("%Y-%m-%d %H:%M:%S")
        detail = f" next {when} WIB" if d.state == "pending" else ""
        error = f" ({d.last_error})" if d.last_error else ""
        print(f"{where}{d.id} {d.state} {d.channel} to {d.recipient} attempts={d.attempts}"
              f"{detail}{error}: {d.subject}")  # fmt: skip
    if not items:
        print("no pending or failed deliveries")
    return 0


def cmd_notify_test(args: argparse.Namespace) -> int:
    from wifimon import config as config_module

    config = config_module.load(args.config)
    settings = config.model.notifications
    channels = build_channels(settings, config.secrets)
    if args.channel not in channels:
        known = ", ".join(sorted(channels)) or "none"
        print(f"error: no channel {args.channel!r} (notifications.channels has: {known})",
              file=sys.stderr)  # fmt: skip
        return 2
    folder = settings.templates_dir
    renderer = Renderer(config.path.parent / folder if folder else None)
    subject, body = renderer.test(args.channel, args.language, time.time())
    channel = channels[args.channel]
    if isinstance(channel, AlertmanagerChannel):
        body = json.dumps(_test_alert(subject, body))
    message = Message(f"test|{args.channel}|{args.to}|{time.time()}", args.to, subject, body)
    try:
        asyncio.run(_send(channel, message))
    except DeliveryError as exc:
        print(f"not sent over {args.channel} to {args.to}: {exc}", file=sys.stderr)
        return 1
    print(f"sent over {args.channel} to {args.to}: {subject}")
    return 0


async def _send(channel: Any, message: Message) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        await channel.send(session, message)


def _test_alert(subject: str, body: str) -> dict[str, Any]:
    """A test alert for Alertmanager that ends by itself after five minutes."""
    ends = datetime.fromtimestamp(time.time() + 300, WIB).isoformat()
    return {
        "labels": {"alertname": "WifimonUji", "severity": "info"},
        "annotations": {"summary": subject, "description": body},
        "endsAt": ends,
    }
