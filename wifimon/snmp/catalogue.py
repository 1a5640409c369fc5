"""The supported-device table: what each profile detects, counts and leaves unknown.

`wifimon profiles list` prints it, and README's vendor page is this table as Markdown, so
the page cannot drift from the profiles it describes.
"""

from __future__ import annotations

from dataclasses import dataclass

from wifimon.snmp.profiles import DetectWay, Profile, ProfileSet, ValueSource


@dataclass(frozen=True, slots=True)
class CatalogueRow:
    """One profile as a person reads it."""

    name: str
    vendor: str
    family: str
    detect: str
    count_from: str
    per_ap: str
    unknown: str


def catalogue(profiles: ProfileSet) -> list[CatalogueRow]:
    """A row per profile, by vendor then name."""
    rows = [_row(p) for p in profiles.profiles.values()]
    return sorted(rows, key=lambda r: (r.vendor.lower(), r.name))


def _row(profile: Profile) -> CatalogueRow:
    per_ap = ""
    if profile.managed_aps is not None:
        spec = profile.managed_aps
        ident = " and ".join(w for w, given in (("name", spec.name), ("MAC", spec.mac)) if given)
        per_ap = f"{spec.clients} ({spec.count} per AP, by {ident})"
    return CatalogueRow(
        name=profile.name,
        vendor=profile.vendor,
        family=profile.family,
        detect=" | ".join(_way(w) for w in profile.detect) or "fallback",
        count_from=" ; ".join(_source(s) for s in profile.clients) or "-",
        per_ap=per_ap,
        unknown=profile.unknown or ("client count" if not profile.clients else ""),
    )


def _way(way: DetectWay) -> str:
    parts = [f"sysObjectID {' / '.join(way.sys_object_id)}"] if way.sys_object_id else []
    if way.sys_descr:
        parts.append(f"sysDescr ~ {' / '.join(way.sys_descr)}")
    if way.probe:
        parts.append(f"probe {' + '.join(way.probe)}")
    return " & ".join(parts)


def _source(source: ValueSource) -> str:
    if source.scalar:
        return source.scalar
    how = "rows of" if source.rows else "sum of"
    return f"{how} {source.table}"


def as_text(rows: list[CatalogueRow]) -> str:
    """A terminal listing: one block per profile."""
    blocks = []
    for row in rows:
        lines = [f"{row.name}  ({row.vendor}: {row.family or '-'})", f"  detect:  {row.detect}"]
        lines.append(f"  clients: {row.count_from}")
        if row.per_ap:
            lines.append(f"  per AP:  {row.per_ap}")
        if row.unknown:
            lines.append(f"  unknown: {row.unknown}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


MARKDOWN_SOURCES = 3  # OIDs listed per profile in the README table; `profiles list` has all


def as_markdown(profiles: ProfileSet) -> str:
    """The README table: vendor and models, what counts (objects and OIDs), what is unknown."""
    head = "| profile | vendor: models | client count from | per AP | unknown |"
    lines = [head, "| --- | --- | --- | --- | --- |"]
    for row in catalogue(profiles):
        profile = profiles.get(row.name)
        oids = [_source(s) for s in profile.clients]
        if len(oids) > MARKDOWN_SOURCES:
            oids = [*oids[:MARKDOWN_SOURCES], f"+{len(oids) - MARKDOWN_SOURCES} more"]
        counts = profile.description
        if oids:
            counts += " (`" + "`; `".join(oids) + "`)"
        cells = [
            f"`{row.name}`",
            f"{row.vendor}: {row.family or '-'}",
            counts,
            row.per_ap,
            row.unknown,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """One Markdown table cell: pipes escaped, newlines folded, '-' when empty."""
    return " ".join(text.replace("|", "\\|").split()) or "-"
