"""Alert annotations from Jinja2 templates, rendered in a sandbox with the alert's values.

A template sees the titik's or AP's values by name (`{{ download_mbps }}`, `{{ sla.min_mbps }}`),
`labels`, and for grouped alerts `count`, `members` and `providers`. Filters: `angka` (a
number the Indonesian way, `42,5`), `mbps` and `wib` (a Unix time as `23 Nov 2026 14:05 WIB`).
Templates are checked when the rules load: a misspelt name is an error there, not a blank in
a message to an RW administrator.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from wifimon.alerts.matchers import LABELS

log = logging.getLogger(__name__)
WIB = ZoneInfo("Asia/Jakarta")
MONTHS_ID = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_EXPONENT = 64
MAX_REPEAT = 1_000


def angka(value: object, digits: int = 1) -> str:
    """A number with a decimal comma and dotted thousands, as Indonesians write it."""
    if value is None:
        return "-"
    if not isinstance(value, int | float):
        return str(value)
    text = f"{value:,.{digits}f}" if digits else f"{value:,.0f}"
    text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    if digits and text.endswith("," + "0" * digits):
        text = text[: -(digits + 1)]
    return text


def number(value: object, digits: int = 1) -> str:
    """A number as English readers write it (1,234.5), for English messages."""
    if value is None:
        return "-"
    if not isinstance(value, int | float):
        return str(value)
    text = f"{value:,.{digits}f}"
    if digits and text.endswith("." + "0" * digits):
        text = text[: -(digits + 1)]
    return text


def wib(value: object, language: str = "id") -> str:
    if not isinstance(value, int | float):
        return "-"
    local = datetime.fromtimestamp(value, WIB)
    months = MONTHS_ID if language == "id" else MONTHS_EN
    return f"{local.day} {months[local.month - 1]} {local.year} {local:%H:%M} WIB"


class _Sandbox(SandboxedEnvironment):
    """Jinja2's sandbox, also refusing huge repetitions and powers (`'a' * 10 ** 9`)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is too large")
        if operator == "*" and any(isinstance(x, str | list | tuple) for x in (left, right)):
            count = right if isinstance(right, int) else left
            if isinstance(count, int) and count > MAX_REPEAT:
                raise SecurityError(f"repeating {count} times is too many")
        return super().call_binop(context, operator, left, right)


def _environment() -> SandboxedEnvironment:
    environment = _Sandbox(undefined=StrictUndefined, autoescape=False)
    environment.filters["angka"] = angka
    environment.filters["mbps"] = lambda v: f"{angka(v)} Mbps"
    environment.filters["wib"] = wib
    environment.filters["number"] = number
    environment.filters["mbps_en"] = lambda v: f"{number(v)} Mbps"
    return environment


ENVIRONMENT = _environment()


def context(values: Mapping[str, object], labels: Mapping[str, str], **extra: Any) -> dict:
    """Values by name, dotted names as nested objects (`sla.min_mbps`), labels, extras."""
    result: dict[str, Any] = {"labels": dict(labels)}
    for name, value in values.items():
        head, dot, tail = name.partition(".")
        if dot:
            result.setdefault(head, {})[tail] = value
        else:
            result[name] = value
    result.update(extra)
    return result


class Template:
    """One annotation template, compiled and checked once."""

    def __init__(
        self, text: str, names: Iterable[str], grouped: bool = False, labels: Iterable[str] = ()
    ) -> None:
        self.text = text
        self.template = ENVIRONMENT.from_string(text)  # raises TemplateSyntaxError
        # the names it reads (`sla` for `sla.min_mbps`): only those are kept for rendering
        self.names = frozenset(meta.find_undeclared_variables(ENVIRONMENT.parse(text)))
        sample = {name: 1.0 for name in names}
        sample_labels = dict.fromkeys((*LABELS, *labels), "x")
        extra = {"count": 2, "members": ["a", "b"], "providers": ["p"]} if grouped else {}
        self.template.render(context(sample, sample_labels, **extra))  # unknown names raise

    def render(self, values: Mapping[str, object], labels: Mapping[str, str], **extra: Any) -> str:
        """The text for one alert; a failure logs and returns the template as written."""
        try:
            return self.template.render(context(values, labels, **extra))
        except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
            log.error("annotation template failed template=%r error=%s", self.text, exc)
            return self.text


def check(
    text: str, names: Iterable[str], grouped: bool = False, labels: Iterable[str] = ()
) -> Template:
    """Compile a template or raise ValueError with the reason (for the rules loader)."""
    try:
        return Template(text, names, grouped, labels)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f"line {line}: " if line else ""
        raise ValueError(f"template: {where}{exc.message or exc}") from exc
    except (TypeError, ArithmeticError) as exc:
        raise ValueError(f"template: {exc}") from exc
