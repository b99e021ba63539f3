"""pipeline.evaluation.slice_columns and slice_scores, pure functions: which columns can be
sliced and the metrics per slice.

Hand-built frames of strings, as a file is read; no model, no run (those are in
``test_slices_runs.py``).
"""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import binomtest
from sklearn.metrics import f1_score

from pipeline.core.errors import ConfigError
from pipeline.evaluation.slice_columns import MISSING, SliceColumn, detect_column, sliceable_columns
from pipeline.evaluation.slice_scores import (
    OTHER,
    Z_95,
    all_folded_note,
    macro_f1,
    slice_metrics,
    wilson_interval,
)

DAY_MS = 86_400_000
#: Monday 2014-03-10 00:00 UTC, in epoch milliseconds.
MONDAY_MS = 1_394_409_600_000


def column(values: list, name: str = "c") -> pd.Series:
    return pd.Series(values, name=name, dtype=object)


def scored(values: list, true: str, predicted: str, name: str = "c") -> pd.DataFrame:
    """Test rows: ``values`` of column ``name``, one true/predicted code per character."""
    return pd.DataFrame({"true": list(true), "predicted": list(predicted), name: values})


def table_rows(table) -> list[tuple[str, int, int]]:
    return [(row.value, row.rows, row.correct) for row in table.slices]


# --------------------------------------------------------------------------- detection


def test_strings_with_repeated_values_are_categorical():
    assert detect_column(column(["Reuters", "AP", "Reuters", " AP ", "", "BBC"] * 3)) == (
        SliceColumn("c", "categorical", 3)
    )


def test_numbers_with_few_values_are_categorical_and_with_many_numeric():
    assert detect_column(column(["1", "2", "3", "2"] * 5)) == SliceColumn("c", "categorical", 3)
    assert detect_column(column([str(n) for n in range(1, 41)])) == SliceColumn("c", "numeric", 40)
    floats = pd.Series([n / 4 for n in range(40)], name="c")  # numbers, not strings
    assert detect_column(floats) == SliceColumn("c", "numeric", 40)
    with_infinity = pd.Series([1.0, float("inf"), 2.5] * 5, name="c")
    assert detect_column(with_infinity) == SliceColumn("c", "categorical", 3)


