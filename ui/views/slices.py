"""The Results page's "Where the model fails" section (its misclassified browser, which
filters by the same slices, is :mod:`ui.views.mistakes`).

A run saved with every test row's prediction (``test_predictions.json``) is joined with
the active dataset's other columns (:func:`pipeline.evaluation.slices.join_test_rows`) when that
dataset is the run's own (same fingerprint). The section then shows the run's test
accuracy per slice of the columns
:func:`pipeline.evaluation.slice_columns.sliceable_columns` finds, no column name assumed:
the publisher-like column and the first time column side by side
(:func:`pipeline.evaluation.slice_columns.default_columns`),
and any column with its table on request; a numeric column's bins read as ranges
("3 – 83,716").

Nothing slow runs twice: the sliceable columns per dataset (``st.cache_data``: about 2 s
on the full UCI file), the join with its mistakes per run and dataset
(``st.cache_resource``: read-only frames, never copied), and the slice tables
per run, dataset, column and smallest slice (``st.cache_data``). A run is keyed by its
id, its creation time and its predictions file, so a run trained again under the same
id is never served from an older one's cache.

Every value comes from a user's file: charts escape it (:mod:`ui.figures.slices`), messages
Markdown-escape it, and tables show it as plain cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pipeline.core.errors import DatasetError, HeadlineLabError, NoRowPredictionsError
from pipeline.data.bundled import DEFAULT_DATA_PATH
from pipeline.data.dataset import fingerprint
from pipeline.evaluation.slice_columns import (
    MISSING,
    SliceColumn,
    default_columns,
    sliceable_columns,
)
from pipeline.evaluation.slice_scores import (
    MIN_SLICE_ROWS,
    TOP_VALUES,
    SliceTable,
    all_folded_note,
    slice_metrics,
)
from pipeline.evaluation.slices import join_test_rows
from ui.core import state
from ui.core.data import load_source
from ui.core.errors import report_errors, show_error
from ui.core.numbers import SHARE_COLUMN, count_phrase, format_share
from ui.core.runs import run_cache_key
from ui.core.state import get_dataset_source
from ui.core.text import escape_markdown, plotly_text
from ui.figures.slices import readable_bin, slice_accuracy_bars, slice_accuracy_over_time

if TYPE_CHECKING:
    from pipeline.data import Dataset
    from pipeline.runs.summary import SavedRun

SECTION_TITLE = "Where the model fails"
#: Widget keys of the section.
MIN_ROWS_KEY = "keep.results.slice_min_rows"
SLICE_BY_KEY = "keep.results.slice_by"


@dataclass(frozen=True, eq=False)
class RunSlices:
    """A run's test rows joined with its dataset's columns, ready to slice (read-only).

    Attributes
    ----------
    key : str
        The run's and the dataset's cache keys together: what the per-column caches key on.
    dataset_name : str
        The dataset's name, for messages.
    rows : pandas.DataFrame
        :func:`pipeline.evaluation.slices.join_test_rows`: ``row``, ``true``, ``predicted``,
        ``confidence`` and the file's other columns, one row per test row.
    mistakes : pandas.DataFrame
        The rows the model got wrong, most confident first: ``position`` (in ``rows``),
        ``text`` (from the dataset), ``true``, ``predicted`` (label codes), ``confidence``.
    columns : tuple of SliceColumn
        The dataset's sliceable columns, in the file's order.
    """

    key: str
    dataset_name: str
    rows: pd.DataFrame
    mistakes: pd.DataFrame
    columns: tuple[SliceColumn, ...]

    def column(self, name: str) -> SliceColumn:
        """The sliceable column called ``name``."""
        return next(column for column in self.columns if column.name == name)


@dataclass(frozen=True, eq=False)
class _Joined:
    """The cached outcome of joining a run with a dataset: rows, or the problem."""

    rows: pd.DataFrame | None = None
    mistakes: pd.DataFrame | None = None
    problem: HeadlineLabError | None = None
    #: The problem is that the dataset is not the run's own.
    other_data: bool = False


# --------------------------------------------------------------------------- pure helpers


def column_label(column: SliceColumn) -> str:
    """A column and its kind, as the pickers list it: ``"TIMESTAMP (time, epoch
    milliseconds)"`` (plain text: option labels are not Markdown)."""
    return f"{column.name} ({column.describe()})"


