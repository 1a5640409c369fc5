"""Reading and writing the inventory as YAML or CSV (`;` or `,`, decimal commas allowed)."""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from wifimon.errors import ConfigError
from wifimon.inventory import Controller, Hotspot, Inventory
from wifimon.textfile import read_operator_text
from wifimon.yamlsource import format_path, load_yaml, validation_error

HOTSPOT_COLUMNS = (
    "hotspot_id",
    "name",
    "kota",
    "kecamatan",
    "kelurahan",
    "rw",
    "latitude",
    "longitude",
    "provider",
    "min_mbps",
    "capacity_users",
)
CONTACT_COLUMNS = (
    "contact_name",
    "contact_phone",
    "contact_whatsapp",
    "contact_telegram",
    "contact_email",
    "contact_language",
    "contact_quiet_hours",
    "contact_channels",
)
AP_COLUMNS = (
    "ap_id",
    "ap_address",
    "snmp_credentials",
    "profile",
    "uplink",
    "controller",
    "controller_ap",
)
PROBE_COLUMNS = ("probe_ping", "probe_http_url", "probe_iperf3")
# Where the titik's portal sessions are counted; the lists are names separated by spaces.
SESSION_LISTS = ("nas_identifier", "nas_ip", "called_station_id", "address_pool")
SESSION_COLUMNS = (
    "users_from",
    *(f"sessions_{key}" for key in SESSION_LISTS),
    "sessions_gateway",
    "sessions_hotspot_server",
)
CSV_COLUMNS = (*HOTSPOT_COLUMNS, *CONTACT_COLUMNS, *AP_COLUMNS, *PROBE_COLUMNS, *SESSION_COLUMNS)
REQUIRED_COLUMNS = (*HOTSPOT_COLUMNS[:9], "ap_id", "ap_address", "snmp_credentials")
_MODEL_FIELD_TO_COLUMN: dict[str, str] = {
    "id": "hotspot_id",
    "min_mbps": "min_mbps",
    "capacity_users": "capacity_users",
    "name": "name",
    "phone": "contact_phone",
    "whatsapp": "contact_whatsapp",
    "telegram_chat_id": "contact_telegram",
    "email": "contact_email",
    "address": "ap_address",
    "credentials": "snmp_credentials",
}


Locator = Callable[[int, int | None, str | None], str]
FieldLocator = Callable[[str], str]


def read_inventory_files(paths: Iterable[Path]) -> tuple[Inventory, dict[str, FieldLocator]]:
    """All inventory files merged, with a locator per AP id for later error messages.

    A hotspot or AP id used twice is an error.
    """
    hotspots: list[Hotspot] = []
    controllers: dict[str, Controller] = {}
    seen_hotspots: dict[str, str] = {}
    seen_aps: dict[str, str] = {}
    locators: dict[str, FieldLocator] = {}
    for path in paths:
        inventory, where = read_inventory(path)
        for index, hotspot in enumerate(inventory.hotspots):
            here = where(index, None, None)
            if hotspot.id in seen_hotspots:
                raise ConfigError(
                    f"{here}: hotspot id {hotspot.id!r} already used at {seen_hotspots[hotspot.id]}"
                )
            seen_hotspots[hotspot.id] = here
            for ap_index, ap in enumerate(hotspot.access_points):
                ap_here = where(index, ap_index, None)
                locators[ap.id] = functools.partial(where, index, ap_index)
                if ap.id in seen_aps:
                    raise ConfigError(
                        f"{ap_here}: access point id {ap.id!r} already used at {seen_aps[ap.id]}"
                    )
                seen_aps[ap.id] = ap_here
            hotspots.append(hotspot)
        for controller in inventory.controllers:
            if controller.id in controllers:
                raise ConfigError(f"{path}: controller id {controller.id!r} is defined twice")
            controllers[controller.id] = controller
    return Inventory(hotspots=hotspots, controllers=list(controllers.values())), locators


def read_inventory(path: Path) -> tuple[Inventory, Locator]:
    """One file by extension; returns the inventory and a `where(hotspot, ap)` locator."""
    text = read_operator_text(path)
    if path.suffix.lower() == ".csv":
        return parse_csv(text, str(path))
    return parse_yaml(text, str(path))


def parse_yaml(text: str, filename: str) -> tuple[Inventory, Locator]:
    """Inventory from YAML text with file:line error messages."""
    data, source = load_yaml(text, filename)
    if not isinstance(data, dict):
        raise ConfigError(f"{filename}:1: the inventory must be a mapping with `hotspots:`")
    try:
        inventory = Inventory.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, source) from exc

    def where(hotspot: int, ap: int | None, field: str | None = None) -> str:
        path: tuple[str | int, ...] = ("hotspots", hotspot)
        if ap is not None:
            path = (*path, "access_points", ap)
        line_path = (*path, field or "id")
        return f"{source.where(line_path)}: {format_path((*path, field) if field else path)}"

    return inventory, where


