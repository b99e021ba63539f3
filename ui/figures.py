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

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.chart_style import (
    BAR_PX,
    COUNT_FORMAT,
    FINE_SHARE_AXIS_FORMAT,
    MARGINS,
    RUN_COLORS,
    TRAIN_COLOR,
    VAL_COLOR,
    color_map,
    every_category,
    unique_display_names,
)
from ui.numbers import format_count, format_score, format_share
from ui.text import plotly_text

_LAYOUT: dict[str, Any] = {"margin": MARGINS}
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
    fig.update_yaxes(every_category(class_names, autorange="reversed", title=None), row=1, col=1)
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


def partial_epochs(frame: pd.DataFrame) -> pd.Series:
    """Which rows of a :func:`history_frame` are epochs a stop cut short (``partial``:
    trained on part of the epoch, validated on a batch or so): a boolean Series."""
    if "partial" not in frame:
        return pd.Series(False, index=frame.index)
    return frame["partial"].map(lambda flag: flag is True)


def best_epoch(history: Sequence[Mapping[str, Any]], monitor: str = "val_loss") -> int | None:
    """1-based epoch with the lowest ``monitor`` (highest for accuracies), or None.

    An epoch a stop cut short never counts: its validation saw a batch or so."""
    frame = history_frame(history)
    frame = frame[~partial_epochs(frame)]
    if monitor not in frame or frame[monitor].dropna().empty:
        return None
    column = frame[monitor]
    index = column.idxmax() if "acc" in monitor else column.idxmin()
    return int(frame.loc[index, "epoch"])


#: Legend name and hover note of an epoch a stop cut short (a hollow marker).
PARTIAL_NAME = "partial epoch (stopped)"
PARTIAL_NOTE = "stopped part way: measured on part of the epoch, validated on a batch or so"


def _is_share(metric: str) -> bool:
    return "acc" in metric


def _value_format(metric: str) -> str:
    """A hover template's value of ``metric``: a share (``"92.3%"``) or a loss (3 decimals)."""
    return "%{y:.1%}" if _is_share(metric) else "%{y:.3f}"


def _metric_axis(fig: go.Figure, metric: str, title: str) -> None:
    """The y axis of ``metric``: shares in %, never past 100 %; losses from their data."""
    if _is_share(metric):
        fig.update_yaxes(
            title=title,
            tickformat=FINE_SHARE_AXIS_FORMAT,
            autorangeoptions={"clipmin": 0, "clipmax": 1},
        )
    else:
        fig.update_yaxes(title=title)


def _add_line(
    fig: go.Figure,
    frame: pd.DataFrame,
    key: str,
    *,
    name: str,
    color: str,
    partial_in_legend: bool,
) -> bool:
    """Add ``frame[key]`` per epoch as a line named ``name``; an epoch a stop cut short
    is a hollow marker joined by a dotted segment (in the legend as :data:`PARTIAL_NAME`
    when ``partial_in_legend``). Returns whether a partial epoch was drawn."""
    cut = partial_epochs(frame)
    whole, partial = frame[~cut], frame[cut]
    value = _value_format(key)
    fig.add_trace(
        go.Scatter(
            x=whole["epoch"],
            y=whole[key],
            mode="lines+markers",
            name=name,
            legendgroup=name,
            line={"color": color},
            cliponaxis=False,  # a point at 100 % keeps its whole marker
            hovertemplate=f"{name}<br>epoch %{{x}}: {value}<extra></extra>",
        )
    )
    if partial.empty:
        return False
    if not whole.empty:
        fig.add_trace(
            go.Scatter(
                x=[whole["epoch"].iloc[-1], partial["epoch"].iloc[0]],
                y=[whole[key].iloc[-1], partial[key].iloc[0]],
                mode="lines",
                line={"color": color, "dash": "dot"},
                legendgroup=name,
                showlegend=False,
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=partial["epoch"],
            y=partial[key],
            mode="markers",
            name=PARTIAL_NAME,
            legendgroup=PARTIAL_NAME,
            showlegend=partial_in_legend,
            marker={"symbol": "circle-open", "size": 11, "color": color, "line": {"width": 2}},
            cliponaxis=False,
            hovertemplate=f"{name}<br>epoch %{{x}}: {value}<br>{PARTIAL_NOTE}<extra></extra>",
        )
    )
    return True


