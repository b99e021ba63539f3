"""Test results per slice of one column: rows, correct, accuracy with a Wilson 95 %
interval, errors and macro F1.

:func:`slice_metrics` scores the slices of a column (:mod:`pipeline.evaluation.slice_columns`
says which columns can be sliced and gives each row's slice) as a :class:`SliceTable` of
:class:`SliceRow`: categorical values with the :data:`TOP_VALUES` most test rows on their
own and the rest folded into "other", numeric and time bins in order, each flagged
``small`` below :data:`MIN_SLICE_ROWS`. :func:`wilson_interval` and :func:`macro_f1` are
the interval (scipy's) and the score. No TensorFlow, scikit-learn or Streamlit here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.errors import ConfigError
from pipeline.evaluation.slice_columns import Bins, SliceColumn, slice_keys

#: Categorical slices kept by default (the most frequent values); the rest is "other".
TOP_VALUES: int = 20
#: Fewer test rows than this make a slice's accuracy too noisy to read: a categorical
#: slice that small is folded into "other", a time or numeric bin is flagged ``small``.
MIN_SLICE_ROWS: int = 30
#: The slice of every categorical value not shown on its own.
OTHER: str = "other"
#: The normal quantile of a two-sided 95 % interval.
Z_95: float = 1.959963984540054


@dataclass(frozen=True)
class SliceRow:
    """The test results of one slice.

    Attributes
    ----------
    value : str
        The value (categorical), the bin (``"[1, 84,588)"``) or the period's start
        (``"2014-03-10"`` for a week, ``"2014-03"``, ``"2014"``); :data:`OTHER` or
        :data:`~pipeline.evaluation.slice_columns.MISSING` for those slices.
    rows, correct : int
        Test rows in the slice, and how many the model got right.
    ci_low, ci_high : float
        Wilson 95 % interval of the accuracy.
    macro_f1 : float or None
        Mean F1 over the true classes present in the slice; ``None`` when it has fewer
        than two (a one-class slice has no macro F1 worth reading: see ``errors``).
    small : bool
        Fewer rows than the table's ``min_rows``: too few to trust.
    values : int
        Distinct column values in the slice (more than one for "other" or a bin).
    other : bool
        The slice of the values not shown on their own.
    """

    value: str
    rows: int
    correct: int
    ci_low: float
    ci_high: float
    macro_f1: float | None
    small: bool = False
    values: int = 1
    other: bool = False

    @property
    def accuracy(self) -> float:
        """Correct rows over rows."""
        return self.correct / self.rows

    @property
    def errors(self) -> int:
        """Rows the model got wrong."""
        return self.rows - self.correct

    def to_json(self) -> dict[str, Any]:
        """Every field, with ``accuracy`` and ``errors``."""
        return {**asdict(self), "accuracy": self.accuracy, "errors": self.errors}


@dataclass(frozen=True)
class SliceTable:
    """Test results per slice of one column (:func:`slice_metrics`).

    Attributes
    ----------
    column : SliceColumn
        The column sliced.
    bins : {"values", "quantiles", "week", "month", "year"}
        How the slices were made.
    slices : tuple of SliceRow
        Categorical: worst accuracy first (ties: more rows first, then by value), "other"
        last. Numeric: bins in ascending order. Time: periods in chronological order.
        :data:`~pipeline.evaluation.slice_columns.MISSING`, for numeric and time columns, last.
    overall : SliceRow
        Every test row together (``value`` ``"all test rows"``).
    top, min_rows : int
        The settings the table was made with.
    """

    column: SliceColumn
    bins: Bins
    slices: tuple[SliceRow, ...]
    overall: SliceRow
    top: int
    min_rows: int

    @property
    def all_folded(self) -> bool:
        """A categorical table none of whose values has ``min_rows`` test rows: its one
        slice is "other" (see :func:`all_folded_note`)."""
        return (
            self.column.kind == "categorical"
            and bool(self.slices)
            and all(row.other for row in self.slices)
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per slice: ``value``, ``rows``, ``correct``, ``errors``, ``accuracy``,
        ``ci_low``, ``ci_high``, ``macro_f1``, ``small``, ``values``, ``other``."""
        columns = ["value", "rows", "correct", "errors", "accuracy", "ci_low", "ci_high"]
        columns += ["macro_f1", "small", "values", "other"]
        return pd.DataFrame([row.to_json() for row in self.slices], columns=columns)

    def to_json(self) -> dict[str, Any]:
        """``column``, ``kind``, ``time_format``, ``date_order``, ``bins``, ``top``, ``min_rows``,
        ``overall`` and ``slices`` (each as :meth:`SliceRow.to_json`)."""
        return {
            "column": self.column.name,
            "kind": self.column.kind,
            "time_format": self.column.time_format,
            "date_order": self.column.date_order,
            "bins": self.bins,
            "top": self.top,
            "min_rows": self.min_rows,
            "overall": self.overall.to_json(),
            "slices": [row.to_json() for row in self.slices],
        }


def all_folded_note(table: SliceTable, min_rows_setting: str) -> str | None:
    """Why a categorical ``table`` shows only "other" (no value has ``table.min_rows`` test
    rows), with the fix, ``min_rows_setting`` naming the setting where the reader is
    (``"Smallest slice"``, ``"--min-rows"``); ``None`` when some value is shown on its own
    or the column is not categorical. A chart of that one bar says nothing: a user's
    column of sources often has hundreds of values of a few test rows each."""
    if not table.all_folded:
        return None
    other = table.slices[-1]
    return (
        f"No value of {table.column.name} has {table.min_rows:,} test rows or more: all "
        f"{other.rows:,} test rows, of {other.values:,} values, are in “{OTHER}”. Lower "
        f"{min_rows_setting} to see its largest values one by one, or slice by a column with "
        "fewer values."
    )


