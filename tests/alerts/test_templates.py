"""Annotation templates: Indonesian numbers, WIB times, the sandbox and load-time checks."""

from __future__ import annotations

import pytest

from wifimon.alerts.rules import parse_rules
from wifimon.alerts.templates import angka, check, wib
from wifimon.errors import ConfigError


@pytest.mark.parametrize(
    "value,digits,text",
    [(42.5, 1, "42,5"), (50.0, 1, "50"), (1234567.25, 2, "1.234.567,25"), (3, 0, "3"),
     (None, 1, "-"), (0.04, 1, "0")],
)  # fmt: skip
def test_angka_writes_numbers_the_indonesian_way(value: object, digits: int, text: str) -> None:
    assert angka(value, digits) == text


def test_wib_shows_jakarta_time_with_indonesian_month() -> None:
    assert wib(1_786_500_000.0) == "12 Agu 2026 09:00 WIB"  # 02:00 UTC
    assert wib(None) == "-"


def test_values_labels_and_dotted_names_are_reachable() -> None:
    source = "{{ hotspot }} {{ download_mbps | mbps }} < {{ sla.min_mbps | mbps }}"
    names = ["hotspot", "download_mbps", "sla.min_mbps"]
    template = check(source + " ({{ labels.severity }})", names)
    text = template.render({"hotspot": "jp-glr-01", "download_mbps": 38.27, "sla.min_mbps": 50.0},
                           {"severity": "warning"})  # fmt: skip
    assert text == "jp-glr-01 38,3 Mbps < 50 Mbps (warning)"


@pytest.mark.parametrize(
    "text,reason",
    [
        ("{{ downlod_mbps }}", "'downlod_mbps' is undefined"),
        ("{{ clients.__class__.__mro__ }}", "unsafe"),
        ("{{ clients.__init__.__globals__ }}", "unsafe"),
        ("{% for x in %}", "line 1"),
        ("{{ 'a' * 10 ** 9 }}", "too many"),
        ("{{ 2 ** 100000 }}", "too large"),
    ],
)
def test_bad_or_unsafe_templates_are_refused_at_load(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check(text, ["clients"])


def test_a_template_failing_at_render_time_falls_back_to_its_text() -> None:
    template = check("{{ (clients * 100) | angka }}", ["clients"])
    assert template.render({"clients": None}, {}) == "{{ (clients * 100) | angka }}"


def test_rules_file_error_names_the_line_and_rule() -> None:
    text = "rules:\n  - name: Lambat\n    expr: download_mbps < 50\n    summary: '{{ downlod }}'\n"
    with pytest.raises(ConfigError) as caught:
        parse_rules(text, "rules.yaml")
    assert str(caught.value) == (
        "rules.yaml:4: rule Lambat: summary: template: 'downlod' is undefined"
    )
