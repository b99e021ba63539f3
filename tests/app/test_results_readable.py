"""Results reads at any number of classes, and says its numbers one way (issue 31).

Found on a walk through the app: a 27-class confusion matrix squeezed to ~285 px beside
its table with overprinting values, and no list of the most confused pairs (item 5); a
stopped run's partial last epoch plotted as a collapse (9); a class-weighted validation
loss beside an unweighted test loss with no word why (10); accuracies as 0.9573 and
95.73 %, a colour bar running 0-0.8 beside % cells, an accuracy axis to 102 % (8); "Try
the default preset" told to runs of the default preset (13).

Figures are checked as plain objects; the page through AppTest on a copy of the
session's tiny run, its metrics edited to 4, 27 or more classes where that matters.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from apptest_support import assert_clean, figure_of, new_app, open_page, texts_of, values

from pipeline.core.presets import DEFAULT_PRESET, get_preset
from pipeline.evaluation.confusions import confused_pairs_limit, count_confused_pairs
from pipeline.runs.history import parse_history
from ui.figures import confusion as figures_confusion
from ui.figures import slices as figures_slices
from ui.figures.curves import (
    PARTIAL_NAME,
    PARTIAL_NOTE,
    best_epoch,
    compare_curves,
    training_curves,
)
from ui.figures.scores import metrics_vs_baseline
from ui.views import results as results_views

# --------------------------------------------------------------------------- helpers


def _matrix(n: int, diagonal: int, mistake: int) -> list[list[int]]:
    """``n`` classes: ``diagonal`` rows right per class, ``mistake`` rows of each class
    predicted as the next one."""
    return [
        [diagonal if i == j else (mistake if j == (i + 1) % n else 0) for j in range(n)]
        for i in range(n)
    ]


def _edit(path: Path, change) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def _with_classes(folder: Path, n: int) -> list[str]:
    """Give the run in ``folder`` a confusion matrix of ``n`` classes (and the labels
    to match; its per-row predictions, of four classes, are dropped); their names."""
    names = [f"publisher number {i}" for i in range(n)]

    def change(metrics: dict) -> None:
        metrics["confusion_matrix"] = {
            "labels": [f"c{i}" for i in range(n)],
            "names": names,
            "matrix": _matrix(n, 20, 3),
        }
        if "prior_shift" in metrics:  # one log prior per class
            metrics["prior_shift"]["log_prior"] = [0.0] * n

    _edit(folder / "metrics.json", change)
    codes = [f"c{i}" for i in range(n)]
    labels = {"classes": codes, "names": dict(zip(codes, names, strict=True))}
    (folder / "labels.json").write_text(json.dumps(labels), encoding="utf-8")
    (folder / "test_predictions.json").unlink()  # its rows name the four real classes
    return names


def _chart(at, title_part: str):
    found = [
        figure_of(chart)
        for chart in at.get("plotly_chart")
        if title_part in (figure_of(chart).layout.title.text or "")
    ]
    assert len(found) == 1, [figure_of(c).layout.title.text for c in at.get("plotly_chart")]
    return found[0]


def _charts_in_columns(at) -> list[str]:
    """Titles of the plotly charts drawn inside ``st.columns``."""
    return [
        figure_of(chart).layout.title.text
        for column in at.columns
        for chart in column.get("plotly_chart")
    ]


def _pairs_table(at) -> pd.DataFrame:
    (table,) = [t.value for t in at.dataframe if "predicted as" in t.value.columns]
    return table


def _metric(at, label: str):
    (found,) = [m for m in at.metric if m.label == label]
    return found


def _column_config(at, column: str) -> dict:
    """The ``st.column_config`` of ``column`` in the one dataframe that has it."""
    configs = []
    for frame in at.dataframe:
        spec = json.loads(frame.proto.columns or "{}")
        if column in frame.value.columns and column in spec:
            configs.append(spec[column])
    assert len(configs) == 1, configs
    return configs[0]


# --------------------------------------------------------------------------- item 5


@pytest.mark.parametrize("n", [2, 4, 27, 50, 100])
def test_cell_values_are_shown_only_where_they_fit(n: int) -> None:
    names = [f"publisher number {i}" for i in range(n)]
    fig = figures_confusion.confusion_matrix_heatmap(names, _matrix(n, 1234, 7))
    heat = fig.data[0]
    assert heat.textfont.size >= 10
    cell = dataclasses.replace(
        figures_confusion.cell_geometry(n, len(names[-1])), font=heat.textfont.size
    )
    shown = {text for row in heat.text for text in row if text}
    assert all(figures_confusion.fits(text, cell) for text in shown), (shown, cell)
    # the hover text always has every cell's rows and share
    assert "1,234 rows, 99.4% of the true class" in heat.customdata[0][0]
    assert cell.height >= figures_confusion.MIN_CELL_PX  # a class label still reads
    if n <= 4:  # a few classes: every value in its cell, none blank
        assert heat.text[0][0] == "1,234" and heat.text[0][1] == "7"
        assert fig.layout.title.subtitle.text is None
    if n == 27:  # the mistakes fit, the 4-digit diagonal does not: blank, and said
        assert heat.text[0][1] == "7" and heat.text[0][0] == ""
        assert fig.layout.title.subtitle.text == figures_confusion.HIDDEN_VALUES_NOTE
    if n >= 50:  # cells of a few pixels: no text at all, hover only
        assert not shown
        assert fig.layout.title.subtitle.text == figures_confusion.HIDDEN_VALUES_NOTE


def test_shares_fit_at_27_classes_and_the_colour_bar_reads_in_percent() -> None:
    names = [f"publisher number {i}" for i in range(27)]
    fig = figures_confusion.confusion_matrix_heatmap(names, _matrix(27, 30, 10), normalize=True)
    heat = fig.data[0]
    assert heat.text[0][1] == "25"  # 10 of 40 rows: the colour bar says "%"
    assert heat.text[0][0] == "75"
    assert heat.colorbar.tickformat == ".0%"  # 0-100 % beside % cells, not 0-0.8
    assert (heat.zmin, heat.zmax) == (0, 1)
    counts = figures_confusion.confusion_matrix_heatmap(names, _matrix(27, 30, 10)).data[0]
    assert counts.colorbar.tickformat == ",d" and counts.colorbar.title.text == "rows"


def test_the_matrix_takes_the_width_from_about_ten_classes() -> None:
    assert not figures_confusion.full_width(4)
    assert not figures_confusion.full_width(9)
    assert figures_confusion.full_width(10) and figures_confusion.full_width(100)
    wide, narrow = figures_confusion.cell_geometry(27), figures_confusion.cell_geometry(9)
    assert wide.width > 18  # 27 classes across the page: cells for two or three digits
    assert narrow.width > 18


def test_most_confused_pairs_sorted_with_share_of_the_true_class() -> None:
    names = ["a", "b", "c"]
    table = results_views.top_confusions(names, [[90, 10, 0], [1, 8, 1], [0, 30, 70]])
    assert list(table.columns) == ["true class", "predicted as", "rows", "share of true class"]
    assert list(table["rows"]) == [30, 10, 1, 1]
    assert list(table["share of true class"]) == ["30.0%", "10.0%", "10.0%", "10.0%"]
    assert confused_pairs_limit(4) == 10
    assert confused_pairs_limit(27) == 27
    assert confused_pairs_limit(500) == 50
    assert count_confused_pairs([[90, 10, 0], [1, 8, 1], [0, 30, 70]]) == 4
    assert results_views.confused_pairs_caption(2, 4).endswith("(the 2 largest of 4 pairs).")


def test_a_27_class_matrix_is_drawn_across_the_page_with_its_pairs_below(
    runs_dir, small_source, saved_run
) -> None:
    names = _with_classes(runs_dir / saved_run, 27)
    at = open_page(new_app(small_source), "results")
    assert_clean(at)
    fig = _chart(at, "Confusion matrix")
    assert list(fig.layout.yaxis.ticktext) == names
    assert not any("Confusion matrix" in title for title in _charts_in_columns(at))
    pairs = _pairs_table(at)
    assert list(pairs.columns) == ["true class", "predicted as", "rows", "share of true class"]
    assert len(pairs) == 27 and set(pairs["rows"]) == {3}
    assert "Most confused pairs" in texts_of(at)


def test_a_4_class_matrix_sits_beside_its_pairs(runs_dir, small_source, saved_run) -> None:
    at = open_page(new_app(small_source), "results")
    assert_clean(at)
    assert any("Confusion matrix" in title for title in _charts_in_columns(at))
    assert list(_pairs_table(at).columns)[-1] == "share of true class"


# --------------------------------------------------------------------------- item 9

STOPPED = parse_history(
    [
        {"epoch": 1, "loss": 0.9, "accuracy": 0.80, "val_loss": 0.50, "val_accuracy": 0.900},
        {"epoch": 2, "loss": 0.6, "accuracy": 0.88, "val_loss": 0.40, "val_accuracy": 0.923},
        {
            "epoch": 3,
            "loss": 0.5,
            "accuracy": 0.90,
            "val_loss": 0.30,  # one batch: lower than any whole epoch's, and meaningless
            "val_accuracy": 0.854,
            "partial": True,
        },
    ]
)


def test_a_partial_last_epoch_is_a_hollow_marker_not_a_point_of_the_line() -> None:
    fig = training_curves(STOPPED, "accuracy")
    lines = {trace.name: trace for trace in fig.data if trace.mode == "lines+markers"}
    assert list(lines["validation"].x) == [1, 2]  # the line stops at the last whole epoch
    assert list(lines["validation"].y) == [0.9, 0.923]
    (marked,) = [t for t in fig.data if t.showlegend is not False and t.mode == "markers"]
    assert marked.name == PARTIAL_NAME
    hollow = [t for t in fig.data if t.name == PARTIAL_NAME]
    assert len(hollow) == 2  # train and validation
    assert all(t.marker.symbol == "circle-open" and list(t.x) == [3] for t in hollow)
    assert all(PARTIAL_NOTE in t.hovertemplate for t in hollow)
    # the cut epoch's one-batch validation loss is never "the best epoch"
    assert best_epoch(STOPPED) == 2


def test_compare_runs_marks_a_partial_epoch_too() -> None:
    fig = compare_curves({"a · fast": STOPPED, "b · fast": STOPPED[:2]}, "val_accuracy")
    whole = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in whole] == ["a · fast", "b · fast"]
    assert [list(t.x) for t in whole] == [[1, 2], [1, 2]]
    (hollow,) = [t for t in fig.data if t.name == PARTIAL_NAME]
    assert list(hollow.x) == [3] and hollow.marker.symbol == "circle-open"
    assert hollow.marker.color == whole[0].line.color  # the run's own colour
    assert fig.layout.showlegend is True  # the run names, even for one run
    assert fig.layout.xaxis.tickformat == "d"


def test_results_marks_a_stopped_run_s_partial_epoch(runs_dir, small_source, saved_run) -> None:
    folder = runs_dir / saved_run
    _edit(folder / "history.json", lambda rows: rows[-1].update(partial=True))
    at = open_page(new_app(small_source), "results")
    assert_clean(at)
    for title in ("Accuracy", "val accuracy", "val loss"):
        fig = _chart(at, title)
        (legend,) = [t for t in fig.data if t.name == PARTIAL_NAME and t.showlegend]
        assert legend.marker.symbol == "circle-open", title


# --------------------------------------------------------------------------- item 10


def test_a_class_weighted_run_says_why_its_losses_differ(runs_dir, small_source, saved_run) -> None:
    _edit(
        runs_dir / saved_run / "config.json",
        lambda c: c["data"].update(balance="class_weights", cap_per_class=None),
    )
    at = open_page(new_app(small_source), "results")
    assert_clean(at)
    assert "weighted its loss by class" in _metric(at, "Test loss").proto.help
    assert "(weighted by class, as trained)" in _chart(at, "Loss").layout.title.text
    assert results_views.WEIGHTED_LOSS_NOTE in texts_of(at)
    assert "trained with class weights" in texts_of(at)  # under Compare runs' val loss


def test_an_unweighted_run_says_nothing_of_weights(runs_dir, small_source, saved_run) -> None:
    at = open_page(new_app(small_source), "results")
    assert_clean(at)
    assert "weighted" not in _metric(at, "Test loss").proto.help
    assert _chart(at, "Loss").layout.title.text == "Loss"
    assert "weighted by class" not in texts_of(at)


# --------------------------------------------------------------------------- item 13


def test_advice_follows_the_run() -> None:
    default = get_preset(DEFAULT_PRESET)
    stock = results_views.baseline_advice(default, STOPPED[:2], stopped=False)
    assert not any("default preset" in phrase for phrase in stock)
    assert any("accurate preset" in phrase for phrase in stock)
    assert not any("class weights" in phrase for phrase in stock)  # the default has them
    seed = results_views.baseline_advice(get_preset("seed"), STOPPED[:2], stopped=False)
    assert f"the default preset ({DEFAULT_PRESET})" in seed
    assert "class weights (Prepare)" in seed  # the seed preset downsamples
    changed = get_preset(DEFAULT_PRESET, ngram_dim=8)
    (own,) = [a for a in results_views.baseline_advice(changed, [], stopped=False) if "own" in a]
    assert "this run changed" in own
    stopped = results_views.baseline_advice(default, STOPPED, stopped=True)
    assert stopped[0].startswith("training it to the end")
    # more epochs only for a run whose last allowed epoch was still its best
    short = get_preset(DEFAULT_PRESET, epochs=2)
    best_last = [STOPPED[0], STOPPED[1].marked_best(True)]
    assert any("more epochs" in a for a in results_views.baseline_advice(short, best_last))
    best_first = [STOPPED[0].marked_best(True), STOPPED[1]]
    assert not any("more epochs" in a for a in results_views.baseline_advice(short, best_first))


def test_a_default_preset_run_is_not_told_to_try_the_default_preset(
    runs_dir, small_source, saved_run
) -> None:
    stock = get_preset(DEFAULT_PRESET).to_dict()

    def as_default(config: dict) -> None:
        config.update(preset=DEFAULT_PRESET, model=stock["model"], train=stock["train"])

    folder = runs_dir / saved_run
    _edit(folder / "config.json", as_default)
    _edit(folder / "metrics.json", lambda m: m["baseline"].update(test_accuracy=0.999))
    at = open_page(new_app(small_source), "results")
    assert_clean(at)
    (warning,) = [w.value for w in at.warning if "baseline beats" in w.value]
    assert "default preset" not in warning
    assert "accurate preset" in warning


# --------------------------------------------------------------------------- item 8


def test_results_numbers_read_one_way(runs_dir, small_source, saved_run) -> None:
    at = open_page(new_app(small_source), "results")
    assert_clean(at)
    for label in ("Test accuracy", "Balanced accuracy", "Baseline accuracy"):
        assert re.fullmatch(r"[<>]?\d{1,3}\.\d%", _metric(at, label).value), label
    assert re.fullmatch(r"\d\.\d{3}", _metric(at, "Macro F1").value)
    delta = _metric(at, "Test accuracy").proto.delta
    assert re.fullmatch(r"(±0\.00|[+-]\d+\.\d\d) points", delta), delta
    assert _metric(at, "Test accuracy").proto.help == results_views.DELTA_HELP
    # shares in tables read "95.7%" (Streamlit's percent format, one decimal)
    for column in ("precision", "recall", "test accuracy", "baseline accuracy"):
        config = _column_config(at, column)
        assert config["type_config"]["format"] == "percent", column
        assert config["type_config"]["step"] == 0.001, column
    # bars carry their values in their own unit; no value axis to run past 100 %
    bars = _chart(at, "Test metrics side by side")
    labels = [text for trace in bars.data for text in trace.text]
    assert all(re.fullmatch(r"[<>]?\d{1,3}\.\d%|\d\.\d{3}", text) for text in labels), labels
    assert bars.layout.yaxis.showticklabels is False
    accuracy = _chart(at, "Accuracy")
    assert accuracy.layout.yaxis.autorangeoptions.clipmax == 1  # never past 100 %
    assert "%" in accuracy.layout.yaxis.tickformat


def test_figures_say_shares_in_percent_and_stop_at_100() -> None:
    fig = metrics_vs_baseline(
        {"accuracy": 0.9573, "macro_f1": 0.88}, {"accuracy": 0.95, "macro_f1": 0.87}
    )
    assert [list(trace.text) for trace in fig.data] == [["95.7%", "0.880"], ["95.0%", "0.870"]]
    slices = pd.DataFrame(
        {
            "value": ["2014-03-10", "2014-03-17"],
            "rows": [40, 1234],
            "errors": [0, 100],
            "accuracy": [1.0, 0.919],
            "ci_low": [0.91, 0.9],
            "ci_high": [1.0, 0.93],
        }
    )
    weeks = figures_slices.slice_accuracy_over_time(slices, 0.95, column="TIMESTAMP")
    assert tuple(weeks.layout.yaxis.range)[1] == 1.0  # never 102 %
    assert weeks.layout.yaxis.tickformat == ".0%"
    assert values(weeks.data[3].y) == [40, 1234]


def test_numeric_bins_read_as_ranges() -> None:
    assert figures_slices.readable_bin("[3, 83715.8)") == "3 – 83,716"
    assert figures_slices.readable_bin("[338000, 422937]") == "338,000 – 422,937"
    assert figures_slices.readable_bin("(missing)") == "(missing)"
    assert figures_slices.readable_bin("Reuters") == "Reuters"


def test_a_slice_s_row_count_has_room_right_of_the_bars() -> None:
    """ "89,398 rows" of the publishers' "other" slice read "89,398 ro" at 1280 px: the
    figure's right margin must hold the longest count (plotly's 12 px font, ~7 px a
    character), as the counts sit right of the plot area."""
    slices = pd.DataFrame(
        {
            "value": ["Reuters", "other"],
            "rows": [1_234, 89_398],
            "errors": [40, 3_000],
            "accuracy": [0.97, 0.966],
            "ci_low": [0.96, 0.965],
            "ci_high": [0.98, 0.967],
            "other": [False, True],
            "values": [1, 7_494],
        }
    )
    fig = figures_slices.slice_accuracy_bars(slices, 0.96, column="PUBLISHER")
    # Anchored to the plot area's right edge (paper x = 1) and drawn in the margin: plotly
    # does not draw a trace's text at an x outside the axis range (a first fix put the
    # counts at x = 1.03 beyond a 0-1.02 range, and the browser showed none).
    counts = [a for a in fig.layout.annotations if a.text and a.text.endswith("rows")]
    assert [a.text for a in counts] == ["1,234 rows", "89,398 rows"]
    assert all((a.xref, a.x, a.xanchor, a.yref) == ("paper", 1, "left", "y") for a in counts)
    assert not [trace for trace in fig.data if getattr(trace, "mode", None) == "text"]
    longest = max(len(a.text) for a in counts)
    assert fig.layout.margin.r >= 7 * longest + 10
