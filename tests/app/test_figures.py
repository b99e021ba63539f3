"""The figures stay readable from 2 to 100 classes, numbers read for people, and the
Results page's rules (baseline warning, deltas, top confusions, compared runs) are right.

Found with 27-29 classes: every other class unlabelled, a 250 px confusion matrix,
before/after panels on separate scales, "1000" beside "3,904", "0%" for 2 cells,
epoch axes reading 1.5, a baseline warning on a 0.01-point gap reading "-0.000".
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from pipeline.runs.history import parse_history
from ui.core.numbers import format_count, format_share
from ui.figures import confusion as figures_confusion
from ui.figures.curves import compare_curves, training_curves
from ui.figures.prepare import class_distribution_before_after
from ui.figures.style import BAR_PX, MIN_BAR_HEIGHT, bar_chart_height
from ui.views import results as results_views

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HISTORY = parse_history(
    [
        {"epoch": 1, "loss": 1.2, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": 0.6},
        {"epoch": 2, "loss": 0.8, "accuracy": 0.7, "val_loss": 0.7, "val_accuracy": 0.72},
    ]
)


def _classes(n: int) -> dict[str, int]:
    """``{code: rows}`` of ``n`` classes of different sizes (codes c0..)."""
    return {f"c{i}": 10 * (n - i) + 3 for i in range(n)}


def _names(counts: dict[str, int]) -> dict[str, str]:
    return {code: f"class {code[1:]} name" for code in counts}


def _ticks(axis: go.layout.XAxis | go.layout.YAxis) -> list[str]:
    assert axis.tickmode == "array"
    assert list(axis.tickvals) == list(axis.ticktext)
    return list(axis.ticktext)


def test_bar_heights_grow_with_the_number_of_classes() -> None:
    heights = [bar_chart_height(n) for n in (2, 10, 30, 100)]
    assert heights == sorted(heights) and heights[0] < heights[-1]
    assert heights[0] >= MIN_BAR_HEIGHT
    cm = [figures_confusion.confusion_matrix_height(n) for n in (2, 10, 27, 100)]
    assert cm == sorted(cm) and cm[2] >= 27 * 25  # no more 250 px for 27 classes


@pytest.mark.parametrize("n", [2, 29, 100])
def test_before_after_shares_both_axes_and_labels_every_class(n: int) -> None:
    before = _classes(n)
    after = {code: min(rows, 40) for code, rows in before.items()}
    fig = class_distribution_before_after(before, after, _names(before))
    assert {a.text for a in fig.layout.annotations} == {"before", "after"}
    assert fig.layout.xaxis2.matches == "x"  # one rows scale: capped rows look capped
    assert fig.layout.yaxis2.matches == "y"  # one class axis, labelled once on the left
    assert fig.layout.yaxis2.showticklabels is False
    names = [f"class {i} name" for i in range(n)]
    assert _ticks(fig.layout.yaxis) == names
    assert list(fig.data[0].y) == names and list(fig.data[1].y) == names
    assert fig.layout.height >= BAR_PX * n


def test_before_after_marks_a_dropped_class_with_its_display_name() -> None:
    fig = class_distribution_before_after(
        {"b": 43_633, "m": 5}, {"b": 1_000}, {"b": "business", "m": "health"}
    )
    assert list(fig.data[1].y) == ["business", "health"]
    assert list(fig.data[1].text) == ["1,000", "dropped"]
    assert list(fig.data[0].text) == ["43,633", "5"]


@pytest.mark.parametrize("n", [2, 4, 27, 100])
@pytest.mark.parametrize("normalize", [False, True])
def test_confusion_matrix_labels_every_class_on_both_axes(n: int, normalize: bool) -> None:
    names = [f"class {i}" for i in range(n)]
    matrix = [
        [10 if i == j else (1 if j == (i + 1) % n else 0) for j in range(n)] for i in range(n)
    ]
    fig = figures_confusion.confusion_matrix_heatmap(names, matrix, normalize=normalize)
    assert _ticks(fig.layout.xaxis) == names
    assert _ticks(fig.layout.yaxis) == names
    assert fig.layout.height == figures_confusion.confusion_matrix_height(n, len(names[-1]))
    assert len(fig.data[0].z) == n


def test_confusion_matrix_shares_never_read_zero_when_not_zero() -> None:
    fig = figures_confusion.confusion_matrix_heatmap(
        ["a", "b"], [[9999, 1], [0, 5]], normalize=True
    )
    assert fig.data[0].text[0][1] == "<1%"
    assert fig.data[0].text[1][0] == "0%"
    assert "<0.1% of the true class" in fig.data[0].customdata[0][1]
    counts = figures_confusion.confusion_matrix_heatmap(["a", "b"], [[12345, 1], [0, 5]])
    assert counts.data[0].text[0][0] == "12,345"


def test_format_share_and_count() -> None:
    assert format_share(2 / 422_937) == "<0.1%"
    assert format_share(0) == "0.0%"
    assert format_share(0.123) == "12.3%"
    assert format_share(0.99999) == ">99.9%"
    assert format_share(1.0) == "100.0%"
    assert format_share(0.004, 0) == "<1%"
    assert format_count(78134) == "78,134"


def test_epoch_axes_read_whole_epochs() -> None:
    compare = compare_curves({"a": HISTORY, "b": HISTORY[:1]}, "val_accuracy")
    assert compare.layout.xaxis.dtick == 1 and compare.layout.xaxis.tickformat == "d"
    curves = training_curves(HISTORY, "loss")
    assert curves.layout.xaxis.dtick == 1 and curves.layout.xaxis.tickformat == "d"
    long = parse_history([{"epoch": i, "val_accuracy": 0.5} for i in range(1, 41)])
    axis = compare_curves({"a": long}).layout.xaxis
    assert axis.tickformat == "d" and float(axis.dtick).is_integer()


def test_figures_escape_class_names_from_data() -> None:
    counts = {"<b>x</b>": 3, "a&b": 2}
    for fig in (
        class_distribution_before_after(counts, counts),
        figures_confusion.confusion_matrix_heatmap(list(counts), [[1, 0], [0, 1]]),
    ):
        text = json.dumps(fig.to_plotly_json()["data"]) + json.dumps(fig.to_plotly_json()["layout"])
        assert "<b>x" not in text and "&lt;b&gt;x&lt;/b&gt;" in text


def test_many_classes_fixture_has_about_thirty_classes() -> None:
    frame = pd.read_csv(FIXTURES / "many_classes.csv")
    assert list(frame.columns) == ["TITLE", "CATEGORY"]
    assert frame["CATEGORY"].nunique() == 30
    assert (FIXTURES / "many_classes.csv").stat().st_size < 1_000_000


# --- the Results page's rules -------------------------------------------------------------


def test_baseline_warning_ignores_a_gap_the_test_set_cannot_resolve() -> None:
    tiny = results_views.compare_with_baseline(
        0.9000, 0.9001, 42_000, macro_f1=0.89, baseline_f1=0.8901
    )
    assert tiny is not None and not tiny.baseline_better
    assert results_views.baseline_warning(tiny, ["class weights (Prepare)"]) is None
    # two points on 40,000 rows is far beyond a standard error (0.15 points)
    real = results_views.compare_with_baseline(0.88, 0.90, 40_000, macro_f1=0.87, baseline_f1=0.89)
    text = results_views.baseline_warning(real, ["class weights (Prepare)", "more epochs"])
    assert text is not None and "2.0 points of accuracy" in text
    assert "Try class weights (Prepare) or more epochs." in text
    # on a small test set one standard error is the bar: 1 point on 400 rows is noise
    small = results_views.compare_with_baseline(0.89, 0.90, 400)
    assert small is not None and not small.baseline_better
    assert results_views.compare_with_baseline(None, 0.9, 100) is None


def test_baseline_threshold_is_at_least_a_tenth_of_a_point() -> None:
    assert results_views.resolvable_gap(0.99, 10_000_000) == results_views.MIN_MEANINGFUL_GAP
    assert results_views.resolvable_gap(0.5, 100) == pytest.approx(0.05)


def test_metric_deltas_never_read_minus_zero() -> None:
    # accuracies differ by percentage points: 0.85 against 0.90 is -5.00 points, not -5.00 %
    verdict = results_views.compare_with_baseline(0.9, 0.9001, 40_000)
    # the delta is short (a fifth of a 1280 px page); the metric's help says against what
    assert results_views.metric_delta(0.8999, 0.9, verdict, percent=False) == {
        "delta": "±0.000",
        "delta_color": "off",
    }
    assert results_views.metric_delta(0.9, 0.90001, verdict, percent=True)["delta"] == (
        "±0.00 points"
    )
    small = results_views.metric_delta(0.9, 0.9008, verdict, percent=True)
    assert small["delta"] == "-0.08 points" and small["delta_color"] == "off"  # within the noise
    big = results_views.metric_delta(0.85, 0.9, verdict, percent=True)
    assert big["delta"] == "-5.00 points" and big["delta_color"] == "normal"
    assert results_views.metric_delta(None, 0.9, verdict, percent=True)["delta"] is None


def test_uses_class_weights_reads_the_runs_data_settings() -> None:
    from pipeline.core.config import DataConfig

    assert results_views.uses_class_weights(DataConfig(balance="class_weights"))
    assert not results_views.uses_class_weights(DataConfig(balance="cap", cap_per_class=5))


def test_top_confusions_lists_mistakes_with_share_of_true_class() -> None:
    names = ["business", "health", "science"]
    matrix = [[100, 3, 0], [20, 80, 0], [1, 0, 9999]]
    table = results_views.top_confusions(names, matrix)
    assert list(table.columns) == ["true class", "predicted as", "rows", "share of true class"]
    assert table.to_dict("records") == [
        {
            "true class": "health",
            "predicted as": "business",
            "rows": 20,
            "share of true class": "20.0%",
        },
        {
            "true class": "business",
            "predicted as": "health",
            "rows": 3,
            "share of true class": "2.9%",
        },
        {
            "true class": "science",
            "predicted as": "business",
            "rows": 1,
            "share of true class": "<0.1%",
        },
    ]
    assert results_views.top_confusions(names, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]).empty


def test_compare_selection_follows_the_picked_run() -> None:
    session: dict = {}
    runs = ["r1", "r2", "r3"]
    assert results_views.follow_picked_run(session, "cmp", "r1", runs) == ["r1"]
    session["cmp"] = ["r1", "r3"]  # the visitor adds r3
    assert results_views.follow_picked_run(session, "cmp", "r1", runs) == ["r1", "r3"]
    # the picker moves to r2: r1 is replaced, r3 stays
    assert results_views.follow_picked_run(session, "cmp", "r2", runs) == ["r2", "r3"]
    # the visitor removed the picked run; picking another one brings that one in
    session["cmp"] = ["r3"]
    assert results_views.follow_picked_run(session, "cmp", "r1", runs) == ["r1", "r3"]
    # a deleted run leaves the selection; a lost widget state starts again from the pick
    assert results_views.follow_picked_run(session, "cmp", "r1", ["r1"]) == ["r1"]
    del session["cmp"]
    assert results_views.follow_picked_run(session, "cmp", "r2", runs) == ["r2"]
