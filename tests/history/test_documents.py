"""The report as auditors see it: HTML in headless Chromium and the PDF through poppler
(pdftotext, pdftoppm), in both languages, plus golden CSV files of the scripted day.
WIFIMON_UPDATE_GOLDEN=1 rewrites the golden files (read them before committing)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.history.synthetic import fill, hotspots, write_config
from tests.history.test_timeline import MAINTENANCE, at, run, titik
from wifimon.history.charts import availability_span
from wifimon.history.document import hms, html_report, number, pdf_report
from wifimon.history.formats import to_csv
from wifimon.history.report import Period, Report, build
from wifimon.history.store import HistoryStore

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "reports"
OCTOBER = Period.month("2026-10")


@pytest.fixture(scope="module")
def fleet_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """October for 240 titik in 4 kelurahan, as `report uptime --by hotspot` builds it."""
    directory = tmp_path_factory.mktemp("fleet")
    titik = hotspots(240)
    store = HistoryStore(directory)
    fill(store, titik, OCTOBER)
    report = build([(store, titik)], [], OCTOBER, by="hotspot", now=at(1, 14))
    store.close()
    return report


def test_numbers_and_durations_read_as_in_each_language() -> None:
    assert number(12345.678, "id") == "12.345,68"
    assert number(12345.678, "en") == "12,345.68"
    assert number(99.5, "id", 3) == "99,500"
    assert number(1200, "id") == "1.200"
    assert number(None, "id") == "-"
    assert hms(2700) == "0:45:00"
    assert hms(744 * 3600 + 61) == "744:01:01"  # a month of hours does not wrap at 24
    assert availability_span([99.6, 98.2], 99.0) == (97.0, 100.0)
    assert availability_span([12.0], 99.0) == (11.0, 100.0)


def test_html_states_the_report_and_escapes_names(fleet_report: Report) -> None:
    page = html_report(fleet_report, "id")
    assert "<title>Laporan ketersediaan dan SLA wifimon 2026-10-01 00:00:00 WIB" in page
    assert fleet_report.digest in page
    assert page.count('<tr><td class="group">') == len(fleet_report.rows) == 240
    first = fleet_report.rows[0]
    assert f'<td class="group">{first["group"]}</td><td class="">1</td>' in page
    assert number(first["availability_percent"], "id", 3) in page
    assert "Semua titik" in page and "Ketersediaan per kelompok" in page
    images = [part.split('"')[0] for part in page.split('src="data:image/svg+xml;base64,')[1:]]
    assert len(images) == 3
    assert all(base64.b64decode(i).lstrip().startswith(b"<?xml") for i in images)
    english = html_report(fleet_report, "en")
    assert "All hotspots" in english and "Availability per group" in english
    assert "green meets the SLA, red fails, grey insufficient data" in english
    named = fleet_report.rows[0]["group"]
    fleet_report.rows[0]["group"] = "<script>alert(1)</script>"
    try:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_report(fleet_report, "id")
        assert "<script>" not in html_report(fleet_report, "id")
    finally:
        fleet_report.rows[0]["group"] = named


def pdf_text(pdf: Path) -> list[str]:
    """The text of each page, as poppler reads it."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    return text.split("\f")[:-1]


def test_pdf_pages_carry_header_digest_and_page_numbers(fleet_report: Report,
                                                        tmp_path: Path) -> None:  # fmt: skip
    pdf = tmp_path / "laporan.pdf"
    pdf.write_bytes(pdf_report(fleet_report, "id"))
    assert pdf.read_bytes().startswith(b"%PDF-")
    pages = pdf_text(pdf)
    assert len(pages) >= 4  # summary and charts, then 240 rows over several pages
    assert "Laporan ketersediaan dan SLA wifimon" in pages[0]
    assert "Ketersediaan (%)" in pages[0]
    for number_, page in enumerate(pages, start=1):
        assert f"Halaman {number_} dari {len(pages)}" in page
        assert fleet_report.digest in page.replace(" ", "")
    first = next(i for i, p in enumerate(pages) if "Rincian" in p)
    table_pages = pages[first:]
    assert len(table_pages) >= 2
    assert all("Kelompok" in p for p in table_pages)  # the header repeats on every page
    listed = "".join(table_pages)
    assert all(r["group"] in listed for r in fleet_report.rows)
    assert "Semua titik" in table_pages[-1]


def test_pdf_pages_render_as_landscape_images_with_ink(fleet_report: Report,
                                                       tmp_path: Path) -> None:  # fmt: skip
    from PIL import Image

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(pdf_report(fleet_report, "en"))
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "2", str(pdf),
                    str(tmp_path / "page")], check=True)  # fmt: skip
    rendered = sorted(tmp_path.glob("page-*.png"))
    assert len(rendered) == 2
    for path in rendered:
        image = Image.open(path).convert("L")
        assert image.width > image.height  # A4 landscape
        dark = sum(image.histogram()[:128])
        assert dark > 0.003 * image.width * image.height, path.name  # text and charts, not blank


def test_html_in_headless_chromium_shows_charts_and_table(tmp_path: Path) -> None:
    from PIL import Image

    directory = tmp_path / "city"
    directory.mkdir()
    titik = hotspots(120)
    config = write_config(directory, titik)
    store = HistoryStore(directory / "data")
    fill(store, titik, OCTOBER)
    store.close()
    html = tmp_path / "laporan.html"
    done = subprocess.run(
        [sys.executable, "-m", "wifimon.cli", "report", "uptime", "--config", str(config),
         "--month", "2026-10", "--format", "html", "-o", str(html)],
        capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    shot = tmp_path / "shot.png"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--window-size=1280,1800", f"--screenshot={shot}", html.as_uri()],
        capture_output=True, timeout=120, check=True)  # fmt: skip
    image = Image.open(shot).convert("RGB")
    colours = {colour for _, colour in image.getcolors(1 << 24) or []}
    assert (198, 40, 40) in colours or (46, 125, 50) in colours  # availability bars drawn
    assert (239, 108, 0) in colours  # hours at capacity bars drawn
    printed = tmp_path / "printed.pdf"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={printed}", html.as_uri()],
        capture_output=True, timeout=120, check=True)  # fmt: skip
    pages = pdf_text(printed)
    assert "Laporan ketersediaan dan SLA wifimon" in pages[0]
    assert any("Rincian" in p and "Kelompok" in p for p in pages)


@pytest.fixture
def timeline(tmp_path: Path) -> HistoryStore:
    store = HistoryStore(tmp_path)
    run(store, at(31, 20, month=10), at(1, 6), at(1, 6))
    run(store, at(1, 7), at(1, 14), at(1, 14))
    return store


@pytest.mark.parametrize(("language", "delimiter", "decimal"), [("id", ";", ","), ("en", ",", ".")])
def test_csv_of_the_scripted_day_matches_its_golden_file(
    timeline: HistoryStore, language: str, delimiter: str, decimal: str
) -> None:
    report = build([(timeline, [titik("A"), titik("B")])], [MAINTENANCE],
                   Period.month("2026-11"), by="hotspot", now=at(1, 14))  # fmt: skip
    report.version = "golden"  # the file must not change with each release
    text = to_csv(report, language, delimiter, decimal)
    path = GOLDEN / f"scripted_day.{language}.csv"
    if os.environ.get("WIFIMON_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    assert text == path.read_bytes().decode("utf-8")  # CRLF line ends kept


def test_both_languages_label_everything() -> None:
    from wifimon.history.formats import LABELS

    assert set(LABELS["id"]) == set(LABELS["en"])
    assert all(LABELS["id"].values()) and all(LABELS["en"].values())
