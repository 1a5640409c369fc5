"""The report's charts as SVG images (matplotlib, no global pyplot state): availability by
group, the distribution of measured Mbps, hours at capacity. Vector graphics print sharply,
and their labels stay text, so a titik or kelurahan can be searched for in the PDF."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib import rcParams
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from wifimon.history.report import MBPS_BIN, MBPS_BINS

COLOURS = {"meets": "#2e7d32", "fails": "#c62828", "insufficient_data": "#9e9e9e"}
MAX_BARS = 25  # more groups than this: the chart shows the lowest (or highest) ones
rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "wifimon", "font.size": 8,
                 "font.family": "DejaVu Sans"})  # fmt: skip


def _svg(figure: Figure) -> str:
    """The figure as a data: URI, so each chart keeps its own SVG ids (inline SVGs would
    share names like patch_1 and draw with each other's clip paths)."""
    out = io.BytesIO()
    FigureCanvasSVG(figure).print_svg(out, metadata={"Date": None, "Creator": "wifimon"})
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def _bars(labels: Sequence[str], values: Sequence[float], colours: Sequence[str],
          xlabel: str, line: float | None = None, span: tuple[float, float] | None = None
          ) -> str:  # fmt: skip
    """Horizontal bars, first item on top."""
    height = 0.9 + 0.22 * max(len(labels), 1)
    figure = Figure(figsize=(7.0, height), layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, values, color=colours, height=0.7)
    axes.set_yticks(positions, labels)
    axes.set_xlabel(xlabel)
    if line is not None:
        axes.axvline(line, color="#333333", linestyle="--", linewidth=1)
    if span is not None:
        axes.set_xlim(*span)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def availability_span(values: Sequence[float], target: float) -> tuple[float, float]:
    """From a whole percent below the lowest value (or the target) to 100: at 0-100 the
    difference between 99.5 and 98 % is a hair."""
    low = min(*values, target)
    return (max(0.0, math.floor(low) - 1.0), 100.0)


def availability(rows: Sequence[Mapping[str, Any]], target: float, words: Mapping[str, str]
                 ) -> str | None:  # fmt: skip
    """Availability per group, lowest first, coloured by verdict; the target as a line."""
    known = sorted((r for r in rows if r["availability_percent"] is not None),
                   key=lambda r: (r["availability_percent"], r["group"]))[:MAX_BARS]  # fmt: skip
    if not known:
        return None
    values = [r["availability_percent"] for r in known]
    return _bars([r["group"] for r in known], values, [COLOURS[r["verdict"]] for r in known],
                 words["availability_percent"], target,
                 availability_span(values, target))  # fmt: skip


def mbps_distribution(histogram: Sequence[int], minimum: float | None,
                      words: Mapping[str, str]) -> str | None:  # fmt: skip
    """How many speed tests measured how many Mbps, with the SLA minimum as a line."""
    if not any(histogram):
        return None
    figure = Figure(figsize=(7.0, 2.6), layout="constrained")
    axes = figure.add_subplot()
    lefts = [i * MBPS_BIN for i in range(MBPS_BINS + 1)]
    colours = ["#c62828" if minimum is not None and left + MBPS_BIN <= minimum else "#1565c0"
               for left in lefts]  # fmt: skip
    axes.bar(lefts, histogram, width=MBPS_BIN * 0.9, align="edge", color=colours)
    axes.set_xticks([*lefts, (MBPS_BINS + 1) * MBPS_BIN],
                    [*(str(x) for x in lefts), "+"])  # fmt: skip
    axes.set_xlabel("Mbps")
    axes.set_ylabel(words["probes"])
    if minimum is not None:
        axes.axvline(minimum, color="#333333", linestyle="--", linewidth=1)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def hours_at_capacity(rows: Sequence[Mapping[str, Any]], words: Mapping[str, str]) -> str | None:
    """The groups that spent the most hours full, most first."""
    full = sorted((r for r in rows if r["hours_at_capacity"]),
                  key=lambda r: (-r["hours_at_capacity"], r["group"]))[:MAX_BARS]  # fmt: skip
    if not full:
        return None
    return _bars([r["group"] for r in full], [r["hours_at_capacity"] for r in full],
                 ["#ef6c00"] * len(full), words["hours_at_capacity"])  # fmt: skip
