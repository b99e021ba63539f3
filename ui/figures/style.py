"""The charts' shared look, declared once for the plotly figures (the other modules of
:mod:`ui.figures`) and the Vega-Lite charts (:mod:`ui.figures.data`): colours, bar size and a
bar chart's height, count format, margins, class names. Imports neither plotly nor pandas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.report import colors as report_colors

#: One colour per class position, stable across every chart of the app (Paul Tol's
#: colour-blind-safe qualitative scheme, plotly's ``qualitative.Safe``).
PALETTE: tuple[str, ...] = (
    "rgb(136, 204, 238)",
    "rgb(204, 102, 119)",
    "rgb(221, 204, 119)",
    "rgb(17, 119, 51)",
    "rgb(51, 34, 136)",
    "rgb(170, 68, 153)",
    "rgb(68, 170, 153)",
    "rgb(153, 153, 51)",
    "rgb(136, 34, 85)",
    "rgb(102, 17, 0)",
    "rgb(136, 136, 136)",
)
#: Train vs validation colours in the curves (the report's too); the Data page's
#: single-colour bars use the first.
TRAIN_COLOR, VAL_COLOR = report_colors.TRAIN_COLOR, report_colors.VAL_COLOR
#: One colour per compared run, in the comparison's order (the first two are the curves').
RUN_COLORS: tuple[str, ...] = (
    TRAIN_COLOR,
    VAL_COLOR,
    "#2a9d5b",
    "#8e44ad",
    "#c0392b",
    "#16a5b8",
    "#b8860b",
    "#7f8c8d",
)
#: Pixels per bar of a horizontal bar chart (every class keeps its own labelled tick).
BAR_PX = 24
#: Counts on axes read "1,000", never "1000" or "1k" (d3-format, read by both libraries).
COUNT_FORMAT = ",d"


def color_map(names: Sequence[str]) -> dict[str, str]:
    """``{name: colour}`` for names in the order given (callers sort them for stability)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


#: Margins around every plotly figure's plot area (plotly's ``automargin`` adds room for
#: long tick labels on top of them).
MARGINS: dict[str, int] = {"l": 10, "r": 10, "t": 50, "b": 10}
#: Shares on plotly axes and colour bars: ``"80%"`` (d3-format); hover text says
#: ``"80.0%"`` through :func:`ui.core.numbers.format_share`.
SHARE_AXIS_FORMAT = ".0%"
#: Shares on an axis that may span a few points only: ``"92%"``, ``"92.5%"``.
FINE_SHARE_AXIS_FORMAT = ".1~%"


def every_category(names: Sequence[str], **extra: object) -> dict[str, object]:
    """Plotly axis settings that label every category of ``names``, in their order (no
    skipped ticks); ``extra`` adds or overrides settings (title, font, angle...)."""
    return {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": list(names),
        "tickmode": "array",
        "tickvals": list(names),
        "ticktext": list(names),
        "automargin": True,
        **extra,
    }


#: What every plotly figure's layout shares (``fig.update_layout(**LAYOUT)``): the margins.
LAYOUT: dict[str, Any] = {"margin": MARGINS}
#: Pixels around the bars: title, axis, margins.
BAR_CHROME_PX = 110
#: Smallest height of a bar chart, whatever the number of bars.
MIN_BAR_HEIGHT = 260
#: Count axes read "1,000", never "1000" or "1k".
COUNT_AXIS: dict[str, Any] = {"tickformat": COUNT_FORMAT, "rangemode": "tozero"}


def bar_chart_height(n_bars: int, *, per_bar: int = BAR_PX) -> int:
    """Height in pixels of a horizontal bar chart with ``n_bars`` bars: grows with them."""
    return max(MIN_BAR_HEIGHT, BAR_CHROME_PX + per_bar * max(n_bars, 1))
