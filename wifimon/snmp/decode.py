"""Pure decoding of varbinds into measurements: no I/O, fully testable from recordings."""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from wifimon.measurements import (
    ClientReading,
    InterfaceReading,
    ManagedApClients,
    PollIssue,
    RadioClients,
)
from wifimon.snmp.profiles import (
    SYS_DESCR,
    SYS_NAME,
    SYS_OBJECT_ID,
    ManagedAps,
    Profile,
    ValueSource,
)
from wifimon.snmp.types import NUMERIC_KINDS, SnmpValue, VarBind

IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_SPEED = "1.3.6.1.2.1.2.2.1.5"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"
IF_OUT_OCTETS = "1.3.6.1.2.1.2.2.1.16"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"
IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"
INTERFACE_COLUMNS = (
    IF_NAME,
    IF_DESCR,
    IF_OPER_STATUS,
    IF_HC_IN_OCTETS,
    IF_HC_OUT_OCTETS,
    IF_IN_OCTETS,
    IF_OUT_OCTETS,
    IF_HIGH_SPEED,
    IF_SPEED,
)
Walks = Mapping[str, Sequence[VarBind]]


class DecodeError(ValueError):
    """A value that cannot mean what the profile says (e.g. text where a number belongs);
    `reason` is the poll-error label: `wrong_type` or `malformed`."""

    def __init__(self, detail: str, reason: str = "malformed") -> None:
        super().__init__(detail)
        self.reason = reason


COUNT_KINDS = frozenset({"integer", "gauge32", "counter32"})  # what a MIB declares counts as
MAX_NUMBER_TEXT = 20  # digits of a number written as text (a 64-bit value has at most 20)


def as_text(value: SnmpValue | None) -> str | None:
    """Printable text of an OCTET STRING (hex-safe), None when absent."""
    if value is None or value.is_exception or value.value is None:
        return None
    if isinstance(value.value, bytes):
        # Firmware puts CR/LF and padding inside descriptions: fold all whitespace runs.
        return " ".join(value.value.decode("utf-8", errors="replace").split())
    return str(value.value)


def as_number(value: SnmpValue) -> int:
    """An integer from a numeric type, or from a string that holds one (extend scripts)."""
    if value.kind in NUMERIC_KINDS and isinstance(value.value, int):
        return value.value
    if value.kind == "octets" and isinstance(value.value, bytes):
        text = value.value[: MAX_NUMBER_TEXT + 8].decode("ascii", errors="replace").strip()
        if len(value.value) <= MAX_NUMBER_TEXT + 8 and re.fullmatch(r"-?\d{1,20}", text):
            return int(text)
        raise DecodeError(f"text {text[:20]!r} where a number was expected", "wrong_type")
    raise DecodeError(f"{value.kind} where a number was expected", "wrong_type")


def as_count(value: SnmpValue, declared: str | None = None) -> int:
    """A count: Integer32, Gauge32 or Counter32 (firmware that types counts as counters), the
    type the profile declares (Counter64 in some MIBs), or a number written as text; any other
    type (a TimeTicks, an undeclared Counter64) is the wrong object."""
    if value.kind in NUMERIC_KINDS and value.kind not in COUNT_KINDS and value.kind != declared:
        raise DecodeError(f"{value.kind} where a count was expected", "wrong_type")
    return as_number(value)


def column(walk: Iterable[VarBind], root: str) -> dict[tuple[int, ...], SnmpValue]:
    """Rows of one column keyed by index; order-independent, exception values and OIDs
    that are not under `root` dropped."""
    prefix = root.strip(".") + "."
    rows: dict[tuple[int, ...], SnmpValue] = {}
    for oid, value in walk:
        index = _index(oid, prefix)
        if index is not None and not value.is_exception:
            rows[index] = value
    return rows


def _index(oid: str, prefix: str) -> tuple[int, ...] | None:
    """The index arcs of an OID under a column, None when it is not one."""
    if not oid.startswith(prefix):
        return None
    parts = oid[len(prefix) :].split(".")
    if not all(part.isdigit() and part.isascii() for part in parts):
        return None
    return tuple(map(int, parts))


def system_info(scalars: Mapping[str, SnmpValue]) -> tuple[str | None, str | None, str | None]:
    """sysName, sysDescr and sysObjectID when the agent has them."""
    oid_value = scalars.get(SYS_OBJECT_ID)
    object_id = str(oid_value.value) if oid_value and oid_value.kind == "oid" else None
    return as_text(scalars.get(SYS_NAME)), as_text(scalars.get(SYS_DESCR)), object_id