def training_curves(
    history: Sequence[Mapping[str, Any]],
    metric: str = "accuracy",
    *,
    best: int | None = None,
    epochs: int | None = None,
    class_weighted: bool = False,
) -> go.Figure:
    """Train vs validation curve of one metric per epoch, the best epoch marked.

    Parameters
    ----------
    history : list of per-epoch dicts with ``metric`` and ``val_<metric>`` keys
        (``partial: True`` on an epoch a stop cut short: drawn as a hollow marker at the
        end of a dotted segment, :data:`PARTIAL_NAME` in the legend, never the best)
    metric : "accuracy" or "loss" (any key present in the history works)
    best : 1-based epoch to mark; ``None`` marks the lowest ``val_loss``
    epochs : planned number of epochs, to fix the x range while training grows
    class_weighted : the run weighted its loss by class: a loss chart says so in its
        title (such a loss is not the test set's unweighted log loss)

    Accuracies read in % (the axis never past 100 %), losses with 3 decimals.
    """
    frame = history_frame(history)
    fig = go.Figure()
    partial_shown = False
    for key, name, color in (
        (metric, "train", TRAIN_COLOR),
        (f"val_{metric}", "validation", VAL_COLOR),
    ):
        if key in frame:
            drawn = _add_line(
                fig, frame, key, name=name, color=color, partial_in_legend=not partial_shown
            )
            partial_shown = partial_shown or drawn
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
    title = metric.replace("_", " ").capitalize()
    if class_weighted and not _is_share(metric):
        title += " (weighted by class, as trained)"
    fig.update_layout(
        title=title,
        xaxis_title="epoch",
        legend={"orientation": "h", "y": -0.2},
        **_LAYOUT,
    )
    _metric_axis(fig, metric, metric.replace("_", " "))
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
    """One line per run of the same metric (e.g. ``val_accuracy``), overlaid.

    ``histories`` maps run labels (escaped here) to their per-epoch history; an epoch a
    stop cut short is a hollow marker (see :func:`training_curves`).
    """
    fig = go.Figure()
    last_epoch = 1
    partial_shown = False
    for index, (run_label, history) in enumerate(histories.items()):
        frame = history_frame(history)
        if metric not in frame or frame.empty:
            continue
        last_epoch = max(last_epoch, int(frame["epoch"].max()))
        drawn = _add_line(
            fig,
            frame,
            metric,
            name=plotly_text(run_label),
            color=RUN_COLORS[index % len(RUN_COLORS)],
            partial_in_legend=not partial_shown,
        )
        partial_shown = partial_shown or drawn
    fig.update_layout(
        title=metric.replace("_", " "),
        xaxis_title="epoch",
        showlegend=True,  # the run's name, even with one run
        legend={"orientation": "h", "y": -0.25},
        **_LAYOUT,
    )
    _metric_axis(fig, metric, metric.replace("_", " "))
    return integer_epoch_axis(fig, last_epoch)


def _score_text(metric: str, value: float) -> str:
    """A bar's label: a share for accuracies (``"95.7%"``), a score otherwise (``"0.873"``)."""
    return format_share(value) if "accuracy" in metric else format_score(value)


#: Test metrics bars: no value axis (every bar carries its value in its own unit: shares
#: in %, F1 as a score), room above the tallest bar for its label.
_SCORE_BARS_AXIS: dict[str, Any] = {
    "range": [0, 1.12],
    "showticklabels": False,
    "showgrid": False,
    "zeroline": True,
    "title": None,
}


def metrics_vs_baseline(
    model: Mapping[str, float | None],
    baseline: Mapping[str, float | None] | None,
    family: str = "model",
) -> go.Figure:
    """Grouped bars: the model's test accuracy, balanced accuracy and macro F1 beside the
    TF-IDF baseline's (a metric missing on one side is left out there).

    ``family`` names the model's bars (a model family name, e.g. ``ngram_bag``). Each
    bar is labelled with its value: accuracies in % (``"95.7%"``), F1 as a score.
    """
    family = plotly_text(family)
    rows = []
    for who, values in ((family, model), ("TF-IDF baseline", baseline or {})):
        for metric in ("accuracy", "balanced_accuracy", "macro_f1"):
            value = values.get(metric)
            if value is not None:
                rows.append(
                    {
                        "model": who,
                        "metric": metric.replace("_", " "),
                        "value": value,
                        "label": _score_text(metric, value),
                    }
                )
    frame = pd.DataFrame(rows, columns=["model", "metric", "value", "label"])
    import plotly.express as px  # lazily: its import costs a cold server ~0.25 s

    fig = px.bar(
        frame,
        x="metric",
        y="value",
        color="model",
        barmode="group",
        text="label",
        color_discrete_map={family: TRAIN_COLOR, "TF-IDF baseline": "#9aa3b5"},
        title=f"Test set: {family} vs TF-IDF baseline",
    )
    fig.update_traces(
        texttemplate="%{text}",
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{x}: %{text}<extra></extra>",
    )
    fig.update_layout(
        yaxis=_SCORE_BARS_AXIS,
        xaxis_title=None,
        legend={"orientation": "h", "y": -0.15, "title": None},
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

    ``rows`` has a ``run`` column (labels, escaped here) and one column per metric name;
    each bar is labelled with its value, accuracies in % (``"95.7%"``), others as scores.
    """
    present = [m for m in metrics if m in rows]
    rows = rows.assign(run=[plotly_text(run) for run in rows["run"]])
    long = rows.melt(id_vars=["run"], value_vars=present, var_name="metric", value_name="value")
    long = long.dropna(subset=["value"])
    long["label"] = [_score_text(m, v) for m, v in zip(long["metric"], long["value"], strict=True)]
    import plotly.express as px  # lazily: its import costs a cold server ~0.25 s

    fig = px.bar(
        long,
        x="metric",
        y="value",
        color="run",
        barmode="group",
        text="label",
        color_discrete_sequence=list(RUN_COLORS),
        title="Test metrics side by side",
    )
    fig.update_traces(
        texttemplate="%{text}",
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{x}: %{text}<extra></extra>",
    )
    fig.update_layout(
        yaxis=_SCORE_BARS_AXIS,
        xaxis_title=None,
        legend={"orientation": "h", "y": -0.15, "title": None},
        **_LAYOUT,
    )
    return fig
