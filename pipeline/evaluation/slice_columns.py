"""Which columns of a dataset can be sliced, and each test row's slice of one.

:func:`sliceable_columns` tells which columns can be sliced, and how, from their values
alone (no column name is known in advance):

- ``categorical``: strings, or numbers with at most :data:`MAX_CATEGORICAL_NUMBERS`
  distinct values; sliced by value (the scores keep the most frequent values and fold the
  rest into "other", see :mod:`pipeline.evaluation.slice_scores`);
- ``numeric``: other numbers, plain or as spreadsheets write them (``32,648``, ``4,5``,
  ``20%``: :mod:`pipeline.evaluation.written_numbers`, one style per column); sliced into
  :data:`NUMERIC_BINS` quantile bins;
- ``time``: date strings, or whole numbers that read as epoch milliseconds or seconds
  between 1973 and 2100; sliced by week (by month or year when there would be more than
  :data:`MAX_TIME_BINS` weeks). Dates that write the day and the month as numbers
  (``01/04/2014``) are read one way for the whole column (:data:`DateOrder`), decided
  from all its values: read value by value, a day-first file's 1 April would be 4 January
  wherever the day is 12 or less.

Columns whose values are mostly distinct (titles, URLs, ids kept as text), columns with a
single value and empty columns are not sliceable. :func:`detect_column` says how one
column can be sliced or why it cannot, and :func:`slice_keys` gives each row's slice
(its value, bin or period). No TensorFlow, scikit-learn or Streamlit here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Literal

import numpy as np
import pandas as pd
from dateutil import parser as dateutil_parser

from pipeline.data.columns import find_column
from pipeline.evaluation.written_numbers import NumberStyle, number_style, read_numbers

SliceKind = Literal["categorical", "numeric", "time"]
#: How a time column's values are written: epoch milliseconds, epoch seconds, date text.
TimeFormat = Literal["epoch_ms", "epoch_s", "date"]
#: How a date column writes the day and the month as numbers (``13/03/2014``,
#: ``03/13/2014``): some value's first or second number is above 12, or none says
#: (``"unknown"``: read month first, as dateutil does).
DateOrder = Literal["day_first", "month_first", "unknown"]
#: How a table's slices were made: one per value, quantile bins, or calendar periods.
Bins = Literal["values", "quantiles", "week", "month", "year"]

#: Quantile bins of a numeric column.
NUMERIC_BINS: int = 5
#: Numbers with at most this many distinct values are categories (ratings, years).
MAX_CATEGORICAL_NUMBERS: int = 12
#: A column whose distinct values exceed this share of its non-empty rows reads as text.
TEXT_LIKE_SHARE: float = 0.9
#: Most calendar bins of a time column: weeks, else months, else years.
MAX_TIME_BINS: int = 60
#: The columns :func:`~pipeline.evaluation.slices.join_test_rows` adds; a dataset column
#: named like one is left out.
PREDICTION_COLUMNS: tuple[str, ...] = ("row", "true", "predicted", "confidence")
#: The slice of rows without a value (an empty cell, or one that does not parse).
MISSING: str = "(missing)"

# Epoch values from 1973-03-03 to 2100-01-01: ids and counts are far smaller.
_EPOCH_RANGES: dict[TimeFormat, tuple[float, float]] = {
    "epoch_ms": (1e11, 4.1025e12),
    "epoch_s": (1e8, 4.1025e9),
}
_SAMPLE = 1000
#: Two dates that differ only in their (leap) year, the defaults of :func:`_writes_a_year`.
_DEFAULT_A, _DEFAULT_B = datetime(1904, 1, 1), datetime(1908, 1, 1)
#: A date that starts with its day and month as numbers, then a 2- or 4-digit year.
_NUMERIC_DATE = r"^(\d{1,2})[./-](\d{1,2})[./-](?:\d{4}|\d{2})(?!\d)"
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
    date_order : {"day_first", "month_first", "unknown"} or None
        How a date column writes its numeric days and months (:data:`DateOrder`);
        ``None`` where none does (ISO dates, month names) and for the other kinds.
    number_style : str or None
        How the column writes its numbers when not plainly (``"1.234,5"``, see
        :mod:`pipeline.evaluation.written_numbers`); ``None`` for plain numbers and text.
    """

    name: str
    kind: SliceKind
    distinct: int
    time_format: TimeFormat | None = None
    date_order: DateOrder | None = None
    number_style: NumberStyle | None = None

    def describe(self) -> str:
        """In words: ``"categorical, 1,325 values"``, ``"time, epoch milliseconds"``,
        ``"time, dates written day first"``."""
        if self.kind == "categorical":
            return f"categorical, {self.distinct:,} values"
        if self.kind != "time":
            return f"numeric, written {self.number_style}" if self.number_style else "numeric"
        words = {
            "epoch_ms": "epoch milliseconds",
            "epoch_s": "epoch seconds",
            "day_first": "dates written day first",
            "month_first": "dates written month first",
            "unknown": "dates read month first: no day above 12 shows which comes first",
        }
        return f"time, {words.get(self.date_order or self.time_format or '', 'dates')}"


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
    found = _numbers(present)
    if found is not None:
        return _numeric_column(name, *found, distinct)
    if _looks_like_dates(present):
        order, unreadable = _date_order(present)
        if unreadable:
            return unreadable
        return SliceColumn(name, "time", distinct, "date", order)
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


