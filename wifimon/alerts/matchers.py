"""Label matchers shared by silences and routes: `label: value` or `label: ~regex`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# The labels an alert can carry, in the order people read them.
LABELS = ("alertname", "severity", "hotspot", "ap", "kota", "kecamatan", "kelurahan", "rw",
          "provider")  # fmt: skip


def check_matchers(matchers: dict[str, str]) -> dict[str, str]:
    """Known label names and compilable regexes; raises ValueError naming the problem."""
    for name, value in matchers.items():
        if name not in LABELS:
            raise ValueError(f"cannot match on {name!r} (use {', '.join(LABELS)})")
        if value.startswith("~"):
            try:
                re.compile(value[1:])
            except re.error as exc:
                raise ValueError(f"{name}: bad regular expression: {exc}") from exc
    return matchers


def labels_match(matchers: Iterable[tuple[str, str]], labels: Mapping[str, str]) -> bool:
    """Every matcher holds: exact value, or `~regex` matching the whole value."""
    for name, wanted in matchers:
        value = labels.get(name, "")
        if wanted.startswith("~"):
            if re.fullmatch(wanted[1:], value) is None:
                return False
        elif value != wanted:
            return False
    return True
