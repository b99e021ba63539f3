"""Plotly figure of the Playground page: how much each word of a headline pushed the model
towards its prediction.

Pure: ``(word, importance)`` pairs in, a ``plotly.graph_objects.Figure`` out; no Streamlit,
no TensorFlow. Every word is a visitor's and goes through :func:`ui.core.text.plotly_text`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from ui.core.text import plotly_text
from ui.figures.style import LAYOUT, TRAIN_COLOR, VAL_COLOR


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
        **LAYOUT,
    )
    return fig