def sniff_delimiter(header: str) -> str:
    """`;` when the header has more semicolons than commas (Indonesian spreadsheets), a tab
    when it has more tabs than either (a spreadsheet's "Unicode text")."""
    if header.count("\t") > max(header.count(";"), header.count(",")):
        return "\t"
    return ";" if header.count(";") > header.count(",") else ","


def parse_csv(text: str, filename: str) -> tuple[Inventory, Locator]:
    """Inventory from CSV, one row per access point; hotspot columns repeat per AP."""
    header = text.splitlines()[0] if text.strip() else ""
    if not header:
        raise ConfigError(f"{filename}: the CSV file is empty")
    delimiter = sniff_delimiter(header)
    # newline=None: lines may end in \r\n, \n or a lone \r (a Mac spreadsheet's CSV)
    reader = csv.DictReader(io.StringIO(text, newline=None), delimiter=delimiter)
    hotspots: dict[str, dict[str, Any]] = {}
    rows_of: dict[str, list[int]] = {}
    try:
        columns = [c.strip() for c in reader.fieldnames or []]
        _check_columns(columns, filename)
        for row_number, raw in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
            if not any(row.values()):
                continue
            _add_row(hotspots, rows_of, row, row_number, delimiter)
    except csv.Error as exc:  # the one left: a cell over the csv module's size limit
        raise ConfigError(f"{filename}: line {reader.reader.line_num}: a cell is longer than "
                          f"{csv.field_size_limit():,} characters") from exc  # fmt: skip
    hotspot_ids = list(hotspots)
    try:
        inventory = Inventory.model_validate({"hotspots": list(hotspots.values())})
    except ValidationError as exc:
        raise _csv_error(exc, filename, hotspot_ids, rows_of) from exc

    def where(hotspot: int, ap: int | None, field: str | None = None) -> str:
        rows = rows_of[hotspot_ids[hotspot]]
        column = f": column {_column_for(['access_points'], field)}" if field else ""
        return f"{filename}: row {rows[ap or 0]}{column}"

    return inventory, where


