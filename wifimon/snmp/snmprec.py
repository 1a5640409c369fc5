"""Reader for snmpsim's `.snmprec` recordings (OID|TYPE|VALUE), used by the fake client."""

from __future__ import annotations

from pathlib import Path

from wifimon.errors import ConfigError
from wifimon.snmp.types import SnmpValue, oid_tuple

_TAGS: dict[str, str] = {
    "2": "integer",
    "4": "octets",
    "5": "null",
    "6": "oid",
    "64": "ipaddress",
    "65": "counter32",
    "66": "gauge32",
    "67": "timeticks",
    "68": "opaque",
    "70": "counter64",
}


def parse_line(line: str, where: str) -> tuple[str, SnmpValue] | None:
    """One recording line to (oid, value); None for blanks and comments."""
    text = line.rstrip("\r\n")
    if not text or text.startswith("#"):
        return None
    parts = text.split("|", 2)
    if len(parts) != 3:
        raise ConfigError(f"{where}: expected OID|TYPE|VALUE")
    oid, tag, raw = parts
    tag, _, module = tag.partition(":")
    hex_value = tag.endswith("x")
    base_tag = tag.rstrip("x")
    if module:
        raw, hex_value = _static_value_of_variation(raw, hex_value)
    kind = _TAGS.get(base_tag)
    if kind is None:
        raise ConfigError(f"{where}: unknown type tag {tag!r}")
    return oid.strip("."), _to_value(kind, raw, hex_value, where)


def _static_value_of_variation(options: str, hex_value: bool) -> tuple[str, bool]:
    """The value a variation-module line starts from (its `value`, `initial` or `min`)."""
    settings = dict(item.split("=", 1) for item in options.split(",") if "=" in item)
    if "hexvalue" in settings:
        return settings["hexvalue"], True
    for key in ("value", "initial", "min"):
        if key in settings:
            return settings[key].split(".")[0] if key != "value" else settings[key], hex_value
    return "0", hex_value


def _to_value(kind: str, raw: str, hex_value: bool, where: str) -> SnmpValue:
    """Build the typed value the agent would send for this recording field."""
    if kind == "octets" or kind == "opaque":
        data = bytes.fromhex(raw) if hex_value else raw.encode("utf-8")
        return SnmpValue(kind, data)  # type: ignore[arg-type]
    if kind == "oid":
        return SnmpValue("oid", raw.strip("."))
    if kind == "ipaddress":
        if hex_value:
            return SnmpValue("ipaddress", ".".join(str(b) for b in bytes.fromhex(raw)))
        return SnmpValue("ipaddress", raw)
    if kind == "null":
        return SnmpValue("null", None)
    try:
        return SnmpValue(kind, int(raw))  # type: ignore[arg-type]
    except ValueError as exc:
        raise ConfigError(f"{where}: {raw!r} is not a number") from exc


def load(path: Path) -> list[tuple[str, SnmpValue]]:
    """All records of a file, sorted by OID as an agent would walk them."""
    records: list[tuple[str, SnmpValue]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parsed = parse_line(line, f"{path}:{number}")
        if parsed is not None:
            records.append(parsed)
    records.sort(key=lambda record: oid_tuple(record[0]))
    return records
