"""Plotly figures of the Prepare page: rows per class before and after preparation, rows
per split.

Pure: counts in, a ``plotly.graph_objects.Figure`` out; no Streamlit, no TensorFlow. Class
names come from files: every one goes through :func:`ui.core.text.plotly_text`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pipeline.core.names import unique_display_names
from ui.core.numbers import format_count
from ui.core.text import plotly_text
from ui.figures.style import (
    COUNT_AXIS,
    LAYOUT,
    TRAIN_COLOR,
    bar_chart_height,
    color_map,
    every_category,
)


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
        **LAYOUT,
    )
    return fig


def split_sizes_bar(sizes: Mapping[str, int]) -> go.Figure:
    """Horizontal bar of rows per split (train / validation / test)."""
    frame = pd.DataFrame({"split": list(sizes), "rows": [int(v) for v in sizes.values()]})
    import plotly.express as px  # lazily: its import costs a cold server ~0.25 s

    fig = px.bar(frame, x="rows", y="split", orientation="h", text="rows", title="Split sizes")
    fig.update_traces(texttemplate="%{text:,}", textposition="auto", marker_color=TRAIN_COLOR)
    fig.update_layout(yaxis={"autorange": "reversed", "title": None}, height=220, **LAYOUT)
    return fig
