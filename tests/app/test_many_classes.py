"""Many small classes, before training (issue #31, items 6, 7 and 15): a 500-class file
with 10 rows per class is warned about on Prepare and Train (every class would get 2-3
test rows), its class charts stay a readable size (the biggest classes and "others", every
class in a scrollable table), and Prepare's tables and greyed-out split say what they must.
"""

from __future__ import annotations

from pathlib import Path

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
    vega_chart_of,
)

from pipeline.core.class_sizes import MIN_TEST_ROWS_PER_CLASS, thin_classes
from ui.figures import data as data_charts

N_CLASSES, ROWS_PER_CLASS = 500, 10


@pytest.fixture(scope="module")
def many_small_classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CSV of 500 classes with 10 distinct headlines each, and no STORY column."""
    path = tmp_path_factory.mktemp("many") / "five_hundred_classes.csv"
    lines = ["TITLE,CATEGORY"]
    for c in range(N_CLASSES):
        lines += [f"headline {r} of topic {c} says word{c}x{r},topic{c:03d}" for r in range(10)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _thin_warning(at) -> str | None:
    found = [w.value for w in at.warning if "test rows" in str(w.value)]
    return found[0] if found else None


def test_the_rule_lives_in_one_place() -> None:
    assert MIN_TEST_ROWS_PER_CLASS == 30  # Results and the CLI import it from class_sizes
    assert thin_classes({"a": 29, "b": 30, "c": 2}) == {"c": 2, "a": 29}  # fewest first


def test_the_class_chart_shows_the_biggest_classes_and_the_others() -> None:
    counts = {f"c{i:03d}": 1000 - i for i in range(N_CLASSES)}
    spec = data_charts.class_distribution(counts)
    rows = spec["data"]["values"]
    assert len(rows) == data_charts.MAX_CLASS_BARS
    assert [row["class"] for row in rows[:3]] == ["c000", "c001", "c002"]
    others = rows[-1]
    assert others["class"] == f"{N_CLASSES - data_charts.MAX_CLASS_BARS + 1} other classes"
    assert sum(row["rows"] for row in rows) == sum(counts.values())
    # up to the limit every class keeps its own bar
    thirty = {f"c{i}": 100 - i for i in range(data_charts.MAX_CLASS_BARS)}
    assert len(data_charts.class_distribution(thirty)["data"]["values"]) == 30


def test_data_page_folds_the_chart_and_lists_every_class(runs_dir, many_small_classes):
    at = open_page(new_app(path_source(many_small_classes)), "data")
    assert_clean(at)
    charts = [vega_chart_of(chart) for chart in at.get("vega_lite_chart")]
    (rows,) = [rows for spec, rows in charts if spec.get("title") == "Class distribution"]
    assert len(rows) <= data_charts.MAX_CLASS_BARS
    (every,) = [
        df.value for df in at.dataframe if "share" in df.value.columns and "code" in df.value
    ]
    assert len(every) == N_CLASSES and {"class", "rows"} <= set(every.columns)


def test_prepare_warns_folds_the_chart_and_shows_every_split_column(runs_dir, many_small_classes):
    at = open_page(new_app(path_source(many_small_classes)), "prepare")
    assert_clean(at)
    warning = _thin_warning(at)
    assert warning is not None, texts_of(at)
    assert f"{N_CLASSES:,} of {N_CLASSES:,} classes" in warning
    assert f"fewer than {MIN_TEST_ROWS_PER_CLASS} test rows" in warning
    for remedy in ("Merge", "more rows", "drop", "**Smallest class kept**", "**Test share**"):
        assert remedy in warning
    assert "on Prepare" not in warning  # drawn beside those settings
    chart = figure_of(next(c for c in at.get("plotly_chart") if "before_after" in c.proto.id))
    assert len(values(chart.data[0].y)) <= data_charts.MAX_CLASS_BARS
    # the per-class table: every class and every split, full width (not in a column)
    (table,) = [df for df in at.dataframe if len(df.value) == N_CLASSES]
    assert {"train", "validation", "test"} <= set(table.value.columns)
    for column in at.main.columns:
        assert not [df for df in column.dataframe if len(df.value) == N_CLASSES]


def test_prepare_says_why_the_split_is_greyed_out(runs_dir, many_small_classes):
    at = open_page(new_app(path_source(many_small_classes)), "prepare")
    assert at.radio(key="keep.prepare.split").disabled
    assert any("no story column" in str(c.value).lower() for c in at.caption), texts_of(at)


def test_train_warns_before_training(runs_dir, many_small_classes):
    at = open_page(new_app(path_source(many_small_classes)), "train")
    assert_clean(at)
    warning = _thin_warning(at)
    assert warning is not None and "Merge" in warning, texts_of(at)
    assert warning.endswith("These settings are on Prepare.")


def test_no_warning_when_every_class_gets_enough_test_rows(runs_dir):
    at = open_page(new_app(path_source(FIXTURES / "uci_small.csv")), "prepare")
    assert_clean(at)
    assert _thin_warning(at) is None
    assert not any("no story column" in str(c.value).lower() for c in at.caption)
