"""A saved run's test results per slice of its dataset: the publishers, weeks or values of
any column where the model fails.

A run keeps every test row's prediction with the row's position in the dataset it was
trained on (``test_predictions.json``, see :class:`~pipeline.runs.results.RowPredictions`).
:func:`join_test_rows` joins them with that dataset's other columns
(``Dataset.other_columns``) once the dataset's fingerprint matches the run's.
:func:`find_slice_column` finds the column to slice by (which columns can be sliced, and
how: :mod:`pipeline.evaluation.slice_columns`); :func:`run_slices` does it all for a saved
run and a dataset, scoring the slices with
:func:`~pipeline.evaluation.slice_scores.slice_metrics`.

Runs saved before per-row predictions were kept cannot be sliced: they raise
:class:`~pipeline.core.errors.NoRowPredictionsError`, whose message says to train the run again
(nothing is re-predicted behind the user's back: the test split of an old run might not
be the one today's code would draw). No TensorFlow, scikit-learn or Streamlit here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipeline.core.errors import DatasetError, NoRowPredictionsError
from pipeline.data.columns import find_column
from pipeline.data.dataset import Dataset, fingerprint
from pipeline.evaluation.slice_columns import (
    PREDICTION_COLUMNS,
    SliceColumn,
    detect_column,
    sliceable_columns,
)
from pipeline.evaluation.slice_scores import MIN_SLICE_ROWS, TOP_VALUES, SliceTable, slice_metrics

if TYPE_CHECKING:
    from pipeline.runs.summary import SavedRun


def check_same_data(saved: SavedRun, dataset: Dataset) -> None:
    """Raise :class:`DatasetError` unless ``dataset`` holds the rows ``saved`` was trained
    on (equal fingerprints): only then do its row positions mean the same rows."""
    found = fingerprint(dataset)
    if found == saved.data.fingerprint:
        return
    data = saved.data
    raise DatasetError(
        f"Run {saved.run_id} was trained on {data.dataset} (fingerprint {data.fingerprint}), "
        f"but the data loaded is {dataset.name} (fingerprint {found}): their rows differ, so "
        "the run's test rows cannot be matched to its columns. Load the file the run was "
        f"trained on, with text column {data.text_col!r} and label column "
        f"{data.label_col!r}."
    )


def join_test_rows(saved: SavedRun, dataset: Dataset) -> pd.DataFrame:
    """A saved run's test predictions joined with the dataset's other columns.

    Parameters
    ----------
    saved : SavedRun
        A run from :meth:`~pipeline.runs.registry.RunRegistry.get`.
    dataset : Dataset
        The data the run was trained on (checked by fingerprint).

    Returns
    -------
    pandas.DataFrame
        One row per scored test row, in scoring order: ``row`` (position in
        ``dataset.frame``), ``true``, ``predicted``, ``confidence``, then every column of
        ``dataset.other_columns`` under its own name (one named like the first four is
        left out).

    Raises
    ------
    NoRowPredictionsError
        The run kept no per-row predictions (saved before they were).
    DatasetError
        ``dataset`` is not the run's data, or its other columns are not aligned with its
        rows.
    RunRecordError
        The run's ``test_predictions.json`` is damaged.
    """
    predictions = saved.test_predictions()
    if predictions is None:
        raise NoRowPredictionsError(
            f"Run {saved.run_id} was saved before Headline Lab kept each test row's "
            "prediction, so its test results cannot be sliced. Train it again with the same "
            "data and settings, forcing a fresh training (the cache would return this run), "
            "and slice the new run."
        )
    check_same_data(saved, dataset)
    others = _aligned_other_columns(dataset)
    picked = others.iloc[list(predictions.row)].reset_index(drop=True)
    joined = pd.DataFrame(
        {
            "row": np.asarray(predictions.row, dtype=np.int64),
            "true": pd.Series(predictions.true, dtype=object),
            "predicted": pd.Series(predictions.predicted, dtype=object),
            "confidence": np.asarray(predictions.confidence, dtype=np.float64),
        }
    )
    kept = [c for c in picked.columns if str(c) not in PREDICTION_COLUMNS]
    return pd.concat([joined, picked[kept]], axis=1)


def _aligned_other_columns(dataset: Dataset) -> pd.DataFrame:
    others = dataset.other_columns
    if len(others.columns) == 0:
        return pd.DataFrame(index=dataset.frame.index)
    if not others.index.equals(dataset.frame.index):
        raise DatasetError(
            f"The other columns of {dataset.name} are not row for row with its texts and "
            "labels; load the file again with load_dataset instead of editing its frame."
        )
    return others


def find_slice_column(dataset: Dataset, name: str) -> SliceColumn:
    """The column ``name`` of ``dataset`` (matched ignoring case), detected on all its rows.

    Raises
    ------
    DatasetError
        No such column, or one that cannot be sliced (the text, the label, text-like,
        one value): the message says why and lists the sliceable columns.
    """
    found = find_column([str(c) for c in dataset.other_columns.columns], name)
    if found is None:
        if find_column([dataset.text_col], name):
            reason = f"{dataset.text_col!r} is the text column: every headline is its own value"
        elif find_column([dataset.label_col], name):
            reason = (
                f"{dataset.label_col!r} is the label column: its scores per class are in the "
                "run's class table"
            )
        else:
            reason = f"{dataset.name} has no column {name!r}"
        raise DatasetError(f"{reason}. {_sliceable_listing(dataset)}")
    detected = detect_column(dataset.other_columns[found])
    if isinstance(detected, str):
        raise DatasetError(
            f"Column {found!r} cannot be sliced: {detected}. {_sliceable_listing(dataset)}"
        )
    return detected


def _sliceable_listing(dataset: Dataset) -> str:
    columns = sliceable_columns(dataset.other_columns)
    if not columns:
        return f"{dataset.name} has no column to slice by besides its text and label."
    listing = ", ".join(f"{c.name} ({c.describe()})" for c in columns)
    return f"Sliceable columns: {listing}."


def run_slices(
    saved: SavedRun,
    dataset: Dataset,
    by: str,
    *,
    top: int = TOP_VALUES,
    min_rows: int = MIN_SLICE_ROWS,
) -> SliceTable:
    """A saved run's test results per slice of the column ``by`` of its dataset.

    Parameters
    ----------
    saved : SavedRun
        The run.
    dataset : Dataset
        The data it was trained on.
    by : str
        A column of the file (ignoring case), other than the text and the label.
    top, min_rows : int
        As in :func:`~pipeline.evaluation.slice_scores.slice_metrics`.

    Returns
    -------
    SliceTable

    Raises
    ------
    NoRowPredictionsError, DatasetError, RunRecordError
        As :func:`join_test_rows` and :func:`find_slice_column`.
    ConfigError
        ``top`` or ``min_rows`` below 1.
    """
    rows = join_test_rows(saved, dataset)
    column = find_slice_column(dataset, by)
    return slice_metrics(rows, column, top=top, min_rows=min_rows)
