"""Results' "Where the model fails": test accuracy per publisher, week and any column of a
run's data, the misclassified browser filtered by a slice, and the messages for runs
that cannot be sliced (saved before per-row predictions were kept, another dataset
active, no column to slice by).

The run is the session's tiny run on ``uci_small.csv`` (40 test rows); the expected
tables come from :func:`pipeline.evaluation.slices.run_slices` on the same run and file.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from apptest_support import (
    FIXTURES,
    assert_clean,
    figure_of,
    new_app,
    open_page,
    path_source,
    texts_of,
    values,
)

from pipeline.data import load_dataset
from pipeline.evaluation.slice_scores import MIN_SLICE_ROWS, all_folded_note
from pipeline.evaluation.slices import join_test_rows, run_slices
from pipeline.runs.registry import RunRegistry
from ui.core.text import escape_markdown, plotly_text
from ui.figures.slices import readable_bin
from ui.views import mistakes as mistakes_views
from ui.views import slices as slices_views

SMALL = FIXTURES / "uci_small.csv"


@pytest.fixture(scope="module")
def small_dataset():
    return load_dataset(SMALL)


def _chart(at, title_part: str):
    """The figure of the one plotly chart whose title holds ``title_part``."""
    found = [
        figure_of(chart)
        for chart in at.get("plotly_chart")
        if title_part in (figure_of(chart).layout.title.text or "")
    ]
    assert len(found) == 1, [figure_of(c).layout.title.text for c in at.get("plotly_chart")]
    return found[0]


def _slice_table(at) -> pd.DataFrame:
    (table,) = [t.value for t in at.dataframe if "95% CI" in t.value.columns]
    return table


def _mistakes(at) -> pd.DataFrame:
    (table,) = [t.value for t in at.dataframe if "predicted class" in t.value.columns]
    return table


def _expected_labels(table) -> list[str]:
    return [
        plotly_text(f"{row.value} ({row.values} value{'' if row.values == 1 else 's'})")
        if row.other
        else plotly_text(row.value)
        for row in table.slices
    ]


def test_results_chart_publishers_and_weeks(runs_dir, small_source, saved_run, small_dataset):
    saved = RunRegistry(runs_dir).get(saved_run)
    at = open_page(new_app(small_source), "results")
    assert_clean(at)
    assert "Where the model fails" in [s.value for s in at.subheader]
    assert at.number_input(key=slices_views.MIN_ROWS_KEY).value == MIN_SLICE_ROWS

    # 40 test rows: no publisher has 30 of them. One bar, "other", would say nothing: a
    # note says why, with the fix, in the chart's place
    titles = [figure_of(chart).layout.title.text or "" for chart in at.get("plotly_chart")]
    assert not [title for title in titles if "per PUBLISHER" in title]
    expected = run_slices(saved, small_dataset, "PUBLISHER")
    note = all_folded_note(expected, "Smallest slice")
    assert note and escape_markdown(note) in [info.value for info in at.info]
    assert "Its chart is above." not in texts_of(at)
    weeks = _chart(at, "per week · TIMESTAMP")
    by_week = run_slices(saved, small_dataset, "TIMESTAMP")
    line = next(trace for trace in weeks.data if trace.name == "accuracy")
    rows = next(trace for trace in weeks.data if trace.type == "bar")
    assert len(values(line.x)) == len(by_week.slices)
    assert values(line.y) == pytest.approx([row.accuracy for row in by_week.slices])
    assert values(rows.y) == [row.rows for row in by_week.slices]
    assert sum(values(rows.y)) == saved.metrics.n_test

    # one row a slice: the 20 largest publishers, worst first, then the rest as "other"
    at.number_input(key=slices_views.MIN_ROWS_KEY).set_value(1).run()
    assert_clean(at)
    publishers = _chart(at, "per PUBLISHER")
    expected = run_slices(saved, small_dataset, "PUBLISHER", min_rows=1)
    (bar,) = publishers.data
    assert list(bar.y) == _expected_labels(expected)
    assert len(bar.y) == 21 and list(bar.y)[-1].startswith("other (")
    assert list(bar.x) == pytest.approx([row.accuracy for row in expected.slices])
    counts = [a.text for a in publishers.layout.annotations if a.text.endswith((" row", " rows"))]
    assert counts == [f"{row.rows} row{'' if row.rows == 1 else 's'}" for row in expected.slices]
    assert publishers.layout.yaxis.autorange == "reversed"  # the worst on top
    # the table under the picker is the publishers' (its chart is the one above)
    assert at.selectbox(key=slices_views.SLICE_BY_KEY).value == "PUBLISHER"
    table = _slice_table(at)
    assert list(table["rows"]) == [row.rows for row in expected.slices]


def test_picking_another_column_shows_its_chart_and_table(
    runs_dir, small_source, saved_run, small_dataset
):
    saved = RunRegistry(runs_dir).get(saved_run)
    at = open_page(new_app(small_source), "results")
    picker = at.selectbox(key=slices_views.SLICE_BY_KEY)
    assert "TIMESTAMP (time, epoch milliseconds)" in picker.options
    assert "PUBLISHER (categorical, 1,324 values)" in picker.options
    picker.set_value("ID").run()
    assert_clean(at)
    expected = run_slices(saved, small_dataset, "ID")
    table = _slice_table(at)
    # numeric bins read as ranges with separators ("45,517 – 135,822"), not "[45517, 135822)"
    assert list(table["value"]) == [readable_bin(row.value) for row in expected.slices]
    assert all(re.fullmatch(r"[\d,]+ – [\d,]+", value) for value in table["value"])
    assert list(table["rows"]) == [row.rows for row in expected.slices]
    assert list(table["errors"]) == [row.errors for row in expected.slices]
    assert list(table["accuracy"]) == pytest.approx([row.accuracy for row in expected.slices])
    assert sum(table["rows"]) == saved.metrics.n_test
    # five bins of 8 rows: each marked small
    assert all(note.startswith("small: fewer than 30") for note in table["note"])
    chart = _chart(at, "per ID")
    assert list(chart.data[0].y) == [readable_bin(row.value) for row in expected.slices]

    at.selectbox(key=slices_views.SLICE_BY_KEY).set_value("HOSTNAME").run()
    at.number_input(key=slices_views.MIN_ROWS_KEY).set_value(2).run()
    assert_clean(at)
    expected = run_slices(saved, small_dataset, "HOSTNAME", min_rows=2)
    table = _slice_table(at)
    assert list(table["rows"]) == [row.rows for row in expected.slices]
    assert table["value"].iloc[-1].startswith("other (")


def test_misclassified_filter_narrows_to_a_publisher(
    runs_dir, small_source, saved_run, small_dataset
):
    saved = RunRegistry(runs_dir).get(saved_run)
    joined = join_test_rows(saved, small_dataset)
    wrong = joined[joined["true"] != joined["predicted"]]
    at = open_page(new_app(small_source), "results")
    mistakes = _mistakes(at)
    assert len(mistakes) == len(wrong)  # every mistake of the test set, not only the saved ones
    assert list(mistakes["confidence"]) == sorted(mistakes["confidence"], reverse=True)
    assert at.selectbox(key=mistakes_views.FILTER_COLUMN_KEY).value == "PUBLISHER"
    publisher = wrong["PUBLISHER"].iloc[0]
    box = at.multiselect(key=f"{mistakes_views.FILTER_VALUES_KEY}.PUBLISHER")
    assert publisher in box.options or any(
        option.startswith(f"{publisher} (") for option in box.options
    )
    box.set_value([publisher]).run()
    assert_clean(at)
    shown = _mistakes(at)
    expected = wrong[wrong["PUBLISHER"] == publisher]
    assert list(shown["PUBLISHER"]) == [publisher] * len(expected)
    texts = small_dataset.frame["text"].to_numpy()[expected["row"].to_numpy()]
    assert sorted(shown["text"]) == sorted(texts)
    assert f"{len(expected)} of {len(wrong)} mistakes" in texts_of(at)

    # by week: the rows of the week with the most mistakes
    at.selectbox(key=mistakes_views.FILTER_COLUMN_KEY).set_value("TIMESTAMP").run()
    weeks = at.multiselect(key=f"{mistakes_views.FILTER_VALUES_KEY}.TIMESTAMP")
    week = weeks.options[0].split(" (")[0]  # "2014-03-10 (3 mistakes)"
    weeks.set_value([week]).run()
    assert_clean(at)
    shown = _mistakes(at)
    starts = pd.to_datetime(wrong["TIMESTAMP"].astype("int64"), unit="ms").dt.normalize()
    monday = (starts - pd.to_timedelta(starts.dt.day_of_week, unit="D")).dt.strftime("%Y-%m-%d")
    assert list(shown["TIMESTAMP"]) == [week] * int((monday == week).sum())


def test_a_run_saved_without_predictions_says_to_train_it_again(runs_dir, small_source, saved_run):
    registry = RunRegistry(runs_dir)
    registry.get(saved_run).predictions_path.unlink()
    at = open_page(new_app(small_source), "results")
    assert_clean(at)
    text = texts_of(at)
    assert "saved before Headline Lab kept each test row's prediction" in text
    assert "Train again anyway" in text
    assert [link.label for link in at.get("page_link")] == ["Go to Train"]
    titles = [figure_of(chart).layout.title.text or "" for chart in at.get("plotly_chart")]
    assert not [title for title in titles if "Test accuracy per" in title]
    # the browser shows the mistakes metrics.json keeps, as before
    assert "saved mistakes, most confident first" in text
    saved = registry.get(saved_run)
    assert len(_mistakes(at)) == len(saved.metrics.misclassified)


def test_another_active_dataset_names_the_one_to_load(runs_dir, saved_run):
    at = open_page(new_app(path_source(FIXTURES / "custom_headlines.csv")), "results")
    assert_clean(at)
    text = texts_of(at).replace("**", "")
    assert "This run was trained on uci_small.csv, but the active dataset is" in text
    assert "Upload uci_small.csv in the sidebar (text column TITLE, label column CATEGORY)" in text
    assert "saved mistakes, most confident first" in text


def test_a_dataset_without_other_columns_has_nothing_to_slice(runs_dir, saved_run, tmp_path):
    """The same rows (so the same fingerprint) with only the text and the label."""
    bare = tmp_path / "uci_bare.csv"
    pd.read_csv(SMALL, dtype=str, keep_default_na=False)[["TITLE", "CATEGORY"]].to_csv(
        bare, index=False
    )
    at = open_page(new_app(path_source(bare)), "results")
    assert_clean(at)
    assert "uci_bare.csv has no column to slice the test results by" in texts_of(at)
    # every mistake of the join, filtered by class only
    assert len(at.multiselect) == 3  # true, predicted, runs to compare
    saved = RunRegistry(runs_dir).get(saved_run)
    matrix = saved.metrics.confusion_matrix.matrix
    right = sum(row[i] for i, row in enumerate(matrix))
    assert len(_mistakes(at)) == saved.metrics.n_test - right