def slice_table_frame(table: SliceTable) -> pd.DataFrame:
    """A slice table for people: ``value``, ``rows``, ``accuracy``, ``95% CI`` (text such
    as ``"88.1% to 93.4%"``), ``errors``, ``macro F1`` and ``note`` (a small slice, or the
    number of values folded into "other"), in the table's order."""
    numeric = table.column.kind == "numeric"
    rows = []
    for row in table.slices:
        note = ""
        if row.other:
            note = (
                f"{count_phrase(row.values, 'value')} with fewer than "
                f"{table.min_rows:,} test rows each, or beyond the {table.top} largest"
            )
        elif row.small:
            note = f"small: fewer than {table.min_rows:,} test rows"
        rows.append(
            {
                "value": (
                    f"{row.value} ({count_phrase(row.values, 'value')})"
                    if row.other
                    else readable_bin(row.value)
                    if numeric
                    else row.value
                ),
                "rows": row.rows,
                "accuracy": row.accuracy,
                "95% CI": f"{format_share(row.ci_low)} to {format_share(row.ci_high)}",
                "errors": row.errors,
                "macro F1": row.macro_f1,
                "note": note,
            }
        )
    columns = ["value", "rows", "accuracy", "95% CI", "errors", "macro F1", "note"]
    return pd.DataFrame(rows, columns=columns)


def slice_figure(table: SliceTable) -> go.Figure:
    """The chart of a slice table: accuracy over time for a time column, horizontal bars
    (worst first for a categorical column, bins in order for a numeric one) otherwise."""
    frame = table.to_frame()
    if table.column.kind == "numeric":  # bins read "3 – 83,716", not "[3, 83715.8)"
        frame["value"] = frame["value"].map(readable_bin)
    name = table.column.name
    overall = table.overall.accuracy
    if table.column.kind == "time":
        return slice_accuracy_over_time(
            frame, overall, column=name, period=table.bins, min_rows=table.min_rows
        )
    if table.column.kind == "categorical":
        title = f"Test accuracy per {plotly_text(name)}, worst first"
    else:
        title = f"Test accuracy per {plotly_text(name)} (bins of equal rows)"
    return slice_accuracy_bars(frame, overall, column=name, title=title, min_rows=table.min_rows)


# --------------------------------------------------------------------------- caches


@st.cache_data(show_spinner="Finding the columns to slice by…", max_entries=8)
def _columns(data_key: str, _dataset: Dataset) -> tuple[SliceColumn, ...]:
    return tuple(sliceable_columns(_dataset.other_columns))


@st.cache_resource(show_spinner="Matching the run's test rows with the data…", max_entries=8)
def _join(run_key: str, data_key: str, _saved: SavedRun, _dataset: Dataset) -> _Joined:
    try:
        rows = join_test_rows(_saved, _dataset)
    except DatasetError as err:
        return _Joined(problem=err, other_data=fingerprint(_dataset) != _saved.data.fingerprint)
    except HeadlineLabError as err:  # no predictions, or a damaged predictions file
        return _Joined(problem=err)
    wrong = np.flatnonzero((rows["true"] != rows["predicted"]).to_numpy())
    confidence = rows["confidence"].to_numpy()
    order = wrong[np.argsort(-confidence[wrong], kind="stable")]
    texts = _dataset.frame["text"].to_numpy(dtype=object)
    mistakes = pd.DataFrame(
        {
            "position": order,
            "text": texts[rows["row"].to_numpy()[order]],
            "true": rows["true"].to_numpy(dtype=object)[order],
            "predicted": rows["predicted"].to_numpy(dtype=object)[order],
            "confidence": confidence[order],
        }
    )
    return _Joined(rows=rows, mistakes=mistakes)


