"""The report's class chart (static SVG): its legend never covers a bar, and the bars fill
the chart from top to bottom.

Found looking at reports: on a balanced file every bar runs the chart's full width, and
the legend, placed inside the axes at the lower right, was drawn over the last class's
bars ("used (after preparation)" written across them, its swatches hidden); on 60 classes
matplotlib's default margins left three empty rows above the first bar and below the last.
"""

from __future__ import annotations

import re

import pytest

from pipeline.report.charts import class_distribution


def _geometry(svg: str) -> tuple[float, float, list[tuple[float, float]], list[float]]:
    """The axes' top and bottom (SVG y, growing downwards), each bar's (top, bottom), and
    the y of every legend item (swatches and texts)."""
    axes = re.search(r'<g id="patch_2">\s*<path d="([^"]+)"', svg)
    assert axes, "no axes background in the chart"
    axes_ys = [float(y) for y in re.findall(r"[ML] [\d.]+ ([\d.]+)", axes.group(1))]
    bars = [
        [float(y) for y in re.findall(r"[ML] [\d.]+ ([\d.]+)", path)]
        for path in re.findall(r'<path d="([^"]+)"\s+clip-path="url\(#[^)]+\)" style="fill: #', svg)
    ]
    start = svg.index('<g id="legend_1">')
    legend = svg[start : svg.index("<defs>", start)]  # the clip paths after it are not it
    legend_ys = [float(y) for y in re.findall(r'y="([\d.]+)"', legend)]
    legend_ys += [float(y) for y in re.findall(r"[ML] [\d.]+ ([\d.]+)", legend)]
    return min(axes_ys), max(axes_ys), [(min(b), max(b)) for b in bars], legend_ys


@pytest.mark.parametrize("classes", [4, 60])
def test_the_legend_is_clear_of_the_bars_and_the_bars_fill_the_chart(classes: int) -> None:
    names = [f"class {i}" for i in range(classes)]
    svg = class_distribution(names, [1000] * classes, [1000] * classes)  # balanced: full bars
    top, bottom, bars, legend_ys = _geometry(svg)
    assert len(bars) == 2 * classes
    assert legend_ys and all(y < top for y in legend_ys)  # above the axes, outside them
    row = (bottom - top) / classes
    assert min(b[0] for b in bars) - top < 0.5 * row
    assert bottom - max(b[1] for b in bars) < 0.5 * row
