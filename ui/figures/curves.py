"""Plotly figures of a run's training curves: train vs validation per epoch (the Results
page, the Train page's live panel) and one metric of several runs overlaid (Compare runs).

Pure: per-epoch histories (:class:`~pipeline.runs.history.EpochRow`) in, a
``plotly.graph_objects.Figure`` out; no Streamlit, no
TensorFlow. Run labels go through :func:`ui.core.text.plotly_text` and show as typed. An
epoch a stop cut short (``partial``) is a hollow marker and never the best epoch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from pipeline.runs.history import EpochRow
from ui.core.text import plotly_text
from ui.figures.style import FINE_SHARE_AXIS_FORMAT, LAYOUT, RUN_COLORS, TRAIN_COLOR, VAL_COLOR


def integer_epoch_axis(fig: go.Figure, last_epoch: int | None) -> go.Figure:
    """Make ``fig``'s x axis read whole epochs: ``1, 2, 3``, never ``1, 1.5, 2``."""
    last = max(int(last_epoch or 1), 1)
    fig.update_xaxes(tickformat="d", tick0=1, dtick=1 if last <= 15 else max(1, -(-last // 10)))
    return fig


def history_frame(history: Sequence[EpochRow]) -> pd.DataFrame:
    """Per-epoch history as a DataFrame: a 1-based ``epoch`` column, one column per
    metric, and ``partial`` (bool)."""
    if not history:
        return pd.DataFrame({"epoch": pd.Series(dtype="int64")})
    return pd.DataFrame(
        [{"epoch": row.epoch, **row.metrics, "partial": row.partial} for row in history]
    )


def partial_epochs(frame: pd.DataFrame) -> pd.Series:
    """Which rows of a :func:`history_frame` are epochs a stop cut short (``partial``:
    trained on part of the epoch, validated on a batch or so): a boolean Series."""
    if "partial" not in frame:
        return pd.Series(False, index=frame.index)
    return frame["partial"].map(lambda flag: flag is True)


def best_epoch(history: Sequence[EpochRow], monitor: str = "val_loss") -> int | None:
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
    history: Sequence[EpochRow],
    metric: str = "accuracy",
    *,
    best: int | None = None,
    epochs: int | None = None,
    class_weighted: bool = False,
) -> go.Figure:
    """Train vs validation curve of one metric per epoch, the best epoch marked.

    Parameters
    ----------
    history : sequence of EpochRow with ``metric`` and ``val_<metric>`` among its metrics
        (``partial`` on an epoch a stop cut short: drawn as a hollow marker at the
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
        **LAYOUT,
    )
    _metric_axis(fig, metric, metric.replace("_", " "))
    if epochs:
        fig.update_xaxes(range=[0.5, max(epochs, 1) + 0.5])
        integer_epoch_axis(fig, epochs)
    else:
        integer_epoch_axis(fig, int(frame["epoch"].max()) if not frame.empty else 1)
    return fig


def compare_curves(
    histories: Mapping[str, Sequence[EpochRow]],
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
        **LAYOUT,
    )
    _metric_axis(fig, metric, metric.replace("_", " "))
    return integer_epoch_axis(fig, last_epoch)