@st.cache_data(show_spinner="Scoring the slices…", max_entries=64)
def _table(
    key: str, name: str, min_rows: int, _rows: pd.DataFrame, _column: SliceColumn
) -> SliceTable:
    return slice_metrics(_rows, _column, top=TOP_VALUES, min_rows=min_rows)


def slice_table(sliced: RunSlices, column: SliceColumn, min_rows: int) -> SliceTable:
    """:func:`pipeline.evaluation.slice_scores.slice_metrics` of ``column`` on the run's test
    rows (the :data:`~pipeline.evaluation.slice_scores.TOP_VALUES` largest values), cached."""
    return _table(sliced.key, column.name, int(min_rows), sliced.rows, column)


# --------------------------------------------------------------------------- drawing


def load_run_slices(saved: SavedRun) -> RunSlices | None:
    """The run joined with the active dataset, or ``None`` after saying on the page why
    not: a run saved without per-row predictions, another dataset active, a damaged
    predictions file or a dataset that fails to load."""
    if not saved.predictions_path.is_file():  # known without loading the dataset
        _explain_no_predictions()
        return None
    source = get_dataset_source()
    with report_errors() as outcome:
        dataset = load_source(source)
        joined = _join(run_cache_key(saved), source.cache_key, saved, dataset)
        columns = _columns(source.cache_key, dataset) if joined.problem is None else ()
    if not outcome.ok:
        return None
    if isinstance(joined.problem, NoRowPredictionsError):
        _explain_no_predictions()
        return None
    if joined.other_data:
        _explain_other_data(saved, dataset.name)
        return None
    if joined.problem is not None or joined.rows is None or joined.mistakes is None:
        show_error(joined.problem or RuntimeError("the run's test rows could not be joined"))
        return None
    return RunSlices(
        key=f"{run_cache_key(saved)}|{source.cache_key}",
        dataset_name=dataset.name,
        rows=joined.rows,
        mistakes=joined.mistakes,
        columns=columns,
    )


def _explain_no_predictions() -> None:
    st.info(
        "This run was saved before Headline Lab kept each test row's prediction, so its "
        "test results cannot be split by publisher, time or any other column. Train it "
        "again on the Train page with the same data and settings (press **Train again "
        "anyway** when the cached run comes back): the new run keeps them.",
        icon=":material/history:",
    )
    st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")


def _explain_other_data(saved: SavedRun, active: str) -> None:
    data = saved.data
    trained_on = escape_markdown(data.dataset)
    if data.dataset == DEFAULT_DATA_PATH.name:
        load = "Choose the bundled UCI News Aggregator in the sidebar"
    else:
        load = (
            f"Upload {trained_on} in the sidebar (text column "
            f"**{escape_markdown(data.text_col)}**, label column "
            f"**{escape_markdown(data.label_col)}**)"
        )
    st.info(
        f"This run was trained on **{trained_on}**, but the active dataset is "
        f"**{escape_markdown(active)}**: its rows are not the run's, so the run's test rows "
        f"cannot be matched with their publishers, dates and other columns. {load} to see "
        "where this run fails.",
        icon=":material/dataset:",
    )


