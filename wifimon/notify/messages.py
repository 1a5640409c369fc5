"""The words of a message, from Jinja2 templates in a sandbox, in the recipient's language
(Bahasa Indonesia by default, English): what is wrong, where, since when, what to try.

A template's first line is the subject; the body follows a blank line. The shipped
templates live beside this module; `notifications.templates_dir` may override any of them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    pass_context,
)
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from wifimon.alerts.dispatch import Notification
from wifimon.alerts.templates import WIB, wib
from wifimon.textfile import read_operator_text

LANGUAGES = ("id", "en")
UNITS = {"id": ("hari", "jam", "menit", "detik"), "en": ("d", "h", "min", "s")}


@pass_context
def _wib(context: Context, value: object) -> str:
    return wib(value, context.get("language", "id"))


@pass_context
def _duration(context: Context, seconds: object) -> str:
    """3900 -> "1 jam 5 menit" / "1 h 5 min": the two largest units."""
    if not isinstance(seconds, int | float):
        return "-"
    units = UNITS[context.get("language", "id")]
    left, parts = int(max(0, seconds)), list[str]()
    for unit, size in zip(units, (86_400, 3600, 60, 1), strict=True):
        if left >= size or (size == 1 and not parts):
            parts.append(f"{left // size} {unit}")
            left %= size
    return " ".join(parts[:2])


def _clock(value: object) -> str:
    """ "14:05 WIB": the time of day only, for SMS."""
    if not isinstance(value, int | float):
        return "-"
    return f"{datetime.fromtimestamp(value, WIB):%H:%M} WIB"


def place(labels: Mapping[str, str], language: str) -> str:
    """ "titik jp-glr-01, RW 05, Kel. Galur, Kec. Johar Baru, Jakarta Pusat"."""
    words = {"id": ("titik", "AP"), "en": ("hotspot", "AP")}[language]
    parts = []
    if labels.get("ap"):
        parts.append(f"{words[1]} {labels['ap']}")
    if labels.get("hotspot"):
        parts.append(f"{words[0]} {labels['hotspot']}")
    if labels.get("rw"):
        parts.append(f"RW {labels['rw']}")
    if labels.get("kelurahan"):
        parts.append(f"Kel. {labels['kelurahan']}")
    if labels.get("kecamatan"):
        parts.append(f"Kec. {labels['kecamatan']}")
    if labels.get("kota"):
        parts.append(labels["kota"])
    return ", ".join(parts)


class OperatorTemplates(FileSystemLoader):
    """`notifications.templates_dir`, each file read by the rule for operator files (UTF-8,
    or a byte-order mark's encoding; otherwise a ConfigError naming file and line)."""

    def __init__(self, directory: Path) -> None:
        super().__init__(str(directory), encoding="latin-1")  # finds files, cannot fail

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Any]:
        _, filename, uptodate = super().get_source(environment, template)
        return read_operator_text(Path(filename)), filename, uptodate


class Renderer:
    """Renders notifications, digests and test messages."""

    def __init__(self, templates_dir: Path | None = None, grafana_url: str | None = None) -> None:
        loaders: list[Any] = [PackageLoader("wifimon.notify", "templates")]
        if templates_dir is not None:
            loaders.insert(0, OperatorTemplates(templates_dir))
        self.environment = SandboxedEnvironment(
            loader=ChoiceLoader(loaders), undefined=StrictUndefined, autoescape=False,
            keep_trailing_newline=False)  # fmt: skip
        self.environment.filters.update(wib=_wib, lama=_duration, jam=_clock)
        self.grafana_url = grafana_url.rstrip("/") if grafana_url else None

    def _split(self, name: str, language: str, **context: Any) -> tuple[str, str]:
        text = self.environment.get_template(f"{name}.{language}.j2").render(
            language=language, **context)  # fmt: skip
        subject, _, body = text.strip().partition("\n\n")
        return subject.strip(), body.strip()

    def message(self, note: Notification, role: str, language: str, form: str = "message"
                ) -> tuple[str, str]:  # fmt: skip
        """(subject, body) of one notification for one reader; `form`: message or sms."""
        if form == "alertmanager":
            return note.alert_id, json.dumps(alertmanager_alert(note), ensure_ascii=False)
        annotations = note.annotations
        suffix = "" if language == "id" else f"_{language}"
        summary = (annotations.get(f"summary{suffix}") or annotations.get("summary")
                   or note.labels.get("alertname", note.alert_id))  # fmt: skip
        description = annotations.get(f"description{suffix}") or annotations.get("description")
        fired_at = note.fired_at if note.fired_at is not None else note.at
        hotspot = note.labels.get("hotspot")
        dashboard = None
        if role == "noc" and self.grafana_url and hotspot:
            dashboard = f"{self.grafana_url}/d/wifimon-titik/wifimon-titik?var-hotspot={hotspot}"
        return self._split(
            "sms" if form == "sms" else "message", language, kind=note.kind,
            alert_id=note.alert_id, summary=summary, description=description or "",
            place=place(note.labels, language), fired_at=fired_at, at=note.at,
            duration=note.at - fired_at, dashboard=dashboard, role=role,
            severity=note.labels.get("severity", ""), members=list(note.members))  # fmt: skip

    def digest(self, items: Sequence[Mapping[str, Any]], language: str, limit: int,
               per: float) -> tuple[str, str]:  # fmt: skip
        """One message standing for the messages a rate limit held back."""
        return self._split("digest", language, items=items, limit=limit, per=per)

    def test(self, channel: str, language: str, at: float) -> tuple[str, str]:
        return self._split("test", language, channel=channel, at=at)

    def check(self) -> None:
        """Render every template once with sample data (a broken override fails at start)."""
        sample = Notification("TitikMati:x", "firing", ("noc",), 0.0, {"hotspot": "x"},
                              {"summary": "x"}, (), 0.0)  # fmt: skip
        for language in LANGUAGES:
            for form in ("message", "sms"):
                self.message(sample, "noc", language, form)
            self.digest([{"created_at": 0.0, "subject": "x"}], language, 1, 3600.0)
            self.test("x", language, 0.0)


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def alertmanager_alert(note: Notification) -> dict[str, Any]:
    """The alert as Alertmanager's API takes it; resolved ones carry their end."""
    annotations = {k: v for k, v in note.annotations.items() if v}
    annotations["alert_id"] = note.alert_id
    if note.members:
        annotations["members"] = ", ".join(note.members)
    alert: dict[str, Any] = {
        "labels": {k: v for k, v in note.labels.items() if v},
        "annotations": annotations,
        "startsAt": _iso(note.fired_at if note.fired_at is not None else note.at),
    }
    if note.kind == "resolved":
        alert["endsAt"] = _iso(note.at)
    return alert