def _numbers(present: pd.Series) -> tuple[pd.Series, NumberStyle | None] | None:
    """``present`` as finite floats and the style they are written in (``None``: plainly),
    or ``None`` when some value is no number in the column's one style."""
    style: NumberStyle | None = None
    # A sample answers "no" for most text columns without parsing every row.
    for values in (_sample(present), present):
        numbers = read_numbers(values, style)
        if not bool(np.isfinite(numbers.to_numpy()).all()):
            style = number_style(values)
            if style is None:
                return None
            numbers = read_numbers(values, style)
            if not bool(np.isfinite(numbers.to_numpy()).all()):
                return None
    return numbers, style


def _sample(present: pd.Series) -> pd.Series:
    """About :data:`_SAMPLE` values spread evenly over ``present``."""
    return present.iloc[:: max(1, len(present) // _SAMPLE)]


def _numeric_column(
    name: str, numbers: pd.Series, style: NumberStyle | None, distinct: int
) -> SliceColumn:
    whole = bool((numbers == np.round(numbers)).all())
    low, high = float(numbers.min()), float(numbers.max())
    for time_format, (start, end) in _EPOCH_RANGES.items():
        if whole and start <= low and high <= end:
            return SliceColumn(name, "time", distinct, time_format, number_style=style)
    if distinct <= MAX_CATEGORICAL_NUMBERS:
        return SliceColumn(name, "categorical", distinct, number_style=style)
    return SliceColumn(name, "numeric", distinct, number_style=style)


def _looks_like_dates(present: pd.Series) -> bool:
    """Every value of an evenly spread sample holds a digit, parses as a date and writes
    its year: a time of day ("16:52") or a day without a year ("10 Mar") would be read as
    a date of the year the page is drawn in."""
    if pd.api.types.is_numeric_dtype(present.dtype):  # numbers with an infinity
        return False
    sample = _sample(present)
    if not bool(sample.str.contains(r"\d", regex=True).all()):
        return False
    return bool(_parse_dates(sample).notna().all()) and all(map(_writes_a_year, sample))


def _writes_a_year(value: str) -> bool:
    """Whether date text ``value`` gives its year: read with two default years, the same
    date comes out (the parser fills what the text leaves out from the default)."""
    try:
        return dateutil_parser.parse(value, default=_DEFAULT_A) == dateutil_parser.parse(
            value, default=_DEFAULT_B
        )
    except (ValueError, OverflowError):
        return True  # ISO forms dateutil does not read: pandas read them, with their year


def _date_order(present: pd.Series) -> tuple[DateOrder | None, str | None]:
    """How ``present`` writes numeric days and months (:data:`DateOrder`; ``None`` when no
    value writes them as numbers), decided from every value in one pass, and why the
    column cannot be read as dates (``None`` when it can): some values put the day first
    and others the month, an example of each named."""
    fields = present.astype(str).str.extract(_NUMERIC_DATE).dropna().astype(int)
    if fields.empty:
        return None, None

    def example(over_twelve: pd.Series) -> str | None:
        return str(present.loc[over_twelve.idxmax()]) if over_twelve.any() else None

    day_first, month_first = example(fields[0] > 12), example(fields[1] > 12)
    if day_first is not None and month_first is not None:
        return None, (
            f"its dates put the day first in some rows ({day_first}) and the month "
            f"first in others ({month_first}), so no week can be trusted"
        )
    if day_first is not None:
        return "day_first", None
    return ("month_first" if month_first is not None else "unknown"), None


def _parse_dates(text: pd.Series, date_order: DateOrder | None = None) -> pd.Series:
    """Date strings as UTC timestamps (``NaT`` where a value does not parse): ISO dates as
    ISO, numeric days and months in ``date_order`` (month first unless ``"day_first"``),
    any other layout dateutil reads ("10 Mar 2014") value by value."""
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    rest = parsed.isna()
    if not rest.any():
        return parsed
    numeric = text.astype(str).str.match(_NUMERIC_DATE)
    # Day first only where the day and month are numbers: dateutil's dayfirst would read
    # "2014/05/01" as the 5th of January too.
    for rows, day_first in ((rest & numeric, date_order == "day_first"), (rest & ~numeric, False)):
        if rows.any():
            parsed[rows] = pd.to_datetime(
                text[rows], errors="coerce", utc=True, format="mixed", dayfirst=day_first
            )
    return parsed


def slice_keys(values: pd.Series, column: SliceColumn) -> tuple[pd.Series, Bins]:
    """Each row's slice, as :class:`~pipeline.evaluation.slice_scores.SliceRow` names it, and
    how the slices were made.

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
        numbers = read_numbers(present, column.number_style).dropna()
        labels, order = _quantile_bins(numbers)
        bins: Bins = "quantiles"
    else:
        times = _timestamps(present, column).dropna()
        bins = _period(times)
        labels = _period_starts(times, bins).dt.strftime(_PERIOD_FORMATS[bins])
        order = sorted(set(labels))  # ISO dates sort chronologically as text
    keys = labels.astype(object).reindex(values.index, fill_value=MISSING)
    return keys.astype(pd.CategoricalDtype([*order, MISSING], ordered=True)), bins


def _timestamps(present: pd.Series, column: SliceColumn) -> pd.Series:
    if column.time_format == "date":
        return _parse_dates(present, column.date_order)
    numbers = read_numbers(present, column.number_style)
    unit = "ms" if column.time_format == "epoch_ms" else "s"
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


def default_columns(
    columns: Sequence[SliceColumn],
) -> tuple[SliceColumn | None, SliceColumn | None]:
    """The categorical and the time column the section charts without being asked.

    The categorical one is the column a dataset maps to ``publisher`` (matched as
    :func:`pipeline.data.load_dataset` matches it) when it is categorical, else the first
    categorical column; the time one is the first time column. ``None`` where there is none.
    """
    categorical = [column for column in columns if column.kind == "categorical"]
    publisher = find_column([column.name for column in categorical], "publisher")
    first_categorical = next(
        (column for column in categorical if column.name == publisher),
        categorical[0] if categorical else None,
    )
    first_time = next((column for column in columns if column.kind == "time"), None)
    return first_categorical, first_time
