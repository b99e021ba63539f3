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
import plotly.express as px
import plotly.graph_objects as go

from ui.text import plotly_text

#: One colour per class position, stable across every chart of the app.
PALETTE: tuple[str, ...] = tuple(px.colors.qualitative.Safe)
#: Train vs validation colours in the curves.
TRAIN_COLOR, VAL_COLOR = "#2e6bd6", "#e07b39"

_LAYOUT: dict[str, Any] = {"margin": {"l": 10, "r": 10, "t": 50, "b": 10}}


def _display(label: str, label_names: Mapping[str, str] | None) -> str:
    if label_names and label in label_names:
        return plotly_text(label_names[label])
    return plotly_text(label)


def _color_map(names: Sequence[str]) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def class_distribution_bar(
    counts: Mapping[str, int],
    label_names: Mapping[str, str] | None = None,
    *,
    title: str = "Class distribution",
) -> go.Figure:
    """Bar chart of rows per class, labelled with display names.

    Parameters
    ----------
    counts : mapping of label code -> number of rows
    label_names : mapping of label code -> display name (codes shown when missing)
    """
    frame = pd.DataFrame(
        {
            "class": [_display(code, label_names) for code in counts],
            "code": list(counts),
            "rows": [int(n) for n in counts.values()],
        }
    ).sort_values("rows", ascending=False)
    total = max(int(frame["rows"].sum()), 1)
    frame["share"] = frame["rows"] / total
    fig = px.bar(
        frame,
        x="class",
        y="rows",
        color="class",
        color_discrete_map=_color_map(sorted(frame["class"])),
        text="rows",
        hover_data={"code": True, "share": ":.1%", "class": False},
        title=title,
    )
    fig.update_traces(texttemplate="%{text:,}", textposition="outside", cliponaxis=False)
    fig.update_layout(showlegend=False, xaxis_title=None, yaxis_title="rows", **_LAYOUT)
    return fig


def class_distribution_before_after(
    before: Mapping[str, int],
    after: Mapping[str, int],
    label_names: Mapping[str, str] | None = None,
) -> go.Figure:
    """Two bar panels side by side: rows per class before and after preparation."""
    rows = [
        {"stage": stage, "class": _display(code, label_names), "rows": int(n)}
        for stage, counts in (("before", before), ("after", after))
        for code, n in counts.items()
    ]
    frame = pd.DataFrame(rows, columns=["stage", "class", "rows"])
    fig = px.bar(
        frame,
        x="class",
        y="rows",
        color="class",
        facet_col="stage",
        text="rows",
        category_orders={"stage": ["before", "after"]},
        color_discrete_map=_color_map(sorted(frame["class"].unique())),
        title="Class distribution before and after preparation",
    )
    fig.update_traces(texttemplate="%{text:,}", textposition="outside", cliponaxis=False)
    fig.update_yaxes(matches=None, showticklabels=True)
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    fig.update_layout(showlegend=False, **_LAYOUT)
    fig.update_xaxes(title=None)
    return fig


def split_sizes_bar(sizes: Mapping[str, int]) -> go.Figure:
    """Horizontal bar of rows per split (train / validation / test)."""
    frame = pd.DataFrame({"split": list(sizes), "rows": [int(v) for v in sizes.values()]})
    fig = px.bar(frame, x="rows", y="split", orientation="h", text="rows", title="Split sizes")
    fig.update_traces(texttemplate="%{text:,}", textposition="auto", marker_color=TRAIN_COLOR)
    fig.update_layout(yaxis={"autorange": "reversed", "title": None}, height=220, **_LAYOUT)
    return fig


def word_length_histogram(
    word_counts: Sequence[int] | pd.Series | Mapping[int, int],
    *,
    title: str = "Headline length (words)",
) -> go.Figure:
    """Histogram of words per text.

    ``word_counts`` is either one count per text, or an already binned mapping
    ``{number of words: number of texts}``.
    """
    if isinstance(word_counts, Mapping):
        frame = pd.DataFrame(
            {
                "words": [int(k) for k in word_counts],
                "texts": [int(v) for v in word_counts.values()],
            }
        ).sort_values("words")
    else:
        series = pd.Series(word_counts, dtype="int64")
        binned = series.value_counts().sort_index()
        frame = pd.DataFrame({"words": binned.index.astype(int), "texts": binned.to_numpy()})
    fig = px.bar(frame, x="words", y="texts", title=title)
    fig.update_traces(marker_color=TRAIN_COLOR)
    fig.update_layout(bargap=0.05, xaxis_title="words per headline", yaxis_title="headlines")
    fig.update_layout(**_LAYOUT)
    return fig


def top_items_bar(
    items: Sequence[Mapping[str, Any]] | Mapping[str, int],
    *,
    name_key: str = "publisher",
    count_key: str = "count",
    title: str = "Top publishers",
) -> go.Figure:
    """Horizontal bar of the most frequent values (publishers by default).

    ``items`` is a list of ``{name_key: ..., count_key: ...}`` dicts or a plain
    ``{name: count}`` mapping.
    """
    if isinstance(items, Mapping):
        pairs = [(plotly_text(k), int(v)) for k, v in items.items()]
    else:
        pairs = [(plotly_text(item[name_key]), int(item[count_key])) for item in items]
    frame = pd.DataFrame(pairs, columns=[name_key, count_key])
    fig = px.bar(frame, x=count_key, y=name_key, orientation="h", text=count_key, title=title)
    fig.update_traces(texttemplate="%{text:,}", marker_color=TRAIN_COLOR)
    fig.update_layout(yaxis={"autorange": "reversed", "title": None}, **_LAYOUT)
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
        fig.update_xaxes(range=[0.5, max(epochs, 1) + 0.5], dtick=max(1, epochs // 10))
    else:
        fig.update_xaxes(dtick=1 if len(frame) <= 15 else None)
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
    fig = px.line(data, x="epoch", y=metric, color="run", markers=True, title=metric)
    fig.update_layout(legend={"orientation": "h", "y": -0.25}, **_LAYOUT)
    return fig


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


def confusion_matrix_heatmap(
    labels: Sequence[str],
    matrix: Sequence[Sequence[float]],
    *,
    normalize: bool = False,
) -> go.Figure:
    """Heatmap of a confusion matrix: rows = true class, columns = predicted class.

    With ``normalize=True`` each row is divided by its total (recall per class).
    """
    names = [plotly_text(label) for label in labels]
    values = pd.DataFrame(matrix, index=names, columns=names, dtype="float64")
    if normalize:
        totals = values.sum(axis=1).replace(0, 1)
        values = values.div(totals, axis=0)
    fig = px.imshow(
        values,
        text_auto=".2f" if normalize else ".0f",
        color_continuous_scale="Blues",
        labels={"x": "predicted", "y": "true", "color": "share" if normalize else "rows"},
        aspect="auto",
        title="Confusion matrix" + (" (normalised by true class)" if normalize else " (counts)"),
    )
    fig.update_xaxes(side="bottom")
    fig.update_layout(**_LAYOUT)
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
