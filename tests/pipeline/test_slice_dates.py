"""Dates written with the day and the month as numbers ("01/04/2014"): one reading per
column, decided from the whole column, never value by value.

A file from Europe writes 1 April 2014 as ``01/04/2014`` or ``01.04.2014``; read value by
value, month first where it can be, its weeks scramble: 13/03/2014 is 13 March (no 13th
month) but 01/04/2014 becomes 4 January. Hand-built columns of strings, as a file is
read; no model.
"""

from __future__ import annotations

import pandas as pd

from pipeline.evaluation.slice_columns import SliceColumn, detect_column, slice_keys
from pipeline.evaluation.slice_scores import slice_metrics


def column(values: list[str], name: str = "published") -> pd.Series:
    return pd.Series(values, name=name, dtype=object)


def weeks(values: list[str], detected_on: list[str] | None = None) -> list[str]:
    """Each value's week (its Monday), the column detected on ``detected_on`` (the whole
    file's column) when given, else on ``values``."""
    detected = detect_column(column(detected_on or values))
    assert isinstance(detected, SliceColumn), detected
    keys, bins = slice_keys(column(values), detected)
    assert bins == "week"
    return [str(key) for key in keys]


def test_day_first_dates_are_read_day_first_in_every_row():
    values = ["13/03/2014", "01/04/2014", "02/04/2014", "20/05/2014"]
    detected = detect_column(column(values * 5))
    assert detected == SliceColumn("published", "time", 4, "date", "day_first")
    assert detected.describe() == "time, dates written day first"
    # 1 and 2 April 2014 are a Tuesday and a Wednesday: the week of Monday 31 March
    assert weeks(values) == ["2014-03-10", "2014-03-31", "2014-03-31", "2014-05-19"]


def test_dotted_dates_and_two_digit_years_are_read_day_first_too():
    assert weeks(["10.03.2014", "01.04.2014", "25.04.2014"]) == [
        "2014-03-10",
        "2014-03-31",
        "2014-04-21",
    ]
    assert weeks(["10-03-14 08:30", "01-04-14 17:00", "25-04-14"]) == [
        "2014-03-10",
        "2014-03-31",
        "2014-04-21",
    ]


def test_month_first_dates_are_read_month_first():
    values = ["03/13/2014", "04/01/2014", "04/02/2014"]
    detected = detect_column(column(values))
    assert isinstance(detected, SliceColumn) and detected.date_order == "month_first"
    assert detected.describe() == "time, dates written month first"
    assert weeks(values) == ["2014-03-10", "2014-03-31", "2014-03-31"]


def test_the_reading_is_the_whole_columns_not_the_test_rows():
    """The test rows may hold only dates whose day is 12 or less: the file's other rows
    say how they are written."""
    whole_file = ["13/03/2014", "28/03/2014", "01/04/2014", "02/04/2014"]
    assert weeks(["01/04/2014", "02/04/2014"], detected_on=whole_file) == [
        "2014-03-31",
        "2014-03-31",
    ]


def test_iso_dates_beside_day_first_ones_keep_their_year_month_day():
    # dateutil's day-first reading would make 2014-05-01 the 5th of January
    assert weeks(["2014-05-01", "13/03/2014", "01/04/2014", "2014/05/01"]) == [
        "2014-04-28",
        "2014-03-10",
        "2014-03-31",
        "2014-04-28",
    ]


def test_a_column_that_writes_both_orders_is_not_sliced_by_time():
    reason = detect_column(column(["13/03/2014", "03/13/2014", "01/04/2014"] * 5))
    assert reason == (
        "its dates put the day first in some rows (13/03/2014) and the month first in "
        "others (03/13/2014), so no week can be trusted"
    )


def test_dates_that_never_say_which_comes_first_are_read_month_first_and_say_so():
    values = ["01/04/2014", "02/04/2014", "03/05/2014"]
    detected = detect_column(column(values))
    assert isinstance(detected, SliceColumn) and detected.date_order == "unknown"
    assert detected.describe() == (
        "time, dates read month first: no day above 12 shows which comes first"
    )
    assert weeks(values) == ["2013-12-30", "2014-02-03", "2014-03-03"]


def test_dates_with_month_names_or_iso_have_no_order_to_choose():
    for values in (["2014-03-10", "2014-04-01"], ["10 Mar 2014", "1 April 2014"]):
        detected = detect_column(column(values))
        assert isinstance(detected, SliceColumn) and detected.date_order is None
        assert detected.describe() == "time, dates"


def test_the_table_as_json_says_how_the_dates_were_read():
    values = ["13/03/2014", "01/04/2014", "02/04/2014", "20/05/2014"]
    rows = pd.DataFrame({"true": list("aabb"), "predicted": list("abbb"), "published": values})
    table = slice_metrics(rows, detect_column(column(values)), min_rows=1)
    payload = table.to_json()
    assert (payload["time_format"], payload["date_order"]) == ("date", "day_first")
    assert [row["value"] for row in payload["slices"]] == ["2014-03-10", "2014-03-31", "2014-05-19"]


def test_times_of_day_and_dates_without_a_year_are_not_sliced_by_week():
    """Found: a column of times of day ("16:52") was read as dates of the day the page
    was drawn, every row in one week."""
    times = [f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in (0, 30)]
    assert not _is_time(detect_column(column(times)))
    assert not _is_time(detect_column(column(["10 Mar", "3 April", "May 5"] * 5)))
    # a month and a year are a date
    assert _is_time(detect_column(column(["March 2014", "April 2014", "May 2014"] * 5)))


def _is_time(detected: SliceColumn | str) -> bool:
    return isinstance(detected, SliceColumn) and detected.kind == "time"