def _check_columns(columns: list[str], filename: str) -> None:
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if unknown:
        raise ConfigError(
            f"{filename}: row 1: unknown column {unknown[0]!r} (known: {', '.join(CSV_COLUMNS)})"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ConfigError(f"{filename}: row 1: missing column {missing[0]!r}")


def _number(text: str, delimiter: str) -> str:
    """`-6,1754` -> `-6.1754` in `;`-separated files, where the comma is the decimal mark."""
    if delimiter == ";" and re.fullmatch(r"-?\d+,\d+", text):
        return text.replace(",", ".")
    return text


def _add_row(
    hotspots: dict[str, dict[str, Any]],
    rows_of: dict[str, list[int]],
    row: dict[str, str],
    row_number: int,
    delimiter: str,
) -> None:
    """Fold one CSV row into its hotspot (created by the first row naming it)."""
    hotspot_id = row.get("hotspot_id", "")
    if hotspot_id not in hotspots:
        hotspots[hotspot_id] = _hotspot_from_row(row, delimiter)
        rows_of[hotspot_id] = []
    rows_of[hotspot_id].append(row_number)
    ap: dict[str, Any] = {
        "id": row.get("ap_id", ""),
        "address": row.get("ap_address", ""),
        "credentials": row.get("snmp_credentials") or None,
    }
    for column in ("controller", "controller_ap"):
        if row.get(column):
            ap[column] = row[column]
    if row.get("profile"):
        ap["profile"] = row["profile"]
    if row.get("uplink"):
        ap["uplink"] = row["uplink"]
    hotspots[hotspot_id]["access_points"].append(ap)


def _hotspot_from_row(row: dict[str, str], delimiter: str) -> dict[str, Any]:
    hotspot: dict[str, Any] = {
        "id": row.get("hotspot_id", ""),
        **{k: row.get(k, "") for k in ("name", "kota", "kecamatan", "kelurahan", "rw", "provider")},
        "latitude": _number(row.get("latitude", ""), delimiter),
        "longitude": _number(row.get("longitude", ""), delimiter),
        "access_points": [],
    }
    sla = {k: _number(row[k], delimiter) for k in ("min_mbps", "capacity_users") if row.get(k)}
    if sla:
        hotspot["sla"] = sla
    if row.get("contact_name"):
        contact: dict[str, Any] = {"name": row["contact_name"]}
        for column, key in (
            ("contact_phone", "phone"),
            ("contact_whatsapp", "whatsapp"),
            ("contact_telegram", "telegram_chat_id"),
            ("contact_email", "email"),
            ("contact_language", "language"),
            ("contact_quiet_hours", "quiet_hours"),
        ):
            if row.get(column):
                contact[key] = row[column]
        if row.get("contact_channels"):  # names separated by spaces
            contact["channels"] = row["contact_channels"].split()
        hotspot["contacts"] = [contact]
    probe = {
        key: row[f"probe_{key}"]
        for key in ("ping", "http_url", "iperf3")
        if row.get(f"probe_{key}")
    }
    if probe:
        hotspot["probe"] = probe
    sessions: dict[str, Any] = {
        key: row[f"sessions_{key}"].split() for key in SESSION_LISTS if row.get(f"sessions_{key}")
    }
    for key in ("gateway", "hotspot_server"):
        if row.get(f"sessions_{key}"):
            sessions[key] = row[f"sessions_{key}"]
    if sessions:
        hotspot["sessions"] = sessions
    if row.get("users_from"):
        hotspot["users_from"] = row["users_from"]
    return hotspot


def _session_cells(hotspot: Hotspot) -> dict[str, str]:
    """The titik's session source and users_from as CSV cells (empty when not set)."""
    sessions = hotspot.sessions
    cells = {column: "" for column in SESSION_COLUMNS}
    cells["users_from"] = hotspot.users_from or ""
    if sessions is not None:
        for key in SESSION_LISTS:
            cells[f"sessions_{key}"] = " ".join(str(value) for value in getattr(sessions, key))
        cells["sessions_gateway"] = sessions.gateway or ""
        cells["sessions_hotspot_server"] = sessions.hotspot_server or ""
    return cells


def _csv_error(
    exc: ValidationError, filename: str, hotspot_ids: list[str], rows_of: dict[str, list[int]]
) -> ConfigError:
    """Translate model paths back to CSV row numbers and column names."""
    lines = []
    for error in exc.errors():
        loc = [p for p in error["loc"] if not (isinstance(p, str) and p[:1].isupper())]
        hotspot_index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
        rows = rows_of[hotspot_ids[hotspot_index]] if hotspot_ids else [2]
        row = rows[0]
        if "access_points" in loc:
            after = loc[loc.index("access_points") + 1 :]
            if after and isinstance(after[0], int) and after[0] < len(rows):
                row = rows[after[0]]
        field = str(loc[-1]) if loc and isinstance(loc[-1], str) else "row"
        column = _column_for(loc, field)
        message = {"extra_forbidden": "unknown column", "missing": "required"}.get(
            error["type"], error["msg"].removeprefix("Value error, ")
        )
        lines.append(f"{filename}: row {row}: column {column}: {message}")
    return ConfigError("\n".join(dict.fromkeys(lines)))


def _column_for(loc: list[Any], field: str) -> str:
    if "probe" in loc:
        return f"probe_{field}"
    if "sessions" in loc and field != "sessions":
        return f"sessions_{field}"
    if "contacts" in loc:
        return "contact_" + {"telegram_chat_id": "telegram"}.get(field, field)
    if "access_points" in loc:
        return {"id": "ap_id", "address": "ap_address", "credentials": "snmp_credentials"}.get(
            field, field
        )
    return _MODEL_FIELD_TO_COLUMN.get(field, field)


def to_yaml(inventory: Inventory) -> str:
    """The inventory as YAML, defaults left out."""
    data = inventory.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def to_csv(inventory: Inventory, delimiter: str = ",") -> str:
    """One row per AP, first contact only, in the column order import expects."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(CSV_COLUMNS), delimiter=delimiter, lineterminator="\n"
    )
    writer.writeheader()
    for hotspot, ap in inventory.access_points():
        contact = hotspot.contacts[0] if hotspot.contacts else None
        writer.writerow(
            {
                "hotspot_id": hotspot.id,
                "name": hotspot.name,
                "kota": hotspot.kota,
                "kecamatan": hotspot.kecamatan,
                "kelurahan": hotspot.kelurahan,
                "rw": hotspot.rw,
                "latitude": hotspot.latitude,
                "longitude": hotspot.longitude,
                "provider": hotspot.provider,
                "min_mbps": hotspot.sla.min_mbps,
                "capacity_users": hotspot.sla.capacity_users,
                "contact_name": contact.name if contact else "",
                "contact_phone": (contact.phone or "") if contact else "",
                "contact_whatsapp": (contact.whatsapp or "") if contact else "",
                "contact_telegram": (contact.telegram_chat_id or "") if contact else "",
                "contact_email": (contact.email or "") if contact else "",
                "contact_language": contact.language
                if contact and contact.language != "id"
                else "",
                "contact_quiet_hours": (contact.quiet_hours or "") if contact else "",
                "contact_channels": " ".join(contact.channels or ()) if contact else "",
                "ap_id": ap.id,
                "ap_address": ap.address,
                "snmp_credentials": ap.credentials or "",
                "profile": ap.profile,
                "uplink": ap.uplink or "",
                "controller": ap.controller or "",
                "controller_ap": ap.controller_ap or "",
                "probe_ping": hotspot.probe.ping or "",
                "probe_http_url": hotspot.probe.http_url or "",
                "probe_iperf3": hotspot.probe.iperf3 or "",
                **_session_cells(hotspot),
            }
        )
    return out.getvalue()
