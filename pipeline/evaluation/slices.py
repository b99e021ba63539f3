"""Test results per slice of the data: the publishers, weeks or values of any column where
the model fails.

A run keeps every test row's prediction with the row's position in the dataset it was
trained on (``test_predictions.json``, see :class:`~pipeline.runs.record.RowPredictions`).
:func:`join_test_rows` joins them with that dataset's other columns
(``Dataset.other_columns``) once the dataset's fingerprint matches the run's.
:func:`sliceable_columns` tells which columns can be sliced, and how, from their values
alone (no column name is known in advance):

- ``categorical``: strings, or numbers with at most :data:`MAX_CATEGORICAL_NUMBERS`
  distinct values; sliced by value, the :data:`TOP_VALUES` most frequent values kept
  and the rest folded into "other";
- ``numeric``: other numbers; sliced into :data:`NUMERIC_BINS` quantile bins;
- ``time``: date strings, or whole numbers that read as epoch milliseconds or seconds
  between 1973 and 2100; sliced by week (by month or year when there would be more than
  :data:`MAX_TIME_BINS` weeks).

Columns whose values are mostly distinct (titles, URLs, ids kept as text), columns with a
single value and empty columns are not sliceable. :func:`slice_metrics` scores the slices
of one column (rows, correct, accuracy with a Wilson 95 % interval, errors, macro F1);
:func:`run_slices` does it all for a saved run and a dataset.

Runs saved before per-row predictions were kept cannot be sliced: they raise
:class:`~pipeline.core.errors.NoRowPredictionsError`, whose message says to train the run again
(nothing is re-predicted behind the user's back: the test split of an old run might not
be the one today's code would draw). No TensorFlow, scikit-learn or Streamlit here.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from pipeline.core.errors import ConfigError, DatasetError, NoRowPredictionsError
from pipeline.data.columns import _find_column
from pipeline.data.dataset import Dataset, fingerprint

if TYPE_CHECKING:
    from pipeline.runs.registry import SavedRun

SliceKind = Literal["categorical", "numeric", "time"]
#: How a time column's values are written: epoch milliseconds, epoch seconds, date text.
TimeFormat = Literal["epoch_ms", "epoch_s", "date"]
#: How a table's slices were made: one per value, quantile bins, or calendar periods.
Bins = Literal["values", "quantiles", "week", "month", "year"]

#: Categorical slices kept by default (the most frequent values); the rest is "other".
TOP_VALUES: int = 20
#: Fewer test rows than this make a slice's accuracy too noisy to read: a categorical
#: slice that small is folded into "other", a time or numeric bin is flagged ``small``.
MIN_SLICE_ROWS: int = 30
#: Quantile bins of a numeric column.
NUMERIC_BINS: int = 5
#: Numbers with at most this many distinct values are categories (ratings, years).
MAX_CATEGORICAL_NUMBERS: int = 12
#: A column whose distinct values exceed this share of its non-empty rows reads as text.
TEXT_LIKE_SHARE: float = 0.9
#: Most calendar bins of a time column: weeks, else months, else years.
MAX_TIME_BINS: int = 60
#: The columns :func:`join_test_rows` adds; a dataset column named like one is left out.
PREDICTION_COLUMNS: tuple[str, ...] = ("row", "true", "predicted", "confidence")
#: The slice of rows without a value (an empty cell, or one that does not parse).
MISSING: str = "(missing)"
#: The slice of every categorical value not shown on its own.
OTHER: str = "other"
#: The normal quantile of a two-sided 95 % interval.
Z_95: float = 1.959963984540054

# Epoch values from 1973-03-03 to 2100-01-01: ids and counts are far smaller.
_EPOCH_RANGES: dict[TimeFormat, tuple[float, float]] = {
    "epoch_ms": (1e11, 4.1025e12),
    "epoch_s": (1e8, 4.1025e9),
}
_SAMPLE = 1000
_PERIOD_FORMATS: dict[str, str] = {"week": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


@dataclass(frozen=True)
class SliceColumn:
    """A column that can be sliced, and how.

    Attributes
    ----------
    name : str
        The column's name, as in the file.
    kind : {"categorical", "numeric", "time"}
        How its values are grouped (see the module docstring).
    distinct : int
        Distinct non-empty values in the frame it was detected on.
    time_format : {"epoch_ms", "epoch_s", "date"} or None
        How a time column's values are written; ``None`` for the other kinds.
    """

    name: str
    kind: SliceKind
    distinct: int
    time_format: TimeFormat | None = None

    def describe(self) -> str:
        """In words: ``"categorical, 1,325 values"``, ``"time, epoch milliseconds"``."""
        if self.kind == "categorical":
            return f"categorical, {self.distinct:,} values"
        if self.kind == "time":
            words = {"epoch_ms": "epoch milliseconds", "epoch_s": "epoch seconds"}
            return f"time, {words.get(self.time_format or '', 'dates')}"
        return "numeric"


@dataclass(frozen=True)
class SliceRow:
    """The test results of one slice.

    Attributes
    ----------
    value : str
        The value (categorical), the bin (``"[1, 84,588)"``) or the period's start
        (``"2014-03-10"`` for a week, ``"2014-03"``, ``"2014"``); :data:`OTHER` or
        :data:`MISSING` for those slices.
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
        :data:`MISSING`, for numeric and time columns, last.
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

    def to_frame(self) -> pd.DataFrame:
        """One row per slice: ``value``, ``rows``, ``correct``, ``errors``, ``accuracy``,
        ``ci_low``, ``ci_high``, ``macro_f1``, ``small``, ``values``, ``other``."""
        columns = ["value", "rows", "correct", "errors", "accuracy", "ci_low", "ci_high"]
        columns += ["macro_f1", "small", "values", "other"]
        return pd.DataFrame([row.to_json() for row in self.slices], columns=columns)

    def to_json(self) -> dict[str, Any]:
        """``column``, ``kind``, ``time_format``, ``bins``, ``top``, ``min_rows``,
        ``overall`` and ``slices`` (each as :meth:`SliceRow.to_json`)."""
        return {
            "column": self.column.name,
            "kind": self.column.kind,
            "time_format": self.column.time_format,
            "bins": self.bins,
            "top": self.top,
            "min_rows": self.min_rows,
            "overall": self.overall.to_json(),
            "slices": [row.to_json() for row in self.slices],
        }