def uptime_seconds(profile: Profile, scalars: Mapping[str, SnmpValue]) -> float | None:
    """Uptime from the first source the agent answers."""
    for source in profile.uptime:
        value = scalars.get(source.oid)
        if value is None or value.is_exception:
            continue
        try:
            number = as_number(value)
        except DecodeError:
            continue
        return number / 100.0 if source.unit == "ticks" else float(number)
    return None


def interfaces(profile: Profile, walks: Walks, uplink: str | None = None) -> list[InterfaceReading]:
    """IF-MIB rows joined by ifIndex, preferring 64-bit counters and ifName, with roles."""
    cols = {root: column(walks.get(root, ()), root) for root in INTERFACE_COLUMNS}
    indexes = sorted({idx for rows in cols.values() for idx in rows if len(idx) == 1})
    readings = [_interface(profile, idx[0], cols) for idx in indexes]
    return [replace(r, role=interface_role(profile, r.name, uplink)) for r in readings]


def interface_role(profile: Profile, name: str, uplink: str | None) -> str | None:
    """`uplink` for the inventory's uplink (else the profile's pattern), `wireless` for radios."""
    if uplink is not None:
        if name == uplink:
            return "uplink"
    elif re.match(profile.interfaces.uplink, name):
        return "uplink"
    if re.match(profile.interfaces.wireless, name):
        return "wireless"
    return None


def _interface(
    profile: Profile, index: int, cols: Mapping[str, Mapping[tuple[int, ...], SnmpValue]]
) -> InterfaceReading:
    """One interface from the joined columns."""
    key = (index,)
    name = as_text(cols[IF_NAME].get(key)) or as_text(cols[IF_DESCR].get(key)) or f"if{index}"
    oper = cols[IF_OPER_STATUS].get(key)
    in_octets, out_octets, bits = _octets(cols, key)
    return InterfaceReading(
        index=index,
        name=name,
        oper_up=(_safe_number(oper) == 1) if oper is not None else None,
        speed_mbps=_speed_mbps(profile, cols, key),
        in_octets=in_octets,
        out_octets=out_octets,
        counter_bits=bits,
    )


def _octets(
    cols: Mapping[str, Mapping[tuple[int, ...], SnmpValue]], key: tuple[int, ...]
) -> tuple[int | None, int | None, int | None]:
    """(in, out, width): 64-bit ifHC counters when both exist, else 32-bit ones; a counter
    of another SNMP type than IF-MIB declares is not read (its width would be a guess)."""
    hc_in, hc_out = cols[IF_HC_IN_OCTETS].get(key), cols[IF_HC_OUT_OCTETS].get(key)
    if _of_kind(hc_in, "counter64") and _of_kind(hc_out, "counter64"):
        return _safe_number(hc_in), _safe_number(hc_out), 64
    lo_in, lo_out = cols[IF_IN_OCTETS].get(key), cols[IF_OUT_OCTETS].get(key)
    if _of_kind(lo_in, "counter32") and _of_kind(lo_out, "counter32"):
        return _safe_number(lo_in), _safe_number(lo_out), 32
    return None, None, None


def _of_kind(value: SnmpValue | None, kind: str) -> bool:
    return value is not None and value.kind == kind


def _speed_mbps(
    profile: Profile, cols: Mapping[str, Mapping[tuple[int, ...], SnmpValue]], key: tuple[int, ...]
) -> float | None:
    """Link speed in Mbit/s; ifHighSpeed unless zero/absent, unit per profile."""
    high = _safe_number(cols[IF_HIGH_SPEED].get(key))
    if high:
        return high / 1e6 if profile.interfaces.high_speed_unit == "bps" else float(high)
    low = _safe_number(cols[IF_SPEED].get(key))
    return low / 1e6 if low else None


def _safe_number(value: SnmpValue | None) -> int | None:
    if value is None:
        return None
    try:
        return as_number(value)
    except DecodeError:
        return None


