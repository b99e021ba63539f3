"""The Results page's "Misclassified test headlines" browser.

With the run's slices (:class:`ui.views.slices.RunSlices`: its test rows joined with the
active dataset), it lists every mistake, the most confident first, filtered by true and
predicted class and by a slice of any column (a numeric column's bins read as ranges,
"3 – 83,716"); without them, the mistakes ``metrics.json`` keeps, filtered by class.

Each column's slice keys are cached per run and dataset (``st.cache_resource``: a
read-only Series, never copied). Texts and values come from a user's file: tables show
them as plain cells.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import streamlit as st

from pipeline.evaluation.slice_columns import SliceColumn, default_columns, slice_keys
from ui.core.numbers import count_phrase
from ui.figures.slices import readable_bin
from ui.views.slices import RunSlices, keep_valid

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

    from pipeline.runs.summary import SavedRun

#: Widget keys of the slice filter.
FILTER_COLUMN_KEY = "results.slice_filter_column"
FILTER_VALUES_KEY = "results.slice_filter"  # + "." + the column's name
#: The browser's class filters (the same keys with or without per-row predictions).
TRUE_FILTER_KEY, PRED_FILTER_KEY = "results.true_filter", "results.pred_filter"
#: Most mistakes the browser's table holds at once (the most confident first).
MAX_SHOWN_MISTAKES = 5000
#: The misclassified table's own columns; a slice column named like one is renamed.
_MISTAKE_COLUMNS = ("text", "true class", "predicted class", "confidence")


def filter_options(keys: pd.Series) -> dict[str, int]:
    """``{slice: mistakes}`` of the mistakes' slice keys, in the order a filter lists them:
    most mistakes first for a categorical column's values, the bins' own order otherwise."""
    if isinstance(keys.dtype, pd.CategoricalDtype):
        counts = keys.value_counts(sort=False)
        return {str(value): int(n) for value, n in counts.items() if n > 0}
    counts = keys.astype(str).value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    return {str(value): int(n) for value, n in counts.items()}


@st.cache_resource(show_spinner=False, max_entries=32)
def _keys(key: str, name: str, _rows: pd.DataFrame, _column: SliceColumn) -> pd.Series:
    return slice_keys(_rows[name], _column)[0]


def row_slices(sliced: RunSlices, column: SliceColumn) -> pd.Series:
    """Each test row's slice of ``column`` (:func:`pipeline.evaluation.slice_columns.slice_keys`),
    cached."""
    return _keys(sliced.key, column.name, sliced.rows, column)


def draw_misclassified(saved: SavedRun, sliced: RunSlices | None) -> None:
    """The "Misclassified test headlines" browser: filters by true and predicted class and,
    with the run's slices, by a slice of any column; without them, the mistakes saved in
    ``metrics.json``, filtered by class."""
    st.subheader("Misclassified test headlines")
    if sliced is None:
        _draw_saved_mistakes(saved)
        return
    wrong = sliced.mistakes
    if wrong.empty:
        st.caption("The model got every test row right.")
        return
    name_of = saved.labels.name
    shown = pd.DataFrame(
        {
            "text": wrong["text"],
            "true class": wrong["true"].map(name_of),
            "predicted class": wrong["predicted"].map(name_of),
            "confidence": wrong["confidence"],
        }
    )
    classes = sorted(set(shown["true class"]) | set(shown["predicted class"]))
    places = st.columns(4 if sliced.columns else 2)
    true_pick = places[0].multiselect("True class", classes, key=TRUE_FILTER_KEY)
    pred_pick = places[1].multiselect("Predicted class", classes, key=PRED_FILTER_KEY)
    keep = np.ones(len(shown), dtype=bool)
    if true_pick:
        keep &= shown["true class"].isin(true_pick).to_numpy()
    if pred_pick:
        keep &= shown["predicted class"].isin(pred_pick).to_numpy()
    if sliced.columns:
        keep &= _slice_filter(sliced, shown, places[2], places[3])
    kept = shown[keep]
    st.caption(
        f"{len(kept):,} of {len(wrong):,} mistakes on the test set, most confident first"
        + (f"; the first {MAX_SHOWN_MISTAKES:,} shown." if len(kept) > MAX_SHOWN_MISTAKES else ".")
    )
    st.dataframe(
        kept.head(MAX_SHOWN_MISTAKES),
        hide_index=True,
        column_config={
            "text": st.column_config.TextColumn("headline", width="large"),
            "confidence": st.column_config.NumberColumn(format="%.3f"),
        },
    )


def _slice_filter(
    sliced: RunSlices,
    shown: pd.DataFrame,
    column_place: DeltaGenerator,
    values_place: DeltaGenerator,
) -> np.ndarray:
    """Draw the slice filter; add the picked column's slice to ``shown`` (in place) and
    return which mistakes the picked slices keep (all of them when none is picked)."""
    names = [column.name for column in sliced.columns]
    categorical, _ = default_columns(sliced.columns)
    keep_valid(FILTER_COLUMN_KEY, names, (categorical or sliced.columns[0]).name)
    with column_place:
        name = st.selectbox(
            "Slice column",
            names,
            key=FILTER_COLUMN_KEY,
            help="The column whose slices the next filter lists (its kind is in the "
            "“Slice by any column” picker above).",
        )
    column = sliced.column(name)
    shown_value = readable_bin if column.kind == "numeric" else str
    keys = row_slices(sliced, column).iloc[sliced.mistakes["position"].to_numpy()]
    options = filter_options(keys)
    values_key = f"{FILTER_VALUES_KEY}.{name}"
    st.session_state[values_key] = [
        value for value in st.session_state.get(values_key) or [] if value in options
    ]
    with values_place:
        picked = st.multiselect(
            "Slice",
            list(options),
            format_func=lambda value: (
                f"{shown_value(value)} ({count_phrase(options[value], 'mistake')})"
            ),
            key=values_key,
            placeholder="Every slice",
            help="Values of the slice column (weeks or bins for time and numeric columns), "
            "with the mistakes in each.",
        )
    text_keys = keys.astype(str).to_numpy()
    header = name if name not in _MISTAKE_COLUMNS else f"{name} (column)"
    shown[header] = pd.Series(text_keys, index=shown.index).map(shown_value)
    if not picked:
        return np.ones(len(shown), dtype=bool)
    return np.isin(text_keys, picked)


def _draw_saved_mistakes(saved: SavedRun) -> None:
    """The mistakes ``metrics.json`` keeps (the most confident ones), filtered by class."""
    wrong = pd.DataFrame(list(saved.metrics.misclassified))
    if wrong.empty:
        st.caption("No misclassified headlines were saved for this run.")
        return
    name_of = saved.labels.name
    wrong["true class"] = wrong["true"].map(name_of)
    wrong["predicted class"] = wrong["predicted"].map(name_of)
    classes = sorted(set(wrong["true class"]) | set(wrong["predicted class"]))
    left, right = st.columns(2)
    true_pick = left.multiselect("True class", classes, key=TRUE_FILTER_KEY)
    pred_pick = right.multiselect("Predicted class", classes, key=PRED_FILTER_KEY)
    shown = wrong
    if true_pick:
        shown = shown[shown["true class"].isin(true_pick)]
    if pred_pick:
        shown = shown[shown["predicted class"].isin(pred_pick)]
    st.caption(f"{len(shown):,} of {len(wrong):,} saved mistakes, most confident first.")
    st.dataframe(
        shown[["text", "true class", "predicted class", "confidence"]],
        hide_index=True,
        column_config={
            "text": st.column_config.TextColumn("headline", width="large"),
            "confidence": st.column_config.NumberColumn(format="%.3f"),
        },
    )
