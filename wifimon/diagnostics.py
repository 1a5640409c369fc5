"""`wifimon poll`: one device, one poll, printed for a person or as JSON."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wifimon.errors import ConfigError
from wifimon.measurements import ApSample
from wifimon.poller import poll_ap
from wifimon.secrets import Secret
from wifimon.snmp.fast_client import FastSnmpClient
from wifimon.snmp.profiles import load_profiles
from wifimon.snmp.types import CommunityAuth, SnmpTarget, UsmAuth
from wifimon.textfile import read_operator_text


def _secret_from(env: Mapping[str, str], var: str | None, file: Path | None) -> Secret | None:
    if var:
        if var not in env:
            raise ConfigError(f"environment variable {var} is not set")
        return Secret(env[var])
    if file:
        return Secret(read_operator_text(file, secret=True).strip())
    return None


def target_from_args(args: argparse.Namespace, env: Mapping[str, str]) -> SnmpTarget:
    """Build the SNMP target from command-line options; secrets only from env or files."""
    if args.snmp_version == "3":
        if not args.user:
            raise ConfigError("--user is required for --version 3")
        usm = UsmAuth(
            user=args.user,
            auth_protocol=args.auth_protocol,
            auth_key=_secret_from(env, args.auth_key_env, None),
            priv_protocol=args.priv_protocol,
            priv_key=_secret_from(env, args.priv_key_env, None),
            context=args.context,
        )
        if (usm.auth_protocol is None) != (usm.auth_key is None):
            raise ConfigError("--auth-protocol and --auth-key-env go together")
        if (usm.priv_protocol is None) != (usm.priv_key is None):
            raise ConfigError("--priv-protocol and --priv-key-env go together")
        auth: CommunityAuth | UsmAuth = usm
    else:
        community = _secret_from(env, args.community_env, args.community_file)
        auth = CommunityAuth(community or Secret("public"))
    return SnmpTarget(args.host, args.port, args.snmp_version, auth, args.timeout, args.retries)


async def poll_device(args: argparse.Namespace, env: Mapping[str, str]) -> ApSample:
    """Poll once with a fresh client."""
    target = target_from_args(args, env)
    profiles = load_profiles()
    if args.profile != "auto":
        profiles.get(args.profile)
    client = FastSnmpClient()
    try:
        return await poll_ap(client, target, args.host, profiles, args.profile,
                             address_pools=tuple(args.address_pool))  # fmt: skip
    finally:
        await client.close()


def sample_to_json(sample: ApSample) -> dict[str, Any]:
    """The stable JSON form of one poll."""
    detection = sample.detection
    return {
        "profile": sample.profile,
        "detection": None
        if detection is None
        else {
            "profile": detection.profile,
            "reason": detection.reason,
            "also_matched": list(detection.also_matched),
        },
        "reachable": sample.reachable,
        "sys_name": sample.sys_name,
        "sys_descr": sample.sys_descr,
        "sys_object_id": sample.sys_object_id,
        "uptime_seconds": sample.uptime_seconds,
        "clients_total": sample.clients.total,
        "clients_by_radio": [
            {"label": r.label, "kind": r.kind, "clients": r.clients}
            for r in sample.clients.by_radio
        ],
        "sessions": sample.sessions,
        "sessions_by_pool": sample.sessions_by_pool,
        "managed_aps": None
        if sample.managed_aps is None
        else [
            {"key": ap.key, "name": ap.name, "mac": ap.mac, "clients": ap.clients}
            for ap in sample.managed_aps
        ],
        "cpu_percent": sample.cpu_percent,
        "memory_percent": sample.memory_percent,
        "interfaces": [
            {
                "index": i.index,
                "name": i.name,
                "role": i.role,
                "oper_up": i.oper_up,
                "speed_mbps": i.speed_mbps,
                "in_octets": i.in_octets,
                "out_octets": i.out_octets,
                "counter_bits": i.counter_bits,
            }
            for i in sample.interfaces
        ],
        "errors": [{"reason": e.reason, "detail": e.detail} for e in sample.issues],
        "duration_seconds": round(sample.duration_seconds, 4),
    }


def render_text(sample: ApSample) -> str:
    """A short human summary."""
    if not sample.reachable:
        return "no answer"
    clients = "unknown" if sample.clients.total is None else str(sample.clients.total)
    uptime = "unknown" if sample.uptime_seconds is None else f"{sample.uptime_seconds:.0f} s"
    why = f" ({sample.detection.reason})" if sample.detection else ""
    lines = [
        f"profile:  {sample.profile}{why}",
        f"name:     {sample.sys_name or '-'}",
        f"descr:    {sample.sys_descr or '-'}",
        f"uptime:   {uptime}",
        f"clients:  {clients}",
    ]
    for radio in sample.clients.by_radio:
        lines.append(f"  {radio.kind} {radio.label}: {radio.clients}")
    if sample.sessions is not None:
        per_server = ", ".join(f"server {k or '-'}: {v}" for k, v in sample.sessions.items())
        lines.append(f"sessions: {sum(sample.sessions.values())} ({per_server or 'none'})")
    for pool, count in (sample.sessions_by_pool or {}).items():
        lines.append(f"  pool {pool}: {count}")
    for ap in sample.managed_aps or ():
        lines.append(f"  ap {ap.name or '-'} {ap.mac or '-'}: {ap.clients}")
    if sample.interfaces:
        lines.append("interfaces:")
        for i in sample.interfaces:
            state = {True: "up", False: "down", None: "?"}[i.oper_up]
            speed = f"{i.speed_mbps:g} Mbit/s" if i.speed_mbps else "-"
            role = f" [{i.role}]" if i.role else ""
            lines.append(f"  {i.name}{role}: {state}, {speed}, in={i.in_octets} out={i.out_octets}")
    for issue in sample.issues:
        lines.append(f"problem: {issue.reason}: {issue.detail}")
    return "\n".join(lines)
