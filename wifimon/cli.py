"""Command line: the only place that configures logging."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import logging
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from wifimon import __version__
from wifimon.alerts import cli as alerts_cli
from wifimon.errors import ConfigError, WifimonError
from wifimon.history import cli as history_cli
from wifimon.notify import cli as notify_cli

log = logging.getLogger("wifimon")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `wifimon` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    _configure_logging(args.log_level)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"wifimon: config error:\n{exc}", file=sys.stderr)
        return 2
    except WifimonError as exc:
        print(f"wifimon: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="time=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s",
        stream=sys.stderr,
    )
    for noisy in ("apscheduler", "aiohttp.access", "pysnmp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An address pool on the command line; argparse names the option when it is bad."""
    try:
        return ipaddress.ip_network(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wifimon", description=__doc__)
    parser.add_argument("--version", action="version", version=f"wifimon {__version__}")
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the monitoring daemon")
    run.add_argument("--config", required=True, type=Path)
    run.add_argument("--shard", metavar="K/N", help="watch only share K of N of the titik")
    run.add_argument("--listen", metavar="HOST:PORT", help="override daemon.listen")
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check-config", help="validate config and inventory, print a summary")
    check.add_argument("--config", required=True, type=Path)
    check.set_defaults(func=cmd_check_config)

    inv = sub.add_parser("inventory", help="import or export the hotspot inventory")
    inv_sub = inv.add_subparsers(required=True, metavar="ACTION")
    imp = inv_sub.add_parser("import", help="convert a CSV (`,` or `;`) to inventory YAML")
    imp.add_argument("file", type=Path)
    imp.add_argument("-o", "--output", type=Path, help="write YAML here (default: stdout)")
    imp.add_argument("--config", type=Path, help="also check credentials/profiles against it")
    imp.set_defaults(func=cmd_inventory_import)
    exp = inv_sub.add_parser("export", help="print the configured inventory")
    exp.add_argument("--config", required=True, type=Path)
    exp.add_argument("--format", choices=["csv", "yaml"], default="yaml")
    exp.add_argument("--delimiter", default=",", choices=[",", ";"])
    exp.set_defaults(func=cmd_inventory_export)

    prof = sub.add_parser("profiles", help="the vendor profiles wifimon knows")
    prof_sub = prof.add_subparsers(required=True, metavar="ACTION")
    plist = prof_sub.add_parser("list", help="every profile: models, detection, count, unknowns")
    plist.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    plist.add_argument("--config", type=Path, help="include the config's profiles_dirs")
    plist.set_defaults(func=cmd_profiles_list)

    poll = sub.add_parser("poll", help="poll one device once and print what its profile reads")
    poll.add_argument("host")
    poll.add_argument("--port", type=int, default=161)
    poll.add_argument("--version", dest="snmp_version", choices=["1", "2c", "3"], default="2c")
    src = poll.add_mutually_exclusive_group()
    src.add_argument("--community-env", metavar="VAR")
    src.add_argument("--community-file", type=Path)
    poll.add_argument("--user", help="SNMPv3 user")
    poll.add_argument(
        "--auth-protocol", choices=["SHA", "SHA224", "SHA256", "SHA384", "SHA512", "MD5"]
    )
    poll.add_argument("--auth-key-env", metavar="VAR")
    poll.add_argument("--priv-protocol", choices=["AES", "AES192", "AES256", "DES", "3DES"])
    poll.add_argument("--priv-key-env", metavar="VAR")
    poll.add_argument("--context", default="")
    poll.add_argument("--profile", default="auto")
    poll.add_argument("--timeout", type=float, default=2.0)
    poll.add_argument("--retries", type=int, default=1)
    poll.add_argument(
        "--address-pool", action="append", default=[], metavar="CIDR", type=_network,
        help="count the gateway's hotspot sessions in this client subnet (repeatable)",
    )  # fmt: skip
    poll.add_argument("--json", action="store_true")
    poll.set_defaults(func=cmd_poll)

    probe = sub.add_parser("probe", help="run one reachability or throughput probe now")
    probe.add_argument("hotspot", nargs="?", help="a hotspot id from --config's inventory")
    probe.add_argument("--config", type=Path)
    probe.add_argument("--kind", choices=["icmp", "http", "iperf3"])
    probe.add_argument("--url", help="ad-hoc HTTP download URL (with --kind http)")
    probe.add_argument("--host", help="ad-hoc address (with --kind icmp or iperf3)")
    probe.add_argument("--port", type=int, default=5201, help="iperf3 port of --host")
    probe.add_argument("--count", type=int, help="ICMP echoes")
    probe.add_argument("--streams", type=int)
    probe.add_argument("--warmup", type=float, help="seconds discarded at the start")
    probe.add_argument("--duration", type=float, help="seconds measured after the warm-up")
    probe.add_argument("--max-bytes", type=int)
    probe.add_argument("--upload", action="store_true", help="also measure upload")
    probe.add_argument("--json", action="store_true")
    probe.set_defaults(func=cmd_probe)

    serve = sub.add_parser(
        "speedtest-server", help="serve a download/upload endpoint for HTTP throughput probes"
    )
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(func=cmd_speedtest_server)

    rules = sub.add_parser("rules", help="check alert rule files")
    rules_sub = rules.add_subparsers(required=True, metavar="ACTION")
    rules_check = rules_sub.add_parser("check", help="validate a rules file")
    rules_check.add_argument("file", type=Path)
    rules_check.set_defaults(func=cmd_rules_check)
    rules_test = rules_sub.add_parser("test", help="run rule unit tests (timelines and alerts)")
    rules_test.add_argument("file", type=Path)
    rules_test.set_defaults(func=cmd_rules_test)

    silence = sub.add_parser("silence", help="silences and maintenance windows")
    silence_sub = silence.add_subparsers(required=True, metavar="ACTION")
    add = silence_sub.add_parser("add", help="silence alerts matching labels")
    add.add_argument("--config", required=True, type=Path)
    add.add_argument(
        "--match",
        action="append",
        required=True,
        metavar="LABEL=VALUE",
        help="label=value or label=~regex; repeat for several",
    )
    add.add_argument("--author", required=True)
    add.add_argument("--reason", required=True)
    add.add_argument("--duration", help="one-off, e.g. 2h")
    add.add_argument("--start", help="one-off start in WIB, YYYY-MM-DD HH:MM (default: now)")
    add.add_argument("--weekly", metavar="DAYS", help="e.g. sun or mon,thu (WIB)")
    add.add_argument("--at", help="weekly start HH:MM (WIB)")
    add.add_argument("--for", dest="length", help="weekly length, e.g. 4h")
    add.add_argument(
        "--maintenance",
        action="store_true",
        help="planned maintenance: reports leave this time out",
    )
    add.set_defaults(func=cmd_silence_add)
    listing = silence_sub.add_parser("list", help="list silences")
    listing.add_argument("--config", required=True, type=Path)
    listing.add_argument("--all", action="store_true", help="include expired ones")
    listing.set_defaults(func=cmd_silence_list)
    expire = silence_sub.add_parser("expire", help="end a silence now")
    expire.add_argument("--config", required=True, type=Path)
    expire.add_argument("id")
    expire.set_defaults(func=cmd_silence_expire)

    alerts_cli.add_parsers(sub)
    notify_cli.add_parsers(sub)
    history_cli.add_parsers(sub)

    api = sub.add_parser("api", help="API helpers")
    api_sub = api.add_subparsers(required=True, metavar="ACTION")
    token = api_sub.add_parser("new-token", help="make a bearer token and the hash for the config")
    token.add_argument("--name", required=True)
    token.add_argument("--role", required=True)
    token.set_defaults(func=cmd_api_new_token)

    demo = sub.add_parser("demo", help="run the daemon against a simulated fleet")
    demo.add_argument("--listen", default="127.0.0.1:9817")
    demo.add_argument("--interval", type=float, default=15.0)
    demo.add_argument(
        "--duration", type=float, default=0.0, help="stop after this many seconds (0: until Ctrl-C)"
    )
    demo.add_argument("--workdir", type=Path, help="keep the generated demo files here")
    demo.set_defaults(func=cmd_demo)
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    from wifimon.daemon import run
    from wifimon.shard import Shard

    shard = Shard.parse(args.shard) if args.shard else None
    return asyncio.run(run(args.config, shard, args.listen))


def cmd_check_config(args: argparse.Namespace) -> int:
    from wifimon import config

    cfg = config.load(args.config)
    print(summary(cfg))
    return 0


def summary(cfg: Any) -> str:
    """What a config will watch, in a few lines."""
    aps = cfg.inventory.access_points()
    profiles = Counter(ap.profile for _, ap in aps)
    kelurahan = {(h.kota, h.kecamatan, h.kelurahan) for h in cfg.inventory.hotspots}
    kinds = Counter(h.throughput_kind for h in cfg.inventory.hotspots if h.throughput_kind)
    lines = [
        f"config ok: {cfg.path}",
        f"hotspots: {len(cfg.inventory.hotspots)}",
        f"access points: {len(aps)}",
        f"kelurahan: {len(kelurahan)}",
        f"providers: {len({h.provider for h in cfg.inventory.hotspots})}",
        "access points per profile: "
        + ", ".join(f"{name}={count}" for name, count in sorted(profiles.items())),
        "throughput probes: " + (", ".join(f"{k}={v}" for k, v in sorted(kinds.items())) or "none"),
        f"poll interval: {cfg.model.polling.interval_seconds:g} s, "
        f"listen: {cfg.model.daemon.listen}",
    ]
    return "\n".join(lines)


def cmd_inventory_import(args: argparse.Namespace) -> int:
    from wifimon.inventory_io import read_inventory_files, to_yaml

    inventory, locations = read_inventory_files([args.file])
    if args.config:
        from wifimon import config as config_module

        cfg = config_module.load(args.config)
        config_module.check_inventory_refs(inventory, locations, cfg.credentials, cfg.profiles)
    text = to_yaml(inventory)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(
            f"wrote {len(inventory.hotspots)} hotspots, "
            f"{len(inventory.access_points())} access points to {args.output}",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return 0


def cmd_inventory_export(args: argparse.Namespace) -> int:
    from wifimon import config
    from wifimon.inventory_io import to_csv, to_yaml

    cfg = config.load(args.config)
    if args.format == "csv":
        sys.stdout.write(to_csv(cfg.inventory, args.delimiter))
    else:
        sys.stdout.write(to_yaml(cfg.inventory))
    return 0


def cmd_profiles_list(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from wifimon import config as config_module
    from wifimon.snmp.catalogue import as_markdown, as_text, catalogue
    from wifimon.snmp.profiles import load_profiles

    profiles = config_module.load(args.config).profiles if args.config else load_profiles()
    rows = catalogue(profiles)
    if args.format == "json":
        print(json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(as_markdown(profiles) if args.format == "markdown" else as_text(rows))
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    from wifimon.diagnostics import poll_device, render_text, sample_to_json

    sample = asyncio.run(poll_device(args, os.environ))
    if args.json:
        print(json.dumps(sample_to_json(sample), indent=2, ensure_ascii=False))
    else:
        print(render_text(sample))
    if not sample.reachable:
        reason = sample.issues[0].detail if sample.issues else "no answer"
        print(f"wifimon: {reason}", file=sys.stderr)
        return 1
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from wifimon.probes.cli import render_text, run_probe

    result = asyncio.run(run_probe(args))
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        print(render_text(result))
    if not result.ok:
        print(f"wifimon: {result.error}", file=sys.stderr)
        return 1
    return 0


def cmd_speedtest_server(args: argparse.Namespace) -> int:
    from wifimon.probes.speedtest_server import main as serve

    serve(["--host", args.host, "--port", str(args.port)])
    return 0


def cmd_rules_check(args: argparse.Namespace) -> int:
    from wifimon.alerts.rules import load_rules

    ruleset = load_rules(args.file)
    scopes = Counter(rule.scope for rule in ruleset.rules)
    print(
        f"rules ok: {args.file}: {len(ruleset.rules)} rules "
        f"({', '.join(f'{k}={v}' for k, v in sorted(scopes.items()))}), "
        f"{len(ruleset.groups)} groups, {len(ruleset.inhibitions)} inhibitions, "
        f"evaluated every {ruleset.evaluation_interval:g} s"
    )
    return 0


def cmd_rules_test(args: argparse.Namespace) -> int:
    from wifimon.alerts.ruletest import run_file

    logging.getLogger("wifimon.alerts").setLevel(logging.WARNING)  # results, not transitions
    outcomes = run_file(args.file)
    for outcome in outcomes:
        print(f"{'FAIL' if outcome.failures else 'PASS'} {outcome.name}")
        for failure in outcome.failures:
            print(f"  {failure}")
    failed = sum(bool(o.failures) for o in outcomes)
    print(f"{len(outcomes) - failed} passed, {failed} failed")
    return 1 if failed else 0


def _silence_store(config_path: Path) -> Any:
    from wifimon import config as config_module
    from wifimon.alerts.silences import SilenceStore

    return SilenceStore(config_module.load(config_path).data_dir)


def cmd_silence_add(args: argparse.Namespace) -> int:
    import time
    from datetime import datetime

    from pydantic import ValidationError

    from wifimon.alerts.silences import WIB, Weekly, parse_matchers

    store = _silence_store(args.config)
    weekly = None
    if args.weekly:
        if not (args.at and args.length):
            raise ConfigError("--weekly needs --at HH:MM and --for DURATION")
        try:
            weekly = Weekly(days=args.weekly.split(","), start=args.at, duration=args.length)
        except ValidationError as exc:
            problem = exc.errors()[0]
            field = ".".join(str(p) for p in problem["loc"])
            raise ConfigError(f"--weekly/--at/--for: {field}: {problem['msg']}") from exc
    start = None
    if args.start:
        try:
            start = datetime.fromisoformat(args.start).replace(tzinfo=WIB).timestamp()
        except ValueError as exc:
            raise ConfigError(f"--start {args.start!r}: expected YYYY-MM-DD HH:MM") from exc
    silence = store.add(parse_matchers(args.match), args.author, args.reason, time.time(),
                        duration=args.duration, starts_at=start, weekly=weekly,
                        maintenance=args.maintenance)  # fmt: skip
    print(f"silence {silence.id} added")
    return 0


def cmd_silence_list(args: argparse.Namespace) -> int:
    import time
    from datetime import datetime

    from wifimon.alerts.silences import WIB

    now = time.time()
    for s in _silence_store(args.config).load():
        state = s.state(now)
        if state == "expired" and not args.all:
            continue
        matchers = ",".join(f"{k}={v}" for k, v in s.matchers.items())
        when = (f"weekly {','.join(s.weekly.days)} {s.weekly.start} for {s.weekly.duration}"
                if s.weekly else "until " + (datetime.fromtimestamp(s.ends_at, WIB).strftime(
                    "%Y-%m-%d %H:%M WIB") if s.ends_at else "expired"))  # fmt: skip
        kind = " maintenance" if s.maintenance else ""
        print(f"{s.id} {state}{kind} {matchers} {when} by {s.author}: {s.reason}")
    return 0


def cmd_silence_expire(args: argparse.Namespace) -> int:
    import time

    silence = _silence_store(args.config).expire(args.id, time.time())
    print(f"silence {silence.id} expired")
    return 0


def cmd_api_new_token(args: argparse.Namespace) -> int:
    from wifimon.api_auth import new_token

    token, digest = new_token()
    print(f"token (give it to the user, it is not stored): {token}")
    print("config (under api: tokens:):")
    print(f"  - {{name: {args.name}, role: {args.role}, sha256: {digest}}}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from wifimon.demo.runner import run_demo

    return asyncio.run(run_demo(args.listen, args.interval, args.duration, args.workdir))


if __name__ == "__main__":
    sys.exit(main())