# --------------------------------------------------------------------------- detection


def sliceable_columns(
    frame: pd.DataFrame, exclude: Collection[str] = ("text", "label")
) -> list[SliceColumn]:
    """The columns of ``frame`` that can be sliced, and how, in ``frame``'s order.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns of strings as read from a file (``Dataset.other_columns``), or of numbers.
    exclude : collection of str
        Columns never sliced (the normalised text and label); the names of
        :data:`PREDICTION_COLUMNS` are never sliced either.

    Returns
    -------
    list of SliceColumn
        Text-like columns (most values distinct), one-value and empty columns left out.
    """
    found = []
    for name in frame.columns:
        if str(name) in exclude:
            continue
        detected = detect_column(frame[name])
        if isinstance(detected, SliceColumn):
            found.append(detected)
    return found


def detect_column(values: pd.Series) -> SliceColumn | str:
    """How ``values`` (named by ``values.name``) can be sliced, or why it cannot.

    Returns
    -------
    SliceColumn or str
        The column's :class:`SliceColumn`, or a reason in words (``"most of its values
        are distinct"``) that fits after "it cannot be sliced: ".
    """
    name = str(values.name)
    if name in PREDICTION_COLUMNS:
        return f"its name is taken by the run's own columns ({', '.join(PREDICTION_COLUMNS)})"
    present = _present(values)
    if present.empty:
        return "it is empty in every row"
    distinct = int(present.nunique())
    if distinct < 2:
        return "it holds a single value"
    numbers = _numbers(present)
    if numbers is not None:
        return _numeric_column(name, numbers, distinct)
    if _looks_like_dates(present):
        return SliceColumn(name, "time", distinct, "date")
    if distinct > TEXT_LIKE_SHARE * len(present):
        return "most of its values are distinct, so it reads as text or ids"
    return SliceColumn(name, "categorical", distinct)


def _present(values: pd.Series) -> pd.Series:
    """The non-empty values (strings stripped)."""
    values = values.dropna()
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values
    stripped = values.astype(str).str.strip()
    return stripped[stripped != ""]


def _numbers(present: pd.Series) -> pd.Series | None:
    """``present`` as finite floats, or ``None`` when any value is not a number."""
    # A sample answers "no" for most text columns without parsing every row.
    for values in (_sample(present), present):
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        if not bool(np.isfinite(numbers.to_numpy()).all()):
            return None
    return numbers