def test_epoch_milliseconds_and_seconds_are_time():
    ms = [str(MONDAY_MS + n * DAY_MS) for n in range(20)]
    assert detect_column(column(ms)) == SliceColumn("c", "time", 20, "epoch_ms")
    seconds = [str(MONDAY_MS // 1000 + n * 86_400) for n in range(20)]
    assert detect_column(column(seconds)) == SliceColumn("c", "time", 20, "epoch_s")
    # ids of a few hundred thousand are far below any epoch of our time
    assert detect_column(column([str(n) for n in range(400_000, 400_020)])).kind == "numeric"


def test_date_strings_are_time():
    iso = ["2014-03-10", "2014-03-11 08:30", "2014-04-01T12:00:00Z", ""] * 5
    assert detect_column(column(iso)) == SliceColumn("c", "time", 3, "date")
    written = ["10 Mar 2014", "3 April 2014", "May 5, 2014"] * 5
    assert detect_column(column(written)) == SliceColumn("c", "time", 3, "date")


def test_text_like_one_value_and_empty_columns_cannot_be_sliced():
    titles = [f"headline number {n}" for n in range(20)]
    assert detect_column(column(titles)) == (
        "most of its values are distinct, so it reads as text or ids"
    )
    assert detect_column(column(["x"] * 20)) == "it holds a single value"
    assert detect_column(column(["", " "] * 10)) == "it is empty in every row"
    assert detect_column(column(["a", "b"] * 10, name="predicted")).startswith(
        "its name is taken by the run's own columns"
    )


def test_sliceable_columns_skips_the_text_the_label_and_what_cannot_be_sliced():
    frame = pd.DataFrame(
        {
            "text": [f"headline {n}" for n in range(20)],
            "label": list("betm") * 5,
            "PUBLISHER": ["Reuters", "AP"] * 10,
            "URL": [f"http://x/{n}" for n in range(20)],
            "TIMESTAMP": [str(MONDAY_MS + n * DAY_MS) for n in range(20)],
            "constant": ["x"] * 20,
        }
    )
    assert sliceable_columns(frame) == [
        SliceColumn("PUBLISHER", "categorical", 2),
        SliceColumn("TIMESTAMP", "time", 20, "epoch_ms"),
    ]


# --------------------------------------------------------------------------- scores


@pytest.mark.parametrize(
    ("correct", "rows", "low", "high"),
    [  # scipy.stats.binomtest(k, n).proportion_ci(method="wilson")
        (8, 10, 0.4901625, 0.9433178),
        (50, 100, 0.4038315, 0.5961685),
        (0, 10, 0.0, 0.2775328),
        (10, 10, 0.7224672, 1.0),
        (1, 3, 0.0614919, 0.7923404),
    ],
)
def test_wilson_interval_matches_known_values(correct, rows, low, high):
    assert wilson_interval(correct, rows) == pytest.approx((low, high), abs=1e-7)


@pytest.mark.parametrize(
    ("correct", "rows", "z", "level"),
    [(0, 7, 1.0, 0.6826894921370859), (3, 7, 2.5758293035489004, 0.99), (40, 40, Z_95, 0.95)],
)
def test_wilson_interval_s_z_is_the_normal_quantile_of_its_confidence_level(
    correct, rows, z, level
):
    interval = binomtest(correct, rows).proportion_ci(confidence_level=level, method="wilson")
    assert wilson_interval(correct, rows, z) == pytest.approx(
        (interval.low, interval.high), abs=1e-9
    )


def test_wilson_interval_of_no_rows_says_nothing():
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_macro_f1_is_scikit_learn_s_over_the_classes_present():
    true = list("aabbbcc")
    predicted = list("abbbdcc")  # "d" is never true: it only costs "a" a recall
    expected = f1_score(true, predicted, labels=["a", "b", "c"], average="macro")
    assert macro_f1(pd.Series(true).to_numpy(), pd.Series(predicted).to_numpy()) == (
        pytest.approx(expected)
    )
    assert macro_f1(pd.Series(list("aaa")).to_numpy(), pd.Series(list("aab")).to_numpy()) is None


def test_categorical_slices_worst_first_small_ones_folded_into_other():
    values = ["A"] * 4 + ["B"] * 4 + ["C"] * 2 + ["D"] * 4
    rows = scored(
        values, true="bbbb" + "bbbb" + "bb" + "bbbb", predicted="bbbe" + "beee" + "ee" + "bbbe"
    )
    table = slice_metrics(rows, detect_column(rows["c"]), min_rows=3)
    # B 1/4, then A and D at 3/4 (same rows: by value), C (2 rows < 3) folded, last
    assert table_rows(table) == [("B", 4, 1), ("A", 4, 3), ("D", 4, 3), (OTHER, 2, 0)]
    other = table.slices[-1]
    assert (other.other, other.values, other.errors, other.small) == (True, 1, 2, True)
    assert table.bins == "values"
    assert (table.overall.rows, table.overall.correct) == (14, 7)
    assert (table.slices[0].ci_low, table.slices[0].ci_high) == pytest.approx(wilson_interval(1, 4))


def test_ties_in_accuracy_put_the_bigger_slice_first_and_top_limits_the_values():
    values = ["small"] * 3 + ["big"] * 6 + ["rare"]
    rows = scored(values, true="bbb" + "bbbbbb" + "b", predicted="bbe" + "bbbbee" + "b")
    table = slice_metrics(rows, detect_column(rows["c"]), min_rows=1)
    assert table_rows(table) == [("big", 6, 4), ("small", 3, 2), ("rare", 1, 1)]
    top_one = slice_metrics(rows, detect_column(rows["c"]), top=1, min_rows=1)
    assert table_rows(top_one) == [("big", 6, 4), (OTHER, 4, 3)]
    assert top_one.slices[-1].values == 2


def test_empty_cells_are_a_slice_of_their_own():
    rows = scored(["x", "x", "", "y", "y", ""], true="bbbbbb", predicted="bbeebe")
    table = slice_metrics(rows, detect_column(rows["c"]), min_rows=1)
    assert table_rows(table) == [(MISSING, 2, 0), ("y", 2, 1), ("x", 2, 2)]


def test_weekly_bins_of_epoch_milliseconds_in_chronological_order():
    hour = 3_600_000
    stamps = [
        MONDAY_MS + 20 * DAY_MS,  # Sunday 2014-03-30: the week of 03-24
        MONDAY_MS,  # Monday 2014-03-10 00:00 UTC
        MONDAY_MS + 7 * DAY_MS - hour,  # Sunday 2014-03-16 23:00: still the first week
        MONDAY_MS + 7 * DAY_MS,  # Monday 2014-03-17
        MONDAY_MS + 21 * DAY_MS + hour,  # Monday 2014-03-31
        None,
    ]
    values = [str(ms) if ms is not None else "" for ms in stamps]
    rows = scored(values, true="bbbbbb", predicted="bbebbe")
    time_column = SliceColumn("c", "time", 5, "epoch_ms")
    table = slice_metrics(rows, time_column, min_rows=2)
    assert table.bins == "week"
    assert table_rows(table) == [
        ("2014-03-10", 2, 1),
        ("2014-03-17", 1, 1),
        ("2014-03-24", 1, 1),
        ("2014-03-31", 1, 1),
        (MISSING, 1, 0),
    ]
    assert [row.small for row in table.slices] == [False, True, True, True, True]


def test_long_spans_are_binned_by_month_then_by_year():
    two_years = [str(MONDAY_MS + n * 30 * DAY_MS) for n in range(24)]
    rows = scored(two_years, true="b" * 24, predicted="b" * 24)
    by_month = slice_metrics(rows, SliceColumn("c", "time", 24, "epoch_ms"), min_rows=1)
    assert by_month.bins == "month"
    assert by_month.slices[0].value == "2014-03" and by_month.slices[-1].value == "2016-01"
    decades = ["1990-06-01", "2001-02-03", "2024-12-31", "2001-07-04"]
    rows = scored(decades, true="bbbb", predicted="bebb")
    by_year = slice_metrics(rows, SliceColumn("c", "time", 4, "date"), min_rows=1)
    assert by_year.bins == "year"
    assert table_rows(by_year) == [("1990", 1, 1), ("2001", 2, 1), ("2024", 1, 1)]


def test_numeric_columns_are_cut_into_quantile_bins():
    values = [str(n) for n in range(10, 0, -1)] + ["n/a"]
    rows = scored(values, true="b" * 11, predicted="bbbbbbbeeee")
    table = slice_metrics(rows, SliceColumn("c", "numeric", 10), min_rows=1)
    assert table.bins == "quantiles"
    # 10..1 predicted right, wrong for 3, 2, 1 and the unreadable "n/a"
    assert table_rows(table) == [
        ("[1, 2.8)", 2, 0),
        ("[2.8, 4.6)", 2, 1),
        ("[4.6, 6.4)", 2, 2),
        ("[6.4, 8.2)", 2, 2),
        ("[8.2, 10]", 2, 2),
        (MISSING, 1, 0),
    ]


def test_top_and_min_rows_below_one_are_refused():
    rows = scored(["a", "b"], true="bb", predicted="bb")
    with pytest.raises(ConfigError, match=r"top must be at least 1 \(got 0\)"):
        slice_metrics(rows, SliceColumn("c", "categorical", 2), top=0)
    with pytest.raises(ConfigError, match=r"min_rows must be at least 1 \(got -1\)"):
        slice_metrics(rows, SliceColumn("c", "categorical", 2), min_rows=-1)


def test_the_table_as_json_and_as_a_frame():
    rows = scored(["a", "a", "b"], true="bbe", predicted="bee")
    table = slice_metrics(rows, detect_column(rows["c"]), min_rows=1)
    payload = table.to_json()
    assert (payload["column"], payload["kind"], payload["bins"]) == ("c", "categorical", "values")
    assert [(s["value"], s["rows"], s["errors"]) for s in payload["slices"]] == [
        ("a", 2, 1),
        ("b", 1, 0),
    ]
    assert payload["overall"]["accuracy"] == pytest.approx(2 / 3)
    frame = table.to_frame()
    assert frame["value"].tolist() == ["a", "b"]
    assert frame["accuracy"].tolist() == [0.5, 1.0]


def test_a_column_whose_every_value_is_folded_says_so_with_the_fix():
    """Found on a user's file: 747 test rows over 548 sources drew one bar, "other", as
    the Results page's chart per source (and the report's)."""
    values = [f"source {n}" for n in range(40)] * 2
    rows = scored(values, "a" * 80, "a" * 60 + "b" * 20)
    folded = slice_metrics(rows, detect_column(rows["c"]), min_rows=30)
    assert all_folded_note(folded, "Smallest slice") == (
        "No value of c has 30 test rows or more: all 80 test rows, of 40 values, are in "
        "“other”. Lower Smallest slice to see its largest values one by one, or slice by a "
        "column with fewer values."
    )
    shown = slice_metrics(rows, detect_column(rows["c"]), min_rows=2)
    assert all_folded_note(shown, "Smallest slice") is None
    weekly = scored([str(MONDAY_MS + n * DAY_MS) for n in range(10)], "a" * 10, "a" * 10)
    assert all_folded_note(slice_metrics(weekly, detect_column(weekly["c"])), "x") is None
