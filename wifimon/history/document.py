"""The report as a document for people: HTML that prints well (A4 landscape, the table's
header on every page) and the same HTML laid out as PDF by WeasyPrint, with the charts."""

from __future__ import annotations

import logging
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from wifimon.history.formats import LABELS, metadata, to_csv, to_json
from wifimon.history.report import COLUMNS, Report
from wifimon.history.settings import ReportSettings

DURATIONS = {"downtime_seconds": "downtime", "longest_outage_seconds": "longest",
             "mttr_seconds": "mttr", "unknown_seconds": "unknown",
             "maintenance_seconds": "maint"}  # fmt: skip
PERCENTS = {"availability_percent", "coverage_percent", "probes_meeting_min_percent"}
MARKS = {"id": (".", ","), "en": (",", ".")}  # thousands, decimal

_environment = Environment(
    loader=PackageLoader("wifimon.history", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def number(value: float | int | None, language: str, digits: int = 2) -> str:
    """12345.678 -> '12.345,68' (id) or '12,345.68' (en); None -> '-'."""
    if value is None:
        return "-"
    thousands, decimal = MARKS[language]
    text = f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,d}"
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)


def hms(seconds: float | None) -> str:
    """Seconds as h:mm:ss (hours may pass 24: a month has 744)."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def cell(column: str, value: Any, language: str) -> str:
    """One table cell as an auditor reads it."""
    if column in DURATIONS:
        return hms(value)
    if column == "verdict":
        return str(LABELS[language][value])
    if column == "group":
        return str(value)
    digits = 3 if column in PERCENTS else 2
    return number(value, language, digits)


def header(column: str, language: str) -> str:
    words = LABELS[language]
    if column in DURATIONS:
        return f"{words[DURATIONS[column]]} ({words['hms']})"
    return words[column]


def html_report(report: Report, language: str = "id") -> str:
    """A self-contained HTML page (inline CSS and SVG charts)."""
    from wifimon.history import charts  # matplotlib: loaded only when a page is drawn

    words = LABELS[language]
    figures = {
        "chart_availability": charts.availability(
            report.rows, report.targets.availability_percent, words),
        "chart_mbps": charts.mbps_distribution(report.mbps_histogram, report.min_mbps, words),
        "chart_capacity": charts.hours_at_capacity(report.rows, words),
    }  # fmt: skip
    return _environment.get_template("report.html.j2").render(
        language=language,
        words=words,
        facts=metadata(report, language)[1:],
        report=report,
        columns=COLUMNS,
        header=lambda c: header(c, language),
        cell=lambda c, v: cell(c, v, language),
        figures={k: v for k, v in figures.items() if v},
        max_bars=charts.MAX_BARS,
    )


def pdf_report(report: Report, language: str = "id") -> bytes:
    """The HTML page laid out as PDF (page numbers and the digest in the footer)."""
    for name in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)  # its progress is not wifimon's log
    from weasyprint import HTML  # imported here: loading it takes a second

    return bytes(HTML(string=html_report(report, language)).write_pdf())


def report_file(report: Report, form: str, language: str, settings: ReportSettings) -> bytes:
    """The report in one of the formats, as the bytes of its file."""
    if form == "pdf":
        return pdf_report(report, language)
    if form == "html":
        text = html_report(report, language)
    elif form == "json":
        text = to_json(report)
    else:
        text = to_csv(report, language, settings.csv_delimiter, settings.csv_decimal)
    return text.encode()