def _sample(present: pd.Series) -> pd.Series:
    """About :data:`_SAMPLE` values spread evenly over ``present``."""
    return present.iloc[:: max(1, len(present) // _SAMPLE)]


def _numeric_column(name: str, numbers: pd.Series, distinct: int) -> SliceColumn:
    whole = bool((numbers == np.round(numbers)).all())
    low, high = float(numbers.min()), float(numbers.max())
    for time_format, (start, end) in _EPOCH_RANGES.items():
        if whole and start <= low and high <= end:
            return SliceColumn(name, "time", distinct, time_format)
    if distinct <= MAX_CATEGORICAL_NUMBERS:
        return SliceColumn(name, "categorical", distinct)
    return SliceColumn(name, "numeric", distinct)


def _looks_like_dates(present: pd.Series) -> bool:
    """Every value of an evenly spread sample holds a digit and parses as a date."""
    if pd.api.types.is_numeric_dtype(present.dtype):  # numbers with an infinity
        return False
    sample = _sample(present)
    if not bool(sample.str.contains(r"\d", regex=True).all()):
        return False
    return bool(_parse_dates(sample).notna().all())


def _parse_dates(text: pd.Series) -> pd.Series:
    """Date strings as UTC timestamps (``NaT`` where a value does not parse)."""
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    if parsed.notna().all():
        return parsed
    # Slower, value by value: any layout dateutil reads ("10 Mar 2014", "3/10/2014").
    return pd.to_datetime(text, errors="coerce", utc=True, format="mixed")


# --------------------------------------------------------------------------- metrics


def wilson_interval(correct: int, rows: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``correct / rows``.

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
    share = correct / rows
    z2 = z * z
    centre = (share + z2 / (2 * rows)) / (1 + z2 / rows)
    half = z / (1 + z2 / rows) * math.sqrt(share * (1 - share) / rows + z2 / (4 * rows * rows))
    # At 0 or rows correct the bound is exactly 0 or 1; the formula is off by a rounding.
    low = 0.0 if correct == 0 else max(0.0, centre - half)
    high = 1.0 if correct == rows else min(1.0, centre + half)
    return low, high


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
        column ``column.name`` (its values as read, e.g. from :func:`join_test_rows`).
    column : SliceColumn
        The column and how to slice it (from :func:`sliceable_columns`).
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


def slice_keys(values: pd.Series, column: SliceColumn) -> tuple[pd.Series, Bins]:
    """Each row's slice, as :class:`SliceRow` names it, and how the slices were made.

    Parameters
    ----------
    values : pandas.Series
        The column's values on the test rows.
    column : SliceColumn
        How to slice it.

    Returns
    -------
    (pandas.Series, str)
        Same index as ``values``. Categorical: the stripped values as strings. Numeric
        and time: an ordered categorical whose categories are the bins in order, then
        :data:`MISSING`. Numeric bins hold equal test rows, labelled ``"[low, high)"``
        (the last ``"[low, high]"``); time bins are labelled by their start:
        ``YYYY-MM-DD`` (a week's Monday, UTC), ``YYYY-MM`` or ``YYYY``. Empty or
        unparseable values are :data:`MISSING`. Then the :data:`Bins` used.
    """
    present = _present(values)
    if column.kind == "categorical":
        return present.astype(str).reindex(values.index, fill_value=MISSING), "values"
    if column.kind == "numeric":
        numbers = pd.to_numeric(present, errors="coerce").astype("float64").dropna()
        labels, order = _quantile_bins(numbers)
        bins: Bins = "quantiles"
    else:
        times = _timestamps(present, column.time_format).dropna()
        bins = _period(times)
        labels = _period_starts(times, bins).dt.strftime(_PERIOD_FORMATS[bins])
        order = sorted(set(labels))  # ISO dates sort chronologically as text
    keys = labels.astype(object).reindex(values.index, fill_value=MISSING)
    return keys.astype(pd.CategoricalDtype([*order, MISSING], ordered=True)), bins


def _timestamps(present: pd.Series, time_format: TimeFormat | None) -> pd.Series:
    if time_format == "date":
        return _parse_dates(present)
    numbers = pd.to_numeric(present, errors="coerce")
    unit = "ms" if time_format == "epoch_ms" else "s"
    return pd.to_datetime(numbers, unit=unit, utc=True, errors="coerce")


def _period(times: pd.Series) -> Literal["week", "month", "year"]:
    """The finest of week, month, year that gives at most :data:`MAX_TIME_BINS` bins."""
    if times.empty:
        return "week"
    first, last = times.min(), times.max()
    weeks = (last - first).days // 7 + 2  # a span of n weeks may touch n + 1 of them
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if weeks <= MAX_TIME_BINS:
        return "week"
    return "month" if months <= MAX_TIME_BINS else "year"


def _period_starts(times: pd.Series, period: str) -> pd.Series:
    day = times.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    if period == "week":
        return day - pd.to_timedelta(day.dt.day_of_week, unit="D")  # Monday
    if period == "month":
        return day.dt.to_period("M").dt.start_time
    return day.dt.to_period("Y").dt.start_time


def _quantile_bins(numbers: pd.Series) -> tuple[pd.Series, list[str]]:
    """Each number's quantile bin label, and the labels in ascending order."""
    if numbers.empty:
        return numbers.astype(object), []
    edges = np.unique(np.quantile(numbers.to_numpy(), np.linspace(0, 1, NUMERIC_BINS + 1)))
    if len(edges) == 1:
        edges = np.repeat(edges, 2)  # one value: the bin [v, v]
    last = len(edges) - 2
    order = [
        f"[{_number(low)}, {_number(high)}{']' if i == last else ')'}"
        for i, (low, high) in enumerate(pairwise(edges))
    ]
    codes = np.searchsorted(edges[1:-1], numbers.to_numpy(), side="right")
    return pd.Series(np.asarray(order, dtype=object)[codes], index=numbers.index), order


def _number(value: float) -> str:
    return format(float(value), ".6g")


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


# --------------------------------------------------------------------------- saved runs


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
    found = _find_column([str(c) for c in dataset.other_columns.columns], name)
    if found is None:
        if _find_column([dataset.text_col], name):
            reason = f"{dataset.text_col!r} is the text column: every headline is its own value"
        elif _find_column([dataset.label_col], name):
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
        As in :func:`slice_metrics`.

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