# --------------------------------------------------------------------------- metrics


def wilson_interval(correct: int, rows: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``correct / rows``.

    scipy's ``binomtest(correct, rows).proportion_ci(method="wilson")`` at the two-sided
    confidence level of ``z``, ``erf(z / sqrt(2))`` (0.95 for :data:`Z_95`).

    Parameters
    ----------
    correct, rows : int
        Successes and trials (``0 <= correct <= rows``).
    z : float
        Normal quantile of the interval (:data:`Z_95` for 95 %).

    Returns
    -------
    (float, float)
        Lower and upper bound, within [0, 1]; ``(0.0, 1.0)`` when ``rows`` is 0.
    """
    if rows <= 0:
        return 0.0, 1.0
    # Imported here: scipy.stats takes seconds to import, and the app's slice page imports
    # this module.
    from scipy.stats import binomtest

    level = math.erf(z / math.sqrt(2))
    interval = binomtest(correct, rows).proportion_ci(confidence_level=level, method="wilson")
    return float(interval.low), float(interval.high)


def macro_f1(true: np.ndarray, predicted: np.ndarray) -> float | None:
    """Mean F1 over the classes present in ``true``; ``None`` with fewer than two.

    Parameters
    ----------
    true, predicted : array, shape (n,)
        Label codes.

    Returns
    -------
    float or None
        What scikit-learn's ``f1_score(true, predicted, labels=<classes in true>,
        average="macro")`` gives: a class only predicted has no F1 of its own, its rows
        are misses of their true classes.
    """
    classes = np.unique(true)
    if len(classes) < 2:
        return None
    scores = []
    for label in classes:
        hits = int(np.sum((true == label) & (predicted == label)))
        guessed = int(np.sum(predicted == label))
        actual = int(np.sum(true == label))
        scores.append(2 * hits / (guessed + actual))
    return float(np.mean(scores))


def slice_metrics(
    rows: pd.DataFrame,
    column: SliceColumn,
    *,
    top: int = TOP_VALUES,
    min_rows: int = MIN_SLICE_ROWS,
) -> SliceTable:
    """Test results per slice of ``column``.

    Parameters
    ----------
    rows : pandas.DataFrame
        One row per test row with ``true`` and ``predicted`` (label codes) and the
        column ``column.name`` (its values as read, e.g. from
        :func:`~pipeline.evaluation.slices.join_test_rows`).
    column : SliceColumn
        The column and how to slice it (from
        :func:`~pipeline.evaluation.slice_columns.sliceable_columns`).
    top : int
        Categorical: the most values shown on their own (by test rows; ties by value).
    min_rows : int
        Categorical values with fewer test rows are folded into "other"; numeric and time
        bins with fewer are kept, flagged ``small``.

    Returns
    -------
    SliceTable
        The slices in the order :class:`SliceTable` describes, and the overall row.

    Raises
    ------
    ConfigError
        ``top`` or ``min_rows`` below 1.
    """
    for setting, value in (("top", top), ("min_rows", min_rows)):
        if value < 1:
            raise ConfigError(f"{setting} must be at least 1 (got {value}).")
    true = rows["true"].to_numpy(dtype=object)
    predicted = rows["predicted"].to_numpy(dtype=object)
    keys, bins = slice_keys(rows[column.name], column)
    scorer = _Scorer(true, predicted, min_rows)
    if column.kind == "categorical":
        slices = _categorical_slices(keys, scorer, top, min_rows)
    else:
        slices = _ordered_slices(keys, scorer)
    overall = scorer.row("all test rows", np.ones(len(true), dtype=bool))
    return SliceTable(column, bins, tuple(slices), overall, top, min_rows)


class _Scorer:
    """Scores any subset of the test rows (a boolean mask) as a :class:`SliceRow`."""

    def __init__(self, true: np.ndarray, predicted: np.ndarray, min_rows: int) -> None:
        self.true, self.predicted, self.min_rows = true, predicted, min_rows
        self.correct = true == predicted

    def row(self, value: str, mask: np.ndarray, values: int = 1, other: bool = False) -> SliceRow:
        rows, correct = int(mask.sum()), int(self.correct[mask].sum())
        low, high = wilson_interval(correct, rows)
        return SliceRow(
            value=value,
            rows=rows,
            correct=correct,
            ci_low=low,
            ci_high=high,
            macro_f1=macro_f1(self.true[mask], self.predicted[mask]),
            small=rows < self.min_rows,
            values=values,
            other=other,
        )


def _categorical_slices(
    keys: pd.Series, scorer: _Scorer, top: int, min_rows: int
) -> list[SliceRow]:
    counts = keys.value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    shown = [str(value) for value, n in counts.head(top).items() if n >= min_rows]
    labels = keys.to_numpy(dtype=object)
    slices = [scorer.row(value, labels == value) for value in shown]
    slices.sort(key=lambda row: (row.accuracy, -row.rows, row.value))
    folded = ~keys.isin(shown).to_numpy()
    if folded.any():
        slices.append(scorer.row(OTHER, folded, values=len(counts) - len(shown), other=True))
    return slices


def _ordered_slices(keys: pd.Series, scorer: _Scorer) -> list[SliceRow]:
    """One row per bin with test rows, in the categories' order."""
    labels = keys.to_numpy(dtype=object)
    present = set(labels)
    return [
        scorer.row(str(value), labels == value) for value in keys.cat.categories if value in present
    ]
