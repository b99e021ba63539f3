"""Plotly figures of test scores: a run's accuracy, balanced accuracy and macro F1 beside
the TF-IDF baseline's (Results), and several runs' test metrics side by side (Compare runs).

Pure: scores in, a ``plotly.graph_objects.Figure`` out; no Streamlit, no TensorFlow. Model
family and run labels go through :func:`ui.core.text.plotly_text` and show as typed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from ui.core.numbers import format_score, format_share
from ui.core.text import plotly_text
from ui.figures.style import LAYOUT, RUN_COLORS, TRAIN_COLOR


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
        **LAYOUT,
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
        **LAYOUT,
    )
    return fig