def keep_valid(key: str, options: Sequence[str], default: str) -> None:
    """Give the picker of session key ``key`` ``default`` unless it holds one of
    ``options`` (another dataset or run may have left a value no longer offered)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def _min_rows_input() -> int:
    state.init_widget(MIN_ROWS_KEY, MIN_SLICE_ROWS)
    return int(
        st.number_input(
            "Smallest slice (test rows)",
            min_value=1,
            max_value=1_000_000,
            step=1,
            key=MIN_ROWS_KEY,
            help="Values with fewer test rows are folded into “other”; time and numeric "
            "bins with fewer are kept and drawn pale. Below "
            f"{MIN_SLICE_ROWS} rows a slice's accuracy is too noisy to read. Applies to "
            "every chart and table of this section.",
        )
    )


def _draw_chart(sliced: RunSlices, column: SliceColumn, min_rows: int) -> SliceTable:
    """The chart of ``column``'s slices, or, where every value is folded into "other",
    why, with the fix (one bar of every row says nothing)."""
    table = slice_table(sliced, column, min_rows)
    folded_note = all_folded_note(table, "Smallest slice")
    if folded_note:
        st.info(escape_markdown(folded_note), icon=":material/info:")
        return table
    st.plotly_chart(slice_figure(table), key=f"slices.chart.{column.name}")
    if column.kind == "time":
        missing = sum(row.rows for row in table.slices if row.value == MISSING)
        if missing:
            st.caption(
                f"{missing:,} test rows have no readable {escape_markdown(column.name)} "
                "value; they are in the table, not on the chart."
            )
    return table


def draw_slices_section(saved: SavedRun) -> RunSlices | None:
    """Draw "Where the model fails": the default slice charts side by side, then a picker
    of any sliceable column with its chart and table.

    Returns the run's slices for :func:`draw_misclassified`, or ``None`` when the run
    cannot be sliced (the section says why).
    """
    st.subheader(SECTION_TITLE)
    sliced = load_run_slices(saved)
    if sliced is None:
        return None
    if not sliced.columns:
        st.info(
            f"{escape_markdown(sliced.dataset_name)} has no column to slice the test results "
            "by besides its text and label: no column of categories (with repeated values), "
            "numbers or dates.",
            icon=":material/info:",
        )
        return sliced
    settings, note = st.columns([1, 3])
    with settings:
        min_rows = _min_rows_input()
    note.caption(
        "Test accuracy per slice of the data, from each test row's saved prediction, with "
        "its 95% Wilson interval. Categorical columns show their "
        f"{TOP_VALUES} largest values in the test set (worst first), time columns their "
        "weeks (months or years over a long span), numeric columns five bins of equal rows."
    )
    categorical, time = default_columns(sliced.columns)
    charted = [column for column in (categorical, time) if column is not None]
    if charted:
        for place, column in zip(st.columns(2), charted, strict=False):
            with place:
                _draw_chart(sliced, column, min_rows)

    names = [column.name for column in sliced.columns]
    labels = {column.name: column_label(column) for column in sliced.columns}
    keep_valid(SLICE_BY_KEY, names, (categorical or sliced.columns[0]).name)
    picked = sliced.column(
        st.selectbox(
            "Slice by any column",
            names,
            format_func=labels.__getitem__,
            key=SLICE_BY_KEY,
            help="Every column of the file but the text and the label that holds categories, "
            "numbers or dates (found from its values).",
        )
    )
    if picked in charted:
        table = slice_table(sliced, picked, min_rows)
        if not table.all_folded:  # else the note above says why there is no chart
            st.caption("Its chart is above.")
    else:
        table = _draw_chart(sliced, picked, min_rows)
    overall = table.overall
    st.dataframe(
        slice_table_frame(table),
        hide_index=True,
        width="stretch",
        column_config={
            "value": st.column_config.TextColumn("value", width="medium"),
            "rows": st.column_config.NumberColumn("rows", format="localized"),
            "accuracy": st.column_config.ProgressColumn(
                "accuracy", min_value=0.0, max_value=1.0, width="small", **SHARE_COLUMN
            ),
            "errors": st.column_config.NumberColumn("errors", format="localized"),
            "macro F1": st.column_config.NumberColumn("macro F1", format="%.3f"),
        },
        key=f"slices.table.{picked.name}",
    )
    st.caption(
        f"All {overall.rows:,} test rows: accuracy {format_share(overall.accuracy)} "
        f"(95% CI {format_share(overall.ci_low)} to "
        f"{format_share(overall.ci_high)}). A slice whose rows all have one true "
        "class has no macro F1 (None)."
    )
    return sliced