def clients(
    profile: Profile,
    scalars: Mapping[str, SnmpValue],
    walks: Walks,
    if_names: Mapping[int, str],
) -> ClientReading:
    """Client total and breakdown from the first profile sources the agent answers."""
    if not profile.clients:
        return ClientReading(None, issue=PollIssue("unsupported", "profile reads no client count"))
    total, breakdown, issue = _first_reading(profile.clients, scalars, walks, if_names)
    if profile.breakdown:
        _, extra, extra_issue = _first_reading(profile.breakdown, scalars, walks, if_names)
        breakdown = extra or breakdown
        issue = issue or (extra_issue if total is None else None)
    if total is None:
        return ClientReading(None, (), issue or PollIssue("noSuchObject", "no client count"))
    return ClientReading(total, tuple(breakdown))


def _first_reading(
    sources: Sequence[ValueSource],
    scalars: Mapping[str, SnmpValue],
    walks: Walks,
    if_names: Mapping[int, str],
) -> tuple[int | None, list[RadioClients], PollIssue | None]:
    """Try sources in order; the first that yields wins, the last failure is reported."""
    issue: PollIssue | None = None
    for source in sources:
        try:
            total, breakdown = _read_source(source, scalars, walks, if_names)
        except DecodeError as exc:
            issue = PollIssue(exc.reason, str(exc))
            continue
        if total is not None:
            return total, breakdown, None
    return None, [], issue


def _read_source(
    source: ValueSource,
    scalars: Mapping[str, SnmpValue],
    walks: Walks,
    if_names: Mapping[int, str],
) -> tuple[int | None, list[RadioClients]]:
    """(total, breakdown) from one source; (None, []) when the agent lacks it."""
    if source.scalar:
        value = scalars.get(source.scalar)
        if value is None or value.is_exception:
            return None, []
        return as_count(value, source.type), []
    root = source.table
    assert root is not None
    rows = column(walks.get(root, ()), root)
    if not rows:
        return (0 if _known_empty(source, walks) else None), []
    groups = _group_rows(source, rows, walks)
    if not groups:
        return None, []
    if set(groups) == {TOTAL_ONLY}:
        return groups[TOTAL_ONLY][1], []
    labelled = [
        RadioClients(_label(source, key, name, walks, if_names), source.kind, count)
        for key, (name, count) in sorted(groups.items())
    ]
    return sum(item.clients for item in labelled), _unique_labels(labelled)


def sessions(
    source: ValueSource, scalars: Mapping[str, SnmpValue], walks: Walks
) -> dict[str, int] | None:
    """Portal sessions per server label; a table walked whole and empty is no sessions
    (the gateway answered), a table not walked is unknown (None)."""
    if source.table is not None and source.table not in walks:
        return None
    total, breakdown = _read_source(source, scalars, walks, {})
    if total is None:
        return {} if source.table is not None else None
    if not breakdown:
        return {"": total}
    return {item.label: item.clients for item in breakdown}


