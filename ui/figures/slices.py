"""Plotly figures of the Results page's "Where the model fails": test accuracy per slice
of a column (bars, worst first) and per period of a time column (a line with its band).

Pure: slice tables (``pipeline.evaluation.slice_scores.SliceTable.to_frame``) in, a
``plotly.graph_objects.Figure`` out. Every slice value comes from a user's file and goes
through :func:`ui.core.text.plotly_text`. Accuracies read as shares (``"91.3%"``), rows as
counts with separators (:mod:`ui.core.numbers`); no accuracy axis goes past 100 %.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.core.numbers import count_phrase, format_count, format_range, format_share
from ui.core.text import plotly_text
from ui.figures.style import (
    COUNT_AXIS,
    MARGINS,
    SHARE_AXIS_FORMAT,
    TRAIN_COLOR,
    bar_chart_height,
    every_category,
)

_LAYOUT: dict[str, Any] = {"margin": MARGINS}
#: A numeric bin as :mod:`pipeline.evaluation.slice_columns` labels it: ``"[3, 83715.8)"``,
#: ``"[7, 9]"``.
_BIN = re.compile(r"^\[(?P<low>[^,]+), (?P<high>[^,]+)[)\]]$")


def readable_bin(value: object) -> str:
    """A numeric bin for people: ``"[3, 83715.8)"`` reads ``"3 – 83,716"``
    (:func:`ui.core.numbers.format_range`); any other value (the "missing" slice) as it is."""
    text = str(value)
    match = _BIN.match(text)
    if match is None:
        return text
    try:
        return format_range(float(match["low"]), float(match["high"]))
    except ValueError:
        return text


#: Bar colours of the slice charts: a slice, a slice with too few rows, the "other" slice.
SLICE_COLOR, SMALL_SLICE_COLOR, OTHER_SLICE_COLOR = TRAIN_COLOR, "#a9bde6", "#9aa3b5"
#: The confidence band around a line of accuracies over time.
SLICE_BAND_COLOR = "rgba(46, 107, 214, 0.18)"
#: Longest slice value drawn as a tick label; the hover text shows it whole.
SLICE_LABEL_CHARS = 40


def _slice_labels(slices: pd.DataFrame) -> list[str]:
    """Escaped, unique tick labels of a slice table's rows: ``"other (1,304 values)"`` for
    the folded slice, long values cut at :data:`SLICE_LABEL_CHARS` characters."""
    labels = []
    for value, other, values in zip(
        slices["value"], _column(slices, "other", False), _column(slices, "values", 1), strict=True
    ):
        text = str(value)
        if len(text) > SLICE_LABEL_CHARS:
            text = text[: SLICE_LABEL_CHARS - 1] + "…"
        if other:
            text = f"{text} ({count_phrase(values, 'value')})"
        labels.append(plotly_text(text))
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return unique


def _column(frame: pd.DataFrame, name: str, default: Any) -> list[Any]:
    return list(frame[name]) if name in frame else [default] * len(frame)


def _slice_hover(slices: pd.DataFrame, min_rows: int | None) -> list[list[str]]:
    """Per slice: its escaped value, rows, accuracy with its interval, errors, and a note."""
    hover = []
    for value, rows, errors, accuracy, low, high, small, other, values in zip(
        slices["value"],
        slices["rows"],
        slices["errors"],
        slices["accuracy"],
        slices["ci_low"],
        slices["ci_high"],
        _column(slices, "small", False),
        _column(slices, "other", False),
        _column(slices, "values", 1),
        strict=True,
    ):
        note = ""
        if other:
            note = f"<br>{count_phrase(values, 'value')} not shown on their own"
        elif small:
            few = f"fewer than {min_rows:,}" if min_rows else "too few"
            note = f"<br>{few} test rows: too few to trust"
        hover.append(
            [
                plotly_text(value),
                f"{format_share(accuracy)} (95% CI {format_share(low)} to {format_share(high)})",
                f"{count_phrase(rows, 'row')}, {format_count(errors)} wrong",
                note,
            ]
        )
    return hover


def slice_accuracy_bars(
    slices: pd.DataFrame,
    overall: float,
    *,
    column: str,
    title: str | None = None,
    min_rows: int | None = None,
) -> go.Figure:
    """Test accuracy per slice of a column: horizontal bars, the table's order top to bottom.

    Parameters
    ----------
    slices : pandas.DataFrame
        One row per slice, as ``pipeline.evaluation.slice_scores.SliceTable.to_frame`` gives it:
        ``value``, ``rows``, ``errors``, ``accuracy``, ``ci_low``, ``ci_high`` and, optionally,
        ``small``, ``other`` and ``values``. Categorical tables come worst first, so the
        worst slice is the top bar; bins come in ascending order.
    overall : float
        Accuracy on every test row: a dotted vertical line.
    column : str
        The column's name (from the file), for the title.
    title : str, optional
        The title; ``"Test accuracy per <column>"`` by default (``column`` escaped here,
        so pass a title without file text, or escape it first).
    min_rows : int, optional
        The table's smallest slice, named in the hover text of a small one.

    Every value has its own labelled tick (escaped, cut at :data:`SLICE_LABEL_CHARS`
    characters), the 95 % interval is an error bar, the rows of each slice read at the
    right of the bars and in the hover text, and the height grows with the slices.
    """
    labels = _slice_labels(slices)
    accuracy = [float(a) for a in slices["accuracy"]]
    colors = [
        OTHER_SLICE_COLOR if other else SMALL_SLICE_COLOR if small else SLICE_COLOR
        for other, small in zip(
            _column(slices, "other", False), _column(slices, "small", False), strict=True
        )
    ]
    fig = go.Figure(
        go.Bar(
            x=accuracy,
            y=labels,
            orientation="h",
            marker_color=colors,
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [float(h) - a for h, a in zip(slices["ci_high"], accuracy, strict=True)],
                "arrayminus": [
                    a - float(lo) for lo, a in zip(slices["ci_low"], accuracy, strict=True)
                ],
                "color": "#444",
                "thickness": 1.2,
                "width": 3,
            },
            customdata=_slice_hover(slices, min_rows),
            hovertemplate="%{customdata[0]}<br>accuracy %{customdata[1]}<br>%{customdata[2]}"
            "%{customdata[3]}<extra></extra>",
        )
    )
    # The rows of each slice, in a column of their own right of the plot area: annotations
    # anchored to its right edge, in a margin as wide as the longest count (plotly's 12 px
    # font: about 7 px a character). A text trace would vanish: plotly draws no point at
    # an x outside the axis range.
    counts = [count_phrase(n, "row") for n in slices["rows"]]
    for label, count in zip(labels, counts, strict=True):
        fig.add_annotation(
            xref="paper", x=1, xanchor="left", xshift=4, yref="y", y=label,
            text=count, showarrow=False, font={"color": "#555"},
        )  # fmt: skip
    fig.add_vline(
        x=float(overall),
        line_dash="dot",
        line_color="#666",
        annotation_text=f"all test rows {format_share(overall)}",
        annotation_position="top",
    )
    fig.update_layout(
        title=title or f"Test accuracy per {plotly_text(column)}",
        showlegend=False,
        height=bar_chart_height(len(labels)),
        xaxis={
            "title": "test accuracy (95% CI)",
            "range": [0, 1.02],
            "tickvals": [0, 0.25, 0.5, 0.75, 1],
            "tickformat": SHARE_AXIS_FORMAT,
        },
        yaxis=every_category(labels, autorange="reversed", title=None),
        margin={**MARGINS, "r": 7 * max(map(len, counts), default=0) + 16},
    )
    return fig


def slice_accuracy_over_time(
    slices: pd.DataFrame,
    overall: float,
    *,
    column: str,
    period: str = "week",
    min_rows: int | None = None,
) -> go.Figure:
    """Test accuracy per period of a time column, and the rows of each period below it.

    Parameters
    ----------
    slices : pandas.DataFrame
        One row per period, in order, as ``SliceTable.to_frame`` gives it, whose
        ``value`` is the period's start (``"2014-03-10"``, ``"2014-03"``, ``"2014"``);
        rows whose value is not a date (the slice of rows without one) are left out.
    overall : float
        Accuracy on every test row: a dotted horizontal line.
    column : str
        The column's name (from the file), for the title.
    period : str
        ``"week"``, ``"month"`` or ``"year"``: what one point stands for.
    min_rows : int, optional
        The table's smallest slice: periods with fewer rows are hollow markers.

    The accuracy is a line with its 95 % interval as a band; the rows per period are bars
    in a small panel sharing the time axis.
    """
    starts = pd.to_datetime(slices["value"].astype(str), errors="coerce", format="ISO8601")
    dated = slices.assign(start=starts)[starts.notna().to_numpy()]
    x = list(dated["start"])
    small = _column(dated, "small", False)
    hover = _slice_hover(dated, min_rows)
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.06
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=list(dated["ci_high"]),
            mode="lines",
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=list(dated["ci_low"]),
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=SLICE_BAND_COLOR,
            name="95% CI",
            hoverinfo="skip",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=list(dated["accuracy"]),
            mode="lines+markers",
            line={"color": SLICE_COLOR},
            marker={
                "color": ["white" if s else SLICE_COLOR for s in small],
                "line": {"color": SLICE_COLOR, "width": 1.5},
                "size": 7,
            },
            name="accuracy",
            cliponaxis=False,  # a 100 % week keeps its whole marker on the axis's top
            customdata=hover,
            hovertemplate=f"{period} of %{{customdata[0]}}<br>accuracy %{{customdata[1]}}"
            "<br>%{customdata[2]}%{customdata[3]}<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=x,
            y=list(dated["rows"]),
            marker_color=[SMALL_SLICE_COLOR if s else SLICE_COLOR for s in small],
            customdata=hover,
            hovertemplate=f"{period} of %{{customdata[0]}}<br>%{{customdata[2]}}<extra></extra>",
            showlegend=False,
        ),
        row=2,
        col=1,
    )
    fig.add_hline(
        y=float(overall),
        line_dash="dot",
        line_color="#666",
        annotation_text=f"all test rows {format_share(overall)}",
        annotation_position="bottom left",
        row=1,
        col=1,
    )
    lows = [float(v) for v in dated["ci_low"]] or [0.0]
    bottom = max(0.0, math.floor((min(min(lows), float(overall)) - 0.02) * 20) / 20)
    fig.update_yaxes(
        title="test accuracy", tickformat=SHARE_AXIS_FORMAT, range=[bottom, 1.0], row=1, col=1
    )
    fig.update_yaxes(title="rows", **COUNT_AXIS, row=2, col=1)
    fig.update_xaxes(type="date", row=2, col=1)
    fig.update_layout(
        title=f"Test accuracy per {period} · {plotly_text(column)}",
        showlegend=False,
        height=420,
        bargap=0.15,
        **_LAYOUT,
    )
    return fig
