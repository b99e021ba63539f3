"""Plotly figure builders shared by the pages.

Every function here is pure: plain data (dicts, lists, DataFrames) in, a
``plotly.graph_objects.Figure`` out. No Streamlit, no TensorFlow, so the
figures can be unit-tested and reused by the CLI or a notebook.

Plotly reads pseudo-HTML (``<b>``, ``<a href>``...) in every label, tick,
legend, title and hover text, so every string that comes from a dataset, a file,
a saved run or a visitor (class names, publishers, words, run labels, model
family) goes through :func:`ui.text.plotly_text` here, and shows as typed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.chart_style import (
    BAR_PX,
    COUNT_FORMAT,
    TRAIN_COLOR,
    VAL_COLOR,
    color_map,
    unique_display_names,
)
from ui.numbers import count_phrase, format_count, format_share
from ui.text import plotly_text

_LAYOUT: dict[str, Any] = {"margin": {"l": 10, "r": 10, "t": 50, "b": 10}}
#: Pixels around the bars: title, axis, margins.
BAR_CHROME_PX = 110
#: Smallest height of a bar chart, whatever the number of bars.
MIN_BAR_HEIGHT = 260
#: Count axes read "1,000", never "1000" or "1k".
COUNT_AXIS: dict[str, Any] = {"tickformat": COUNT_FORMAT, "rangemode": "tozero"}


def bar_chart_height(n_bars: int, *, per_bar: int = BAR_PX) -> int:
    """Height in pixels of a horizontal bar chart with ``n_bars`` bars: grows with them."""
    return max(MIN_BAR_HEIGHT, BAR_CHROME_PX + per_bar * max(n_bars, 1))


def _display_names(codes: Sequence[str], label_names: Mapping[str, str] | None) -> dict[str, str]:
    """``{code: escaped display name}``, unique: a name two codes share gets its code."""
    return {
        code: plotly_text(name) for code, name in unique_display_names(codes, label_names).items()
    }


def _every_category(names: Sequence[str], **extra: Any) -> dict[str, Any]:
    """Axis settings that label every category, in the given order (no skipped ticks)."""
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


def class_distribution_before_after(
    before: Mapping[str, int],
    after: Mapping[str, int],
    label_names: Mapping[str, str] | None = None,
) -> go.Figure:
    """Rows per class before and after preparation: two panels, one shared scale.

    Horizontal bars, one row per class (biggest before first) labelled once on the
    left; both panels share the class axis and the rows axis, so 1,000 capped rows
    look as short as they are beside 150,000. A class the preparation dropped reads
    "dropped" in the after panel.
    """
    codes = list(dict.fromkeys([*before, *after]))
    names = _display_names(codes, label_names)
    ordered = sorted(codes, key=lambda c: (-int(before.get(c, 0)), -int(after.get(c, 0)), names[c]))
    class_names = [names[c] for c in ordered]
    colors = color_map(sorted(class_names))
    largest = max([int(n) for n in (*before.values(), *after.values())] or [1])
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=("before", "after"),
    )
    for col, counts in ((1, before), (2, after)):
        rows = [int(counts.get(c, 0)) for c in ordered]
        text = [
            format_count(n) if c in counts else "dropped"
            for c, n in zip(ordered, rows, strict=True)
        ]
        fig.add_trace(
            go.Bar(
                x=rows,
                y=class_names,
                orientation="h",
                marker_color=[colors[name] for name in class_names],
                text=text,
                textposition="outside",
                cliponaxis=False,
                name="before" if col == 1 else "after",
                hovertemplate="%{y}<br>"
                + ("before" if col == 1 else "after")
                + ": %{text}<extra></extra>",
            ),
            row=1,
            col=col,
        )
    fig.update_xaxes(**COUNT_AXIS, range=[0, largest * 1.3], title=None)
    fig.update_xaxes(matches="x", row=1, col=2)
    fig.update_yaxes(_every_category(class_names, autorange="reversed", title=None), row=1, col=1)
    fig.update_yaxes(showticklabels=False, row=1, col=2)
    fig.update_layout(
        title="Class distribution before and after preparation",
        showlegend=False,
        height=bar_chart_height(len(ordered)),
        **_LAYOUT,
    )
    return fig


def split_sizes_bar(sizes: Mapping[str, int]) -> go.Figure:
    """Horizontal bar of rows per split (train / validation / test)."""
    frame = pd.DataFrame({"split": list(sizes), "rows": [int(v) for v in sizes.values()]})
    import plotly.express as px  # lazily: its import costs a cold server ~0.25 s

    fig = px.bar(frame, x="rows", y="split", orientation="h", text="rows", title="Split sizes")
    fig.update_traces(texttemplate="%{text:,}", textposition="auto", marker_color=TRAIN_COLOR)
    fig.update_layout(yaxis={"autorange": "reversed", "title": None}, height=220, **_LAYOUT)
    return fig


def integer_epoch_axis(fig: go.Figure, last_epoch: int | None) -> go.Figure:
    """Make ``fig``'s x axis read whole epochs: ``1, 2, 3``, never ``1, 1.5, 2``."""
    last = max(int(last_epoch or 1), 1)
    fig.update_xaxes(tickformat="d", tick0=1, dtick=1 if last <= 15 else max(1, -(-last // 10)))
    return fig


def history_frame(history: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Per-epoch history as a DataFrame with a 1-based ``epoch`` column."""
    frame = pd.DataFrame(list(history))
    if frame.empty:
        return pd.DataFrame({"epoch": pd.Series(dtype="int64")})
    if "epoch" not in frame:
        frame.insert(0, "epoch", range(1, len(frame) + 1))
    return frame


def best_epoch(history: Sequence[Mapping[str, Any]], monitor: str = "val_loss") -> int | None:
    """1-based epoch with the lowest ``monitor`` (highest for accuracies), or None."""
    frame = history_frame(history)
    if monitor not in frame or frame[monitor].dropna().empty:
        return None
    column = frame[monitor]
    index = column.idxmax() if "acc" in monitor else column.idxmin()
    return int(frame.loc[index, "epoch"])


def training_curves(
    history: Sequence[Mapping[str, Any]],
    metric: str = "accuracy",
    *,
    best: int | None = None,
    epochs: int | None = None,
) -> go.Figure:
    """Train vs validation curve of one metric per epoch, the best epoch marked.

    Parameters
    ----------
    history : list of per-epoch dicts with ``metric`` and ``val_<metric>`` keys
    metric : "accuracy" or "loss" (any key present in the history works)
    best : 1-based epoch to mark; ``None`` marks the lowest ``val_loss``
    epochs : planned number of epochs, to fix the x range while training grows
    """
    frame = history_frame(history)
    fig = go.Figure()
    for key, name, color in (
        (metric, "train", TRAIN_COLOR),
        (f"val_{metric}", "validation", VAL_COLOR),
    ):
        if key in frame:
            fig.add_trace(
                go.Scatter(
                    x=frame["epoch"],
                    y=frame[key],
                    mode="lines+markers",
                    name=name,
                    line={"color": color},
                )
            )
    if best is None:
        best = best_epoch(history)
    if best is not None and not frame.empty:
        fig.add_vline(
            x=best,
            line_dash="dot",
            line_color="#666",
            annotation_text=f"best epoch {best}",
            annotation_position="top left",
        )
    fig.update_layout(
        title=metric.replace("_", " ").capitalize(),
        xaxis_title="epoch",
        yaxis_title=metric,
        legend={"orientation": "h", "y": -0.2},
        **_LAYOUT,
    )
    if epochs:
        fig.update_xaxes(range=[0.5, max(epochs, 1) + 0.5])
        integer_epoch_axis(fig, epochs)
    else:
        integer_epoch_axis(fig, int(frame["epoch"].max()) if not frame.empty else 1)
    return fig


def compare_curves(
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    metric: str = "val_accuracy",
) -> go.Figure:
    """One line per run of the same metric (e.g. ``val_accuracy``), overlaid."""
    rows = []
    for run_label, history in histories.items():
        frame = history_frame(history)
        if metric in frame:
            rows.append(
                pd.DataFrame(
                    {"epoch": frame["epoch"], metric: frame[metric], "run": plotly_text(run_label)}
                )
            )
    data = pd.concat(rows) if rows else pd.DataFrame({"epoch": [], metric: [], "run": []})
    import plotly.express as px  # lazily: its import costs a cold server ~0.25 s

    fig = px.line(
        data, x="epoch", y=metric, color="run", markers=True, title=metric.replace("_", " ")
    )
    fig.update_layout(legend={"orientation": "h", "y": -0.25}, **_LAYOUT)
    return integer_epoch_axis(fig, int(data["epoch"].max()) if len(data) else 1)


def metrics_vs_baseline(
    model: Mapping[str, float | None],
    baseline: Mapping[str, float | None] | None,
    family: str = "model",
) -> go.Figure:
    """Grouped bars: the model's test accuracy, balanced accuracy and macro F1 beside the
    TF-IDF baseline's (a metric missing on one side is left out there).

    ``family`` names the model's bars (a model family name, e.g. ``ngram_bag``).
    """
    family = plotly_text(family)
    rows = []
    for who, values in ((family, model), ("TF-IDF baseline", baseline or {})):
        for metric in ("accuracy", "balanced_accuracy", "macro_f1"):
            value = values.get(metric)
            if value is not None:
                rows.append({"model": who, "metric": metric.replace("_", " "), "value": value})
    frame = pd.DataFrame(rows, columns=["model", "metric", "value"])
    import plotly.express as px  # lazily: its import costs a cold server ~0.25 s

    fig = px.bar(
        frame,
        x="metric",
        y="value",
        color="model",
        barmode="group",
        text="value",
        color_discrete_map={family: TRAIN_COLOR, "TF-IDF baseline": "#9aa3b5"},
        title=f"Test set: {family} vs TF-IDF baseline",
    )
    fig.update_traces(texttemplate="%{text:.3f}", textposition="outside", cliponaxis=False)
    fig.update_layout(yaxis={"range": [0, 1.05], "title": None}, xaxis_title=None, **_LAYOUT)
    return fig


def confusion_matrix_height(n_classes: int) -> int:
    """Height in pixels of a confusion matrix of ``n_classes``: about square cells."""
    cell = 40 if n_classes <= 8 else 28 if n_classes <= 30 else 20
    return max(360, 170 + cell * n_classes)


def confusion_matrix_heatmap(
    labels: Sequence[str],
    matrix: Sequence[Sequence[float]],
    *,
    normalize: bool = False,
) -> go.Figure:
    """Heatmap of a confusion matrix: rows = true class, columns = predicted class.

    ``labels`` are the classes' display names, in the matrix's order. With
    ``normalize=True`` each row is divided by its total (recall per class). Every
    class has its own labelled tick on both axes and the height follows the number of
    classes; the cells show their value up to 30 classes (zeros left blank above 10),
    the hover text always.
    """
    names = list(_display_names(list(labels), None).values())
    counts = pd.DataFrame(matrix, dtype="float64")
    totals = counts.sum(axis=1).replace(0, 1)
    shares = counts.div(totals, axis=0)
    values = shares if normalize else counts
    n = len(names)
    show_text = n <= 30
    blank_zeros = n > 10
    text = [
        [
            ""
            if not show_text or (blank_zeros and counts.iat[i, j] == 0)
            else format_share(shares.iat[i, j], 0)
            if normalize
            else format_count(counts.iat[i, j])
            for j in range(n)
        ]
        for i in range(n)
    ]
    hover = [
        [
            f"{format_count(counts.iat[i, j])} rows, "
            f"{format_share(shares.iat[i, j])} of the true class"
            for j in range(n)
        ]
        for i in range(n)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=values.to_numpy(),
            x=names,
            y=names,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 12 if n <= 12 else 10},
            customdata=hover,
            hovertemplate="true: %{y}<br>predicted: %{x}<br>%{customdata}<extra></extra>",
            colorscale="Blues",
            colorbar={"title": {"text": "share" if normalize else "rows"}, "thickness": 12},
        )
    )
    tick_font = {"size": 12 if n <= 20 else 10}
    fig.update_layout(
        title="Confusion matrix" + (" (normalised by true class)" if normalize else " (counts)"),
        height=confusion_matrix_height(n),
        xaxis=_every_category(
            names,
            title="predicted",
            side="bottom",
            tickangle=-90 if n > 12 else -45 if n > 6 else 0,
            tickfont=tick_font,
            constrain="domain",
        ),
        yaxis=_every_category(names, title="true", autorange="reversed", tickfont=tick_font),
        **_LAYOUT,
    )
    return fig


def word_importance_bar(importance: Sequence[tuple[str, float]]) -> go.Figure:
    """Bar per word in text order: how much each word pushed towards the prediction.

    ``importance`` holds ``(word, value)`` pairs: each word of
    ``Predictor.word_importance`` and its importance (the drop in the predicted
    class's log-odds without the word).
    """
    frame = pd.DataFrame(list(importance), columns=["word", "importance"])
    frame["position"] = [f"{i + 1}. {plotly_text(w)}" for i, w in enumerate(frame["word"])]
    colors = [TRAIN_COLOR if v >= 0 else VAL_COLOR for v in frame["importance"]]
    fig = go.Figure(go.Bar(x=frame["position"], y=frame["importance"], marker_color=colors))
    fig.update_layout(
        title="Word importance (drop in the predicted class's log-odds without the word)",
        xaxis_title=None,
        yaxis_title="importance",
        **_LAYOUT,
    )
    return fig


def runs_metric_bars(rows: pd.DataFrame, metrics: Sequence[str]) -> go.Figure:
    """Grouped bars comparing runs: one group per metric, one bar per run.

    ``rows`` has a ``run`` column and one column per metric name.
    """
    present = [m for m in metrics if m in rows]
    rows = rows.assign(run=[plotly_text(run) for run in rows["run"]])
    long = rows.melt(id_vars=["run"], value_vars=present, var_name="metric", value_name="value")
    import plotly.express as px  # lazily: its import costs a cold server ~0.25 s

    fig = px.bar(
        long,
        x="metric",
        y="value",
        color="run",
        barmode="group",
        text="value",
        title="Test metrics side by side",
    )
    fig.update_traces(texttemplate="%{text:.3f}", textposition="outside", cliponaxis=False)
    fig.update_layout(yaxis={"range": [0, 1.05], "title": None}, xaxis_title=None, **_LAYOUT)
    return fig


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
        One row per slice, as ``pipeline.slices.SliceTable.to_frame`` gives it: ``value``,
        ``rows``, ``errors``, ``accuracy``, ``ci_low``, ``ci_high`` and, optionally,
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
    # The rows of each slice, in a column of their own right of the 100 % line.
    fig.add_trace(
        go.Scatter(
            x=[1.03] * len(labels),
            y=labels,
            mode="text",
            text=[count_phrase(n, "row") for n in slices["rows"]],
            textposition="middle right",
            cliponaxis=False,
            hoverinfo="skip",
            showlegend=False,
        )
    )
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
            "range": [0, 1.2],
            "tickvals": [0, 0.25, 0.5, 0.75, 1],
            "tickformat": ".0%",
        },
        yaxis=_every_category(labels, autorange="reversed", title=None),
        **_LAYOUT,
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
    fig.update_yaxes(title="test accuracy", tickformat=".0%", range=[bottom, 1.02], row=1, col=1)
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