def sessions_by_pool(
    profile: Profile, walks: Walks, pools: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> dict[str, int] | None:
    """Portal sessions per client address pool (a pool or VLAN subnet per titik), None when
    the address column was not walked whole; a session in none of the pools is not
    counted. The addresses themselves go no further than this function."""
    root = profile.session_addresses
    if root is None or root not in walks:
        return None
    counts = dict.fromkeys(pools, 0)
    for value in column(walks[root], root).values():
        address = _address(value)
        pool = next((p for p in pools if address is not None and address in p), None)
        if pool is not None:
            counts[pool] += 1
    return {str(pool): n for pool, n in counts.items()}


def _address(value: SnmpValue) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IpAddress (dotted text) or an InetAddress (4 or 16 octets); None otherwise."""
    try:
        if value.kind == "ipaddress" and isinstance(value.value, str):
            return ipaddress.ip_address(value.value)
        if isinstance(value.value, bytes) and len(value.value) in (4, 16):
            return ipaddress.ip_address(value.value)
    except ValueError:
        return None
    return None


def _known_empty(source: ValueSource, walks: Walks) -> bool:
    """An empty client table means zero only where the profile names a table whose rows
    show the firmware keeps it (e.g. radios present, stations none)."""
    witness = source.zero_when_present
    return bool(witness and column(walks.get(witness, ()), witness))


def _unique_labels(items: list[RadioClients]) -> list[RadioClients]:
    """Suffix repeated labels (two SSIDs with one name) so each series stays distinct."""
    seen: dict[str, int] = defaultdict(int)
    for item in items:
        seen[item.label] += 1
    result: list[RadioClients] = []
    used: dict[str, int] = defaultdict(int)
    for item in items:
        if seen[item.label] > 1:
            used[item.label] += 1
            item = RadioClients(f"{item.label}#{used[item.label]}", item.kind, item.clients)
        result.append(item)
    return result


TOTAL_ONLY: tuple[int, ...] = ()  # the one group of counted rows that have no grouping


def _group_rows(
    source: ValueSource, rows: Mapping[tuple[int, ...], SnmpValue], walks: Walks
) -> dict[tuple[int, ...], tuple[str | None, int]]:
    """Rows reduced to groups: summed values (column) or counted rows (rows).

    A column keeps a group per row unless grouped; counted rows (one per client) form a
    single total unless grouped, never a breakdown entry per client.
    """
    pattern = re.compile(source.name_match) if source.name_match else None
    by_text = _texts(walks, source.group_by_column) if source.group_by_column else None
    first_of_text: dict[str, tuple[int, ...]] = {}
    groups: dict[tuple[int, ...], tuple[str | None, int]] = {}
    counts: dict[tuple[int, ...], int] = defaultdict(int)
    for index, value in rows.items():
        name = decode_string_index(index) if source.index_is_string else None
        if pattern is not None:
            match = pattern.fullmatch(name or "")
            if match is None:
                continue
            name = match.group(1) if match.groups() else name
        if by_text is not None and index in by_text:
            name = by_text[index]
            key = first_of_text.setdefault(name, index)
        elif by_text is not None:
            key = index  # no text to group by (an empty SSID): a group of its own
        elif source.group_by_index is not None:
            key = (index[source.group_by_index],)
        else:
            key = TOTAL_ONLY if source.rows else index
        amount = as_count(value, source.type) if source.column else 1
        counts[key] += amount
        groups[key] = (name, counts[key])
    return groups


def _texts(walks: Walks, root: str) -> dict[tuple[int, ...], str]:
    """A text column by row index (e.g. each client's SSID)."""
    found = {index: as_text(value) for index, value in column(walks.get(root, ()), root).items()}
    return {index: text for index, text in found.items() if text}


def _label(
    source: ValueSource,
    key: tuple[int, ...],
    name: str | None,
    walks: Walks,
    if_names: Mapping[int, str],
) -> str:
    """Human label of a breakdown row."""
    if (source.label == "name" or source.group_by_column) and name:
        return name
    if source.label == "ifname" and len(key) == 1 and key[0] in if_names:
        return if_names[key[0]]
    if source.label == "column" and source.label_column:
        labels = column(walks.get(source.label_column, ()), source.label_column)
        text = as_text(labels.get(key))
        if text:
            return text
    return ".".join(str(part) for part in key)


def decode_string_index(index: tuple[int, ...]) -> str | None:
    """A length-prefixed string index (e.g. NET-SNMP-EXTEND names), None if not one."""
    if not index or index[0] != len(index) - 1:
        return None
    if any(part > 255 for part in index[1:]):
        return None
    return bytes(index[1:]).decode("utf-8", errors="replace")


def cpu_percent(profile: Profile, scalars: Mapping[str, SnmpValue], walks: Walks) -> float | None:
    """CPU load from a scalar, or the average of a per-core column."""
    for source in profile.cpu:
        try:
            if source.scalar:
                value = scalars.get(source.scalar)
                if value is not None and not value.is_exception:
                    return float(as_number(value))
            elif source.column:
                rows = column(walks.get(source.column, ()), source.column)
                numbers = [as_number(v) for v in rows.values()]
                if numbers:
                    return sum(numbers) / len(numbers)
        except DecodeError:
            continue
    return None


def memory_percent(profile: Profile, scalars: Mapping[str, SnmpValue]) -> float | None:
    """Memory used as a percentage, from total and used/free scalars."""
    mem = profile.memory
    if mem is None:
        return None
    total = _safe_number(_present(scalars.get(mem.total)))
    part = _safe_number(_present(scalars.get(mem.used or mem.free or "")))
    if not total or part is None:
        return None
    used = part if mem.used else total - part
    return 100.0 * used / total  # outside 0..100 (used > total) is refused by validation


def _present(value: SnmpValue | None) -> SnmpValue | None:
    return None if value is None or value.is_exception else value


def managed_aps(spec: ManagedAps, walks: Walks) -> tuple[ManagedApClients, ...] | None:
    """Clients per AP of a controller, keyed by the AP part of the index; None when the
    controller gave no per-AP table (unknown, not zero APs)."""
    rows = column(walks.get(spec.clients, ()), spec.clients)
    if not rows:
        return None
    keys = column(walks.get(spec.key_column, ()), spec.key_column) if spec.key_column else {}
    counts: dict[tuple[int, ...], int | None] = defaultdict(int)
    for index, value in rows.items():
        key = _ap_key(spec, index, keys)
        if key is not None:
            amount = 1 if spec.count == "rows" else _count_or_none(value, spec.type)
            counts[key] = _add(counts[key], amount)
    names, macs = _table(walks, spec.name), _table(walks, spec.mac)
    return tuple(
        ManagedApClients(
            key=".".join(map(str, key)),
            name=_key_text(key) if spec.name == "key" else as_text(names.get(key)),
            mac=_index_mac(key) if spec.mac == "key" else as_mac(macs.get(key)),
            clients=count,
        )
        for key, count in sorted(counts.items())
    )


def _count_or_none(value: SnmpValue, declared: str | None) -> int | None:
    """One AP's count; a value of the wrong type makes that AP unknown, not the table."""
    try:
        return as_count(value, declared)
    except DecodeError:
        return None


def _add(total: int | None, amount: int | None) -> int | None:
    return None if total is None or amount is None else total + amount


def _ap_key(
    spec: ManagedAps, index: tuple[int, ...], keys: Mapping[tuple[int, ...], SnmpValue]
) -> tuple[int, ...] | None:
    """The AP a row belongs to, as index arcs (a key column's text or octets as bytes)."""
    if spec.key_column is None:
        return index[: spec.key_arcs] if spec.key_arcs else index
    value = keys.get(index)
    if value is None or value.is_exception:
        return None  # a row whose AP is not said: counted for no AP
    if isinstance(value.value, bytes):
        return tuple(value.value) or None
    return (value.value,) if isinstance(value.value, int) else None


def _key_text(key: tuple[int, ...]) -> str | None:
    """An AP key that was a name: its text again."""
    return bytes(key).decode("utf-8", errors="replace") if all(0 <= k < 256 for k in key) else None


def _table(walks: Walks, root: str | None) -> dict[tuple[int, ...], SnmpValue]:
    """A walked column by index; empty for none (or `key`, which is no column)."""
    return column(walks.get(root, ()), root) if root and root != "key" else {}


def _index_mac(key: tuple[int, ...]) -> str | None:
    """A MAC address written as the last six arcs of an index."""
    if len(key) < 6 or any(part > 255 for part in key[-6:]):
        return None
    return ":".join(f"{part:02x}" for part in key[-6:])


def as_mac(value: SnmpValue | None) -> str | None:
    """A MAC from six raw octets or from text such as `AA-BB-CC-DD-EE-FF`, lower case."""
    if value is None or value.is_exception or not isinstance(value.value, bytes):
        return None
    raw = value.value
    if len(raw) == 6:
        return ":".join(f"{b:02x}" for b in raw)
    return normalise_mac(raw.decode("ascii", errors="replace"))


def normalise_mac(text: str) -> str | None:
    """`aa:bb:cc:dd:ee:ff` from the usual spellings (colons, dashes, dots, none)."""
    digits = re.sub(r"[^0-9a-fA-F]", "", text)
    if len(digits) != 12 or re.search(r"[^0-9a-fA-F:.\- ]", text.strip()):
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).lower()


def walk_groups(profile: Profile, session_addresses: bool = False) -> list[list[str]]:
    """The tables a poll walks, as (standard MIB columns, vendor columns); the session
    address column only when asked (a gateway whose titik are told apart by pool)."""
    standard = list(INTERFACE_COLUMNS) if profile.interfaces.enabled else []
    vendor = [root for root in walk_roots(profile) if root not in standard]
    if session_addresses and profile.session_addresses:
        vendor.append(profile.session_addresses)
    return [group for group in (standard, vendor) if group]


def walk_roots(profile: Profile) -> list[str]:
    """Subtrees a poll walks for this profile (interfaces, cpu, client tables, labels)."""
    roots: list[str] = list(INTERFACE_COLUMNS) if profile.interfaces.enabled else []
    for source in profile.sources():
        if source.table:
            roots.append(source.table)
        if source.label_column:
            roots.append(source.label_column)
        if source.zero_when_present:
            roots.append(source.zero_when_present)
        if source.group_by_column:
            roots.append(source.group_by_column)
    if profile.managed_aps is not None:
        roots.extend(profile.managed_aps.roots())
    return list(dict.fromkeys(roots))
