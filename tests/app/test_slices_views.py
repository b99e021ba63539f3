"""The slice charts and the "Where the model fails" helpers, without Streamlit running:
values from a file stay text (never plotly markup), charts stay readable from 2 to 100
slices, and the default columns are found from the values, not from UCI's names."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipeline.evaluation.slice_columns import SliceColumn, default_columns, slice_keys
from pipeline.evaluation.slice_scores import MIN_SLICE_ROWS, slice_metrics
from ui.figures import slices as figures_slices
from ui.figures.style import BAR_PX
from ui.views import mistakes as mistakes_views
from ui.views import slices as slices_views

MARKUP = "<b>Pub</b>"
ESCAPED = "&lt;b&gt;Pub&lt;/b&gt;"


def _rows(publishers: list[str], n: int = 40, seed: int = 0) -> pd.DataFrame:
    """``n`` test rows per publisher, about 80 % right, a week apart in March 2014."""
    rng = np.random.default_rng(seed)
    total = n * len(publishers)
    true = rng.choice(["b", "e", "m", "t"], total)
    wrong = rng.random(total) < 0.2
    predicted = np.where(wrong, np.where(true == "b", "e", "b"), true)
    start = pd.Timestamp("2014-03-10", tz="UTC").value // 1_000_000
    return pd.DataFrame(
        {
            "true": true,
            "predicted": predicted,
            "PUBLISHER": np.repeat(publishers, n),
            "TIMESTAMP": [str(start + i * 3_600_000) for i in range(total)],
        }
    )


def _strings(fig) -> str:
    """Every string plotly will read from the figure (decoded), hover templates included."""

    def walk(node) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            return [s for value in node.values() for s in walk(value)]
        if isinstance(node, list):
            return [s for value in node for s in walk(value)]
        return []

    return " ".join(walk(json.loads(fig.to_json())))


def test_slice_bars_escape_values_in_ticks_and_hover_text() -> None:
    rows = _rows([MARKUP, "Reuters", "a&b"])
    table = slice_metrics(rows, SliceColumn("PUBLISHER", "categorical", 3))
    fig = slices_views.slice_figure(table)
    bar = fig.data[0]
    assert ESCAPED in list(bar.y)
    assert ESCAPED in list(fig.layout.yaxis.ticktext)
    assert [row[0] for row in bar.customdata if row[0] == ESCAPED] == [ESCAPED]  # hover value
    assert "a&amp;b" in list(fig.layout.yaxis.ticktext)
    text = _strings(fig)
    assert ESCAPED in text and MARKUP not in text and "<b>" not in text


def test_every_figure_escapes_the_column_name() -> None:
    rows = _rows(["x", "y"]).rename(columns={"PUBLISHER": MARKUP, "TIMESTAMP": "<i>when</i>"})
    tables = [
        slice_metrics(rows, SliceColumn(MARKUP, "categorical", 2)),
        slice_metrics(rows, SliceColumn("<i>when</i>", "time", 80, "epoch_ms")),
    ]
    for table in tables:
        fig = slices_views.slice_figure(table)
        text = _strings(fig)
        assert "<b>Pub" not in text and "<i>when" not in text, fig.layout.title.text
        assert ESCAPED in fig.layout.title.text or "&lt;i&gt;when" in fig.layout.title.text


@pytest.mark.parametrize("n", [2, 20, 100])
def test_slice_bars_label_every_value_worst_on_top(n: int) -> None:
    publishers = [f"publisher {i}" for i in range(n)]
    table = slice_metrics(
        _rows(publishers, seed=n), SliceColumn("PUBLISHER", "categorical", n), top=n
    )
    fig = slices_views.slice_figure(table)
    (bar,) = fig.data
    counts = [a.text for a in fig.layout.annotations if a.text.endswith(" rows")]
    labels = [row.value for row in table.slices]
    assert list(bar.y) == labels and list(fig.layout.yaxis.ticktext) == labels
    assert fig.layout.yaxis.autorange == "reversed"  # the table's first (worst) row on top
    assert list(bar.x) == sorted(bar.x)  # worst first
    assert counts == ["40 rows"] * n
    assert fig.layout.height >= BAR_PX * n
    assert list(bar.error_x.array) == pytest.approx(
        [row.ci_high - row.accuracy for row in table.slices]
    )
    (line,) = fig.layout.shapes
    assert line.x0 == pytest.approx(table.overall.accuracy)


def test_long_values_are_cut_on_the_axis_and_kept_whole_in_the_hover() -> None:
    long_name = "A publisher whose name goes on and on for far too long to read"
    table = slice_metrics(
        _rows([long_name, "short"]).rename(columns={"PUBLISHER": "P"}),
        SliceColumn("P", "categorical", 2),
    )
    bar = slices_views.slice_figure(table).data[0]
    cut = [label for label in bar.y if label.startswith("A publisher")]
    assert cut and len(cut[0]) == figures_slices.SLICE_LABEL_CHARS and cut[0].endswith("…")
    assert long_name in [row[0] for row in bar.customdata]


def test_time_chart_draws_each_week_with_its_band_and_rows() -> None:
    rows = _rows(["x"], n=24 * 7 * 3)  # three weeks of hourly rows
    column = SliceColumn("TIMESTAMP", "time", len(rows), "epoch_ms")
    table = slice_metrics(rows, column)
    fig = slices_views.slice_figure(table)
    line = next(trace for trace in fig.data if trace.name == "accuracy")
    bars = next(trace for trace in fig.data if trace.type == "bar")
    assert len(table.slices) == 3 and table.bins == "week"
    assert [pd.Timestamp(x).strftime("%Y-%m-%d") for x in line.x] == [
        row.value for row in table.slices
    ]
    assert list(bars.y) == [row.rows for row in table.slices]
    band = [trace for trace in fig.data if getattr(trace, "fill", None) == "tonexty"]
    assert len(band) == 1 and list(band[0].y) == pytest.approx([row.ci_low for row in table.slices])
    assert "per week" in fig.layout.title.text


def test_time_chart_leaves_out_rows_without_a_time() -> None:
    rows = _rows(["x"], n=100)
    rows.loc[:9, "TIMESTAMP"] = ""
    table = slice_metrics(rows, SliceColumn("TIMESTAMP", "time", 90, "epoch_ms"))
    assert table.slices[-1].value == "(missing)"
    line = next(t for t in slices_views.slice_figure(table).data if t.name == "accuracy")
    assert len(line.x) == len(table.slices) - 1


def test_default_columns_are_found_from_values_and_names() -> None:
    columns = [
        SliceColumn("ID", "numeric", 100),
        SliceColumn("STORY", "categorical", 30),
        SliceColumn("publisher ", "categorical", 40),
        SliceColumn("when", "time", 80, "date"),
        SliceColumn("TIMESTAMP", "time", 80, "epoch_ms"),
    ]
    assert default_columns(columns) == (columns[2], columns[3])
    assert default_columns(columns[:2]) == (columns[1], None)
    assert default_columns([columns[0]]) == (None, None)
    numeric_publisher = [SliceColumn("PUBLISHER", "numeric", 100), columns[1]]
    assert default_columns(numeric_publisher) == (columns[1], None)
    assert slices_views.column_label(columns[4]) == "TIMESTAMP (time, epoch milliseconds)"


def test_slice_table_frame_marks_small_and_folded_slices() -> None:
    rows = _rows(["big", "tiny"], n=40)
    rows = rows.iloc[: 40 + 5]  # "tiny" keeps 5 rows
    table = slice_metrics(rows, SliceColumn("PUBLISHER", "categorical", 2))
    frame = slices_views.slice_table_frame(table)
    assert list(frame.columns) == [
        "value",
        "rows",
        "accuracy",
        "95% CI",
        "errors",
        "macro F1",
        "note",
    ]
    assert list(frame["value"]) == ["big", "other (1 value)"]
    assert frame["note"].iloc[1].startswith(f"1 value with fewer than {MIN_SLICE_ROWS} test rows")
    bins = slice_metrics(rows.iloc[:10], SliceColumn("TIMESTAMP", "time", 10, "epoch_ms"))
    notes = slices_views.slice_table_frame(bins)["note"]
    assert list(notes) == [f"small: fewer than {MIN_SLICE_ROWS} test rows"]


def test_filter_options_list_values_by_mistakes_and_bins_in_order() -> None:
    keys = pd.Series(["b", "a", "b", "c", "a", "b"])
    assert mistakes_views.filter_options(keys) == {"b": 3, "a": 2, "c": 1}
    column = SliceColumn("TIMESTAMP", "time", 6, "epoch_ms")
    weeks, _ = slice_keys(_rows(["x"], n=24 * 7 * 3)["TIMESTAMP"], column)
    options = mistakes_views.filter_options(weeks.iloc[::-1])
    assert list(options) == sorted(options) and sum(options.values()) == len(weeks)
